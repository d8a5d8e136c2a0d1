"""
A quantized model in memory: its ``QLinear`` layers, its partitions, and its forward trace.

Introduction
------------
:class:`QuantizedModel` holds what a model owner knows (every layer's int8 weights, int32 biases,
multiplier, shift and activation) together with the partition split. From it follow everything the
chain sees (:meth:`QuantizedModel.headers`, :meth:`QuantizedModel.weight_roots`,
:meth:`QuantizedModel.model_id`) and the reference forward pass, :func:`forward_trace`, which
returns every activation ``h_0 … h_L`` (DESIGN.md §3, via :func:`protocol.requant.qlinear`);
:func:`forward_trace_batch` is the same pass vectorized over a batch of inputs, bit-exact with it.

A valid model keeps every accumulator ``|z| < 2^31`` for *every* int8 input of every layer:
:func:`accumulator_bound` computes the exact worst case of a layer and
:func:`check_accumulator_bounds` refuses a model that reaches ``2^31``.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from .activations import Int8VectorLike, int8_array, int8_bytes
from .exceptions import InvalidActivationError, InvalidModelStructureError
from .model_id import LayerHeader, PartitionSpec, hidden_trace_indices, model_id
from .requant import ACCUMULATOR_LIMIT, INT8_MAX, INT8_MIN, Activation, qlinear, requant_array
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
    input_scale: float | None = None
    """Real value of one input step: a float input ``x`` is fed to the model as
    ``quantize_input(x, input_scale)`` (:func:`protocol.quantize.quantize_input`); ``None`` when the
    model only takes int8 inputs. Not part of the model id (the chain sees int8 vectors only)."""
    output_scale: float | None = None
    """Real value of one output step (``y_L · output_scale`` approximates the float model's
    output); ``None`` when unknown. Not part of the model id."""

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


class AccumulatorRangeError(InvalidModelStructureError):
    """
    Some int8 input drives a layer's accumulator to ``|z| >= 2^31``: the model is invalid.

    Attributes
    ----------
    layer :
        The layer (numbered from 1).
    row :
        The output row with the largest worst case.
    bound :
        That row's exact worst-case ``|z|`` over all int8 inputs.
    """

    def __init__(self, layer: int, row: int, bound: int) -> None:
        self.layer = layer
        self.row = row
        self.bound = bound
        super().__init__(
            f"layer {layer}: an int8 input drives |z| of row {row} up to {bound} >= 2^31 "
            f"(a valid model keeps |z| < 2^31 for every int8 input)"
        )


def accumulator_bounds(layer: QLinearLayer) -> npt.NDArray[np.int64]:
    """
    The exact worst-case ``|z_j|`` of every row of ``layer`` over all int8 inputs.

    ``z_j = Σ_i W_ji·x_i + b_j`` is largest with ``x_i = 127`` where ``W_ji > 0`` and
    ``x_i = −128`` where ``W_ji < 0``, and smallest the other way round, so with
    ``P_j = Σ max(W_ji, 0)`` and ``N_j = Σ max(−W_ji, 0)``

        max z_j = 127·P_j + 128·N_j + b_j,    min z_j = −128·P_j − 127·N_j + b_j

    and the worst case is ``max(max z_j, −min z_j)``: attained by an int8 input, hence exact (the
    simpler ``128·Σ|W_ji| + |b_j|`` is an upper bound of it).

    Parameters
    ----------
    layer :
        The layer; its weights must be int8 and its biases fit int32.

    Returns
    -------
    bounds : `numpy.ndarray`
        ``int64`` of shape ``(m,)`` (no overflow: ``n·2^15 + 2^31 < 2^63`` for any ``n < 2^47``).
    """
    weights = layer.weights.astype(np.int64)
    positive = np.clip(weights, 0, None).sum(axis=1)
    negative = np.clip(-weights, 0, None).sum(axis=1)
    biases = layer.biases.astype(np.int64)
    highest = INT8_MAX * positive - INT8_MIN * negative + biases
    lowest = INT8_MIN * positive - INT8_MAX * negative + biases
    bounds: npt.NDArray[np.int64] = np.maximum(highest, -lowest)
    return bounds


def accumulator_bound(layer: QLinearLayer) -> int:
    """
    The exact worst-case ``|z|`` of ``layer`` over all int8 inputs and all rows.

    Parameters
    ----------
    layer :
        The layer.

    Returns
    -------
    bound : `int`
        ``max_j`` of :func:`accumulator_bounds`; the layer is valid iff ``bound < 2^31``.
    """
    return int(accumulator_bounds(layer).max())


def check_accumulator_bounds(layers: Sequence[QLinearLayer], first_layer: int = 1) -> None:
    """
    Refuse layers that some int8 input drives to ``|z| >= 2^31``.

    Parameters
    ----------
    layers :
        The layers to check, in order.
    first_layer :
        The number of ``layers[0]`` in the model, for the error message.

    Raises
    ------
    AccumulatorRangeError
        For the first layer whose exact worst case (:func:`accumulator_bounds`) reaches ``2^31``,
        naming the layer, the row and the bound.
    """
    for number, layer in enumerate(layers, start=first_layer):
        bounds = accumulator_bounds(layer)
        row = int(np.argmax(bounds))
        if int(bounds[row]) >= ACCUMULATOR_LIMIT:
            raise AccumulatorRangeError(number, row, int(bounds[row]))


def forward_trace_batch(
    model: QuantizedModel, inputs: npt.NDArray[np.int8]
) -> list[npt.NDArray[np.int8]]:
    """
    ``[H_0, H_1, …, H_L]`` for a batch: row ``r`` of ``H_ℓ`` is ``forward_trace(model, X[r])[ℓ]``.

    The same integer semantics as :func:`forward_trace` (``int64`` matmul, then
    :func:`protocol.requant.requant_array`), vectorized over the batch; bit-exact with it.

    Parameters
    ----------
    model :
        The model (every layer's weights present).
    inputs :
        ``X``, an ``int8`` array of shape ``(B, n)`` with ``n`` the first layer's ``in_dim``;
        ``B = 0`` is allowed.

    Returns
    -------
    trace : `list[numpy.ndarray]`
        ``L + 1`` ``int8`` arrays, ``H_ℓ`` of shape ``(B, d_ℓ)``; ``H_0`` is a copy of ``X``.

    Raises
    ------
    InvalidActivationError
        If ``inputs`` is not a two-dimensional ``int8`` array of the right width.
    InvalidRequantParameterError
        If an accumulator leaves ``|z| < 2^31`` (only possible for a model that fails
        :func:`check_accumulator_bounds`).
    """
    if not isinstance(inputs, np.ndarray) or inputs.dtype != np.int8 or inputs.ndim != 2:
        raise InvalidActivationError("a batch of inputs must be a two-dimensional int8 array")
    width = model.layers[0].in_dim
    if inputs.shape[1] != width:
        raise InvalidActivationError(
            f"a batch of inputs must have {width} columns, got {inputs.shape[1]}"
        )
    h: npt.NDArray[np.int8] = np.array(inputs, dtype=np.int8, copy=True)
    trace = [h]
    for layer in model.layers:
        # Exact in int64, as in protocol.requant.qlinear.
        z = h.astype(np.int64) @ layer.weights.astype(np.int64).T + layer.biases.astype(np.int64)
        h = requant_array(z, layer.multiplier, layer.shift, layer.activation)
        trace.append(h)
    return trace
