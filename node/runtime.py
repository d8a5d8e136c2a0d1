"""
The models a node serves, and their batched execution.

Introduction
------------
:class:`ModelRuntime` loads model files (:func:`models.store.load_model_file`), names each by its
model id, turns a request's input into the int8 vector the model takes (:meth:`ServedModel.prepare`:
int8 values as they are, floats by the model's deterministic input quantizer
:func:`protocol.quantize.quantize_input`), and runs a whole micro-batch at once
(:meth:`ModelRuntime.run`): the ``torch`` runtime (:mod:`protocol.runtime_torch`, bit-exact with the
numpy reference; ``float64`` matmul on CPU, which is exact for int8 operands) or the numpy reference
itself (:func:`protocol.model.forward_trace_batch`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from models.store import load_model_file
from protocol.errors import OpzkError
from protocol.model import QuantizedModel, forward_trace_batch
from protocol.quantize import InvalidFloatInputError, quantize_input

if TYPE_CHECKING:
    from .cheats import CheatPlan


class ModelLoadError(OpzkError):
    """A model file cannot be served."""


class InputError(OpzkError):
    """A request's input does not fit the model (the message is the client-facing reason)."""


class UnknownModelError(OpzkError):
    """The node does not serve this model."""


Backend = Literal["torch", "numpy"]


@dataclass(frozen=True)
class ServedModel:
    """One served model and what the node needs to know about it."""

    model_id: bytes
    model: QuantizedModel
    path: Path
    file_hash: bytes
    dims: tuple[int, ...]
    """``d_0 … d_L``: the width of every trace vector."""
    hidden: frozenset[int]
    """Trace positions strictly inside sensitive partitions (never stored, never served)."""

    @property
    def in_dim(self) -> int:
        """Input width."""
        return self.dims[0]

    @property
    def out_dim(self) -> int:
        """Output width."""
        return self.dims[-1]

    @property
    def accepts_float(self) -> bool:
        """Whether the model defines an input scale for float requests."""
        return self.model.input_scale is not None

    def prepare(
        self, values: Sequence[int] | None, floats: Sequence[float] | None
    ) -> npt.NDArray[np.int8]:
        """
        The int8 input for a request that gave ``values`` (int8) or ``floats``.

        Raises :class:`InputError` with the reason: neither or both given, wrong length, a value
        outside int8, a non-finite float, or floats for a model without an input scale.
        """
        if (values is None) == (floats is None):
            raise InputError("give exactly one of `input` (int8 values) or `input_float`")
        given = values if values is not None else floats
        assert given is not None
        field = "input" if values is not None else "input_float"
        if len(given) != self.in_dim:
            raise InputError(
                f"`{field}` has {len(given)} values; model 0x{self.model_id.hex()} takes "
                f"{self.in_dim}"
            )
        if values is not None:
            if min(values) < -128 or max(values) > 127:
                bad = next(i for i, v in enumerate(values) if not -128 <= v <= 127)
                raise InputError(f"`input[{bad}]` = {values[bad]} is outside -128..127")
            return np.array(values, dtype=np.int8)
        scale = self.model.input_scale
        if scale is None:
            raise InputError(
                f"model 0x{self.model_id.hex()} has no input scale: send int8 values in `input`"
            )
        try:
            return quantize_input(np.asarray(floats, dtype=np.float64), scale)
        except InvalidFloatInputError as exc:
            raise InputError(f"`input_float`: {exc}") from exc


def serve_model(path: Path) -> ServedModel:
    """Loads a model file for serving."""
    try:
        loaded = load_model_file(path)
    except OSError as exc:
        raise ModelLoadError(f"cannot read model file {path}: {exc.strerror}") from exc
    model = loaded.model
    dims = (model.layers[0].in_dim, *(layer.out_dim for layer in model.layers))
    return ServedModel(
        model_id=bytes(model.model_id()),
        model=model,
        path=path,
        file_hash=bytes(loaded.file_hash),
        dims=dims,
        hidden=model.hidden_indices(),
    )


class ModelRuntime:
    """The served models, each ready to run batches."""

    def __init__(
        self,
        served: Sequence[ServedModel],
        *,
        backend: Backend = "torch",
        device: str = "cpu",
        threads: int | None = None,
    ) -> None:
        self.models: Mapping[bytes, ServedModel] = {s.model_id: s for s in served}
        if len(self.models) != len(served):
            raise ModelLoadError("two model files have the same model id")
        self.backend: Backend = backend
        self.cheats: CheatPlan | None = None
        """Cheat modes (tests and the demo, Anvil only; :mod:`node.cheats`); ``None``: honest."""
        self._torch: dict[bytes, object] = {}
        if backend == "torch":
            import torch

            from protocol.runtime_torch import TorchRuntime, default_device

            if threads is not None:
                torch.set_num_threads(threads)
            dev = default_device() if device == "auto" else torch.device(device)
            # float64 matmul is exact for int8 operands (protocol.runtime_torch) and uses BLAS,
            # several times faster than int64 on CPU for micro-batches.
            for s in served:
                self._torch[s.model_id] = TorchRuntime(s.model, dev, matmul="float64")
            self.device = str(dev)
        else:
            self.device = "cpu"

    @classmethod
    def load(
        cls,
        paths: Sequence[Path],
        *,
        backend: Backend = "torch",
        device: str = "cpu",
        threads: int | None = None,
    ) -> ModelRuntime:
        """Loads every model file in ``paths``."""
        return cls([serve_model(p) for p in paths], backend=backend, device=device, threads=threads)

    def get(self, model_id: bytes) -> ServedModel:
        """The served model ``model_id``; :class:`UnknownModelError` if not served."""
        served = self.models.get(model_id)
        if served is None:
            known = ", ".join("0x" + m.hex() for m in self.models)
            raise UnknownModelError(
                f"model 0x{model_id.hex()} is not served by this node (served: {known})"
            )
        return served

    def run(self, model_id: bytes, inputs: npt.NDArray[np.int8]) -> list[npt.NDArray[np.int8]]:
        """``[H_0, …, H_L]`` for a batch ``inputs`` of shape ``(B, n)``."""
        served = self.get(model_id)
        if self.backend == "torch":
            from protocol.runtime_torch import TorchRuntime

            runtime = self._torch[model_id]
            assert isinstance(runtime, TorchRuntime)
            return [h.cpu().numpy() for h in runtime.run_batch(inputs)]
        return forward_trace_batch(served.model, inputs)
