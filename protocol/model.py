"""
A quantized model in memory: its ``QLinear`` layers, its partitions, and its forward trace.

Introduction
------------
:class:`QuantizedModel` holds what a model owner knows (every layer's int8 weights, int32 biases,
multiplier, shift and activation) together with the partition split. From it follow everything the
chain sees (:meth:`QuantizedModel.headers`, :meth:`QuantizedModel.weight_roots`,
:meth:`QuantizedModel.model_id`) and the reference forward pass, :func:`forward_trace`, which
returns every activation ``h_0 … h_L`` (DESIGN.md §3, via :func:`protocol.requant.qlinear`).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from .activations import Int8VectorLike, int8_array, int8_bytes
from .model_id import LayerHeader, PartitionSpec, hidden_trace_indices, model_id
from .requant import Activation, qlinear
from .types import ZERO_HASH, Hash32, ModelId
from .weights import weight_root


@dataclass(frozen=True)
class QLinearLayer:
    """
    One ``QLinear(n → m)`` layer: ``weights`` int8 ``(m, n)``, ``biases`` int32 ``(m,)``.
    """

    weights: npt.NDArray[np.int8]
    biases: npt.NDArray[np.int32]
    multiplier: int
    shift: int
    activation: Activation

    @property
    def in_dim(self) -> int:
        """``n``, the input width."""
        return int(self.weights.shape[1])

    @property
    def out_dim(self) -> int:
        """``m``, the output width."""
        return int(self.weights.shape[0])

    def header(self) -> LayerHeader:
        """The layer's registry header."""
        return LayerHeader(
            self.in_dim, self.out_dim, self.multiplier, self.shift, int(self.activation)
        )

    def forward(self, x: Int8VectorLike) -> npt.NDArray[np.int8]:
        """The layer's output on ``x`` (the spec's integer semantics)."""
        return qlinear(self.weights, self.biases, x, self.multiplier, self.shift, self.activation)


@dataclass(frozen=True)
class QuantizedModel:
    """Layers ``1..L`` and the partitions that cover them."""

    layers: tuple[QLinearLayer, ...]
    partitions: tuple[PartitionSpec, ...]

    def headers(self) -> list[LayerHeader]:
        """One header per layer."""
        return [layer.header() for layer in self.layers]

    def is_sensitive_layer(self, layer: int) -> bool:
        """Whether layer ``layer`` (1..L) belongs to a sensitive partition."""
        return any(p.sensitive and p.first_layer <= layer <= p.last_layer for p in self.partitions)

    @cached_property
    def _weight_roots(self) -> tuple[Hash32, ...]:
        return tuple(
            ZERO_HASH if self.is_sensitive_layer(i + 1) else weight_root(lay.weights, lay.biases)
            for i, lay in enumerate(self.layers)
        )

    def weight_roots(self) -> list[Hash32]:
        """Per layer: its weight root if public, ``bytes32(0)`` if sensitive."""
        return list(self._weight_roots)

    def model_id(self) -> ModelId:
        """The model's id (:func:`protocol.model_id.model_id`)."""
        return model_id(self.headers(), self.weight_roots(), list(self.partitions))

    def hidden_indices(self) -> frozenset[int]:
        """Trace positions strictly inside sensitive partitions."""
        return hidden_trace_indices(list(self.partitions))


def all_public(layers: Sequence[QLinearLayer]) -> QuantizedModel:
    """A model whose layers form one public partition."""
    part = PartitionSpec(1, len(layers), False, ZERO_HASH, ZERO_HASH)
    return QuantizedModel(layers=tuple(layers), partitions=(part,))


def forward_trace(model: QuantizedModel, x: Int8VectorLike) -> list[npt.NDArray[np.int8]]:
    """``[h_0, h_1, …, h_L]``: the input and every layer's output."""
    h = int8_array(int8_bytes(x, "input vector"))
    trace = [h]
    for layer in model.layers:
        h = layer.forward(h)
        trace.append(h)
    return trace
