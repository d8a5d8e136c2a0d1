"""
A batched ``torch`` runtime, bit-exact with the ``numpy`` reference on CPU and CUDA.

Introduction
------------
:func:`protocol.model.forward_trace` (one input) and :func:`protocol.model.forward_trace_batch`
(a batch) are the spec. :class:`TorchRuntime` computes the same trace ``[H_0, …, H_L]`` for a batch
``X`` of shape ``(B, n)`` with ``torch``, on any device, with the same bits:

- **Matmul, ``int64``** (CPU only, kept as a cross-check): ``Z = X·Wᵀ + b`` on ``int64`` tensors is
  integer arithmetic, exact in any summation order (every partial sum is below ``n·2^14 + 2^31``,
  far from ``2^63``).
- **Matmul, ``float64``** (the default everywhere: ``torch`` has no integer matmul on CUDA, and on
  CPU it runs ~13x faster than ``int64``): ``X`` and ``W`` are converted to ``float64`` (exact:
  they are int8), multiplied, and the product converted back to ``int64`` before the bias is added.
  This is exact: every product ``W_ji·x_i`` is an integer of magnitude ``<= 2^14``, and every
  partial sum, in whatever order, blocking or fused multiply-add the BLAS uses, is an integer of
  magnitude ``<= Σ_i |W_ji|·|x_i| <= n·2^14``. For ``n <= 2^38`` (checked:
  :data:`FLOAT64_EXACT_MAX_WIDTH`) that is ``< 2^53``, and binary64 represents every integer below
  ``2^53`` exactly, so no operation rounds. TF32 only affects float32 matmuls; it is switched off
  anyway (``torch.backends.cuda.matmul.allow_tf32 = False``, ``torch.backends.cudnn.allow_tf32 =
  False``) when a CUDA runtime is built.
- **Requant** on ``int64``: ``(z·M + 2^(k−1)) >> k`` with ``torch.bitwise_right_shift``, an
  arithmetic shift on signed integers on CPU and CUDA (floor for negatives, as the spec says;
  the tests check it), then ``clamp`` and a cast to ``int8``. No overflow: ``|z| < 2^31`` (the
  model's accumulator rule, checked when the runtime is built) and ``M < 2^31`` keep
  ``|z·M| + 2^61 < 2^63``.

The model is checked once (:func:`protocol.model.check_accumulator_bounds`), so a call never has
to look at the accumulators: any int8 input keeps them in range. Importing this module never
touches CUDA; CUDA is used only when a ``cuda`` device is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import torch

from .exceptions import InvalidActivationError
from .model import QuantizedModel, check_accumulator_bounds
from .requant import INT8_MAX, INT8_MIN, Activation

MatmulMode = Literal["int64", "float64"]
"""How ``X·Wᵀ`` is computed; both are exact (module docstring)."""

FLOAT64_EXACT_MAX_WIDTH = 2**38
"""Widest layer whose ``float64`` matmul is exact: ``n·2^14 < 2^53`` needs ``n <= 2^38``."""


@dataclass(frozen=True)
class _DeviceLayer:
    weights_t: torch.Tensor
    """``Wᵀ``, shape ``(n, m)``, ``int64`` or ``float64`` on the device."""
    biases: torch.Tensor
    """``b`` as ``int64`` on the device."""
    multiplier: int
    shift: int
    low: int


def disable_tf32() -> None:
    """Switch TF32 off for CUDA matmuls and cuDNN (process-wide ``torch`` flags)."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


def default_device() -> torch.device:
    """``cuda`` when a CUDA device is available, else ``cpu``."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class TorchRuntime:
    """
    A model's weights on a device, ready to run batches bit-exact with the reference.

    Parameters
    ----------
    model :
        The model; every layer's weights must be present, and the model must satisfy the
        accumulator rule.
    device :
        A ``torch`` device (``"cpu"``, ``"cuda"``, ``"cuda:1"`` …); ``cpu`` by default.
    matmul :
        ``"int64"`` or ``"float64"``; by default ``float64`` (exact, and ~13x faster than
        ``int64`` on CPU, where the int64 path stays available as a cross-check).

    Raises
    ------
    AccumulatorRangeError
        If some int8 input drives an accumulator to ``|z| >= 2^31``.
    ValueError
        If ``matmul`` is unknown, ``int64`` is asked for on a non-CPU device, or a layer is too
        wide for an exact ``float64`` matmul.
    """

    def __init__(
        self,
        model: QuantizedModel,
        device: str | torch.device = "cpu",
        *,
        matmul: MatmulMode | None = None,
    ) -> None:
        check_accumulator_bounds(model.layers)
        self.device = torch.device(device)
        mode: MatmulMode = matmul or "float64"
        if mode not in ("int64", "float64"):
            raise ValueError(f"matmul must be 'int64' or 'float64', got {mode!r}")
        if mode == "int64" and self.device.type != "cpu":
            raise ValueError("int64 matmul is only available on CPU; use matmul='float64'")
        if self.device.type == "cuda":
            disable_tf32()
        self.matmul: MatmulMode = mode
        self.in_dim = model.layers[0].in_dim
        dtype = torch.int64 if mode == "int64" else torch.float64
        layers: list[_DeviceLayer] = []
        for layer in model.layers:
            if mode == "float64" and layer.in_dim > FLOAT64_EXACT_MAX_WIDTH:
                raise ValueError(f"a layer of width {layer.in_dim} is too wide for float64")
            weights_t = torch.tensor(np.ascontiguousarray(layer.weights.T), dtype=dtype)
            biases = torch.tensor(np.asarray(layer.biases, dtype=np.int64), dtype=torch.int64)
            layers.append(
                _DeviceLayer(
                    weights_t=weights_t.to(self.device),
                    biases=biases.to(self.device),
                    multiplier=layer.multiplier,
                    shift=layer.shift,
                    low=0 if layer.activation == Activation.RELU else INT8_MIN,
                )
            )
        self._layers = tuple(layers)

    def run_batch(self, inputs: npt.NDArray[np.int8] | torch.Tensor) -> list[torch.Tensor]:
        """
        The trace of every input of a batch.

        Parameters
        ----------
        inputs :
            ``X``, ``int8`` of shape ``(B, n)``: a ``numpy`` array or a ``torch`` tensor on any
            device (copied to the runtime's). ``B = 0`` is allowed.

        Returns
        -------
        trace : `list[torch.Tensor]`
            ``L + 1`` ``int8`` tensors on the runtime's device, ``H_ℓ`` of shape ``(B, d_ℓ)``,
            with ``H_ℓ[r]`` bit-equal to ``forward_trace(model, X[r])[ℓ]``; ``H_0`` is a copy
            of ``X``.

        Raises
        ------
        InvalidActivationError
            If ``inputs`` is not a two-dimensional ``int8`` array or tensor of width ``n``.
        """
        h = self._input_tensor(inputs)
        trace = [h]
        with torch.inference_mode():
            for layer in self._layers:
                if self.matmul == "int64":
                    z = torch.matmul(h.to(torch.int64), layer.weights_t)
                else:
                    z = torch.matmul(h.to(torch.float64), layer.weights_t).to(torch.int64)
                z += layer.biases
                z *= layer.multiplier
                z += 1 << (layer.shift - 1)
                q = torch.bitwise_right_shift(z, layer.shift)
                h = q.clamp_(layer.low, INT8_MAX).to(torch.int8)
                trace.append(h)
        return trace

    def _input_tensor(self, inputs: npt.NDArray[np.int8] | torch.Tensor) -> torch.Tensor:
        if isinstance(inputs, np.ndarray):
            if inputs.dtype != np.int8 or inputs.ndim != 2:
                raise InvalidActivationError(
                    "a batch of inputs must be a two-dimensional int8 array"
                )
            tensor = torch.tensor(np.ascontiguousarray(inputs), dtype=torch.int8)
        elif isinstance(inputs, torch.Tensor):
            if inputs.dtype != torch.int8 or inputs.dim() != 2:
                raise InvalidActivationError(
                    "a batch of inputs must be a two-dimensional int8 tensor"
                )
            tensor = inputs.detach().clone()
        else:
            raise InvalidActivationError(
                f"a batch of inputs must be an int8 array or tensor, got {type(inputs).__name__}"
            )
        if tensor.shape[1] != self.in_dim:
            raise InvalidActivationError(
                f"a batch of inputs must have {self.in_dim} columns, got {tensor.shape[1]}"
            )
        return tensor.to(self.device)


def run_batch(
    model: QuantizedModel,
    inputs: npt.NDArray[np.int8] | torch.Tensor,
    device: str | torch.device = "cpu",
    *,
    matmul: MatmulMode | None = None,
) -> list[torch.Tensor]:
    """
    One-shot :meth:`TorchRuntime.run_batch`; build a :class:`TorchRuntime` to run many batches.

    Parameters
    ----------
    model, device, matmul :
        As for :class:`TorchRuntime`.
    inputs :
        As for :meth:`TorchRuntime.run_batch`.

    Returns
    -------
    trace : `list[torch.Tensor]`
        ``[H_0, …, H_L]``, ``int8`` tensors on ``device``.
    """
    return TorchRuntime(model, device, matmul=matmul).run_batch(inputs)
