"""
Deterministic post-training quantization of a float ``nn.Sequential`` into a ``QuantizedModel``.

Introduction
------------
The input is a float PyTorch ``nn.Sequential`` of ``Linear`` layers, each optionally followed by
one ``ReLU`` (typically all but the last), and calibration inputs (a float ``numpy`` array, one row
per sample). The output is an all-public :class:`~protocol.model.QuantizedModel` whose integer
forward pass (DESIGN.md §3) approximates the float one. The rules, for layer ``ℓ`` with input scale
``s_x`` (the real value of one int8 step of its input):

1. **Inputs.** ``s_in = max|calibration| / 127`` unless given; a float input ``x`` becomes
   ``quantize_input(x, s_in) = clamp(rint(x / s_in), −128, 127)`` with ``rint`` rounding half to
   even, in IEEE-754 binary64 (:func:`quantize_input`). The node uses the same function on float
   requests, with the ``input_scale`` stored in the model file.
2. **Weights**, symmetric per tensor: ``s_w = max|W| / 127`` (1 if ``W = 0``) and
   ``W_q = clamp(rint(W / s_w), −127, 127)`` as int8.
3. **Bias** at the accumulator's scale ``s_x·s_w``: ``b_q = rint(b / (s_x·s_w))``, which must fit
   int32 (else :class:`BiasRangeError`).
4. **The |z| rule.** The exact worst case of ``|Σ W_q·x + b_q|`` over *every* int8 input
   (:func:`protocol.model.accumulator_bounds`) must stay below ``2^31``; a model that reaches it is
   refused with :class:`~protocol.model.AccumulatorRangeError`, naming the layer, row and bound.
5. **Output scale**, calibrated on the *integer* pipeline: the calibration inputs are pushed
   through the layers already quantized, giving exact int64 accumulators ``z``; with
   ``z_max = max z`` for a ReLU layer (negative values clamp to 0 anyway) and ``max|z|`` otherwise
   (1 if that is ``<= 0``), the layer maps ``z_max`` to 127: the wanted real multiplier is
   ``s_x·s_w / s_y = 127 / z_max``, an exact rational.
6. **(M, k)**: the largest ``k <= 62`` for which ``M = round(127·2^k / z_max)`` (ties up, exact
   integer arithmetic) is ``< 2^31`` — the most precise pair (``k >= 1`` always holds since
   ``127 / z_max <= 127``). The next layer's input scale is the effective
   ``s_y = s_x·s_w·2^k / M``.

Determinism: every float step is an elementwise IEEE-754 binary64 operation (exactly rounded, so
the same on every platform) and every calibration statistic an exact integer, so the same float
weights and calibration data give the same bytes everywhere; no float matmul is involved. The float
model's own forward pass is never used.

``torch`` is imported only by :func:`quantize_sequential`; :func:`quantize_input` needs ``numpy``
only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from .exceptions import ProtocolError
from .model import (
    QLinearLayer,
    QuantizedModel,
    all_public,
    check_accumulator_bounds,
)
from .requant import (
    ACCUMULATOR_LIMIT,
    MAX_SHIFT,
    MIN_SHIFT,
    MULTIPLIER_LIMIT,
    Activation,
    requant_array,
)

if TYPE_CHECKING:
    from torch import nn

INT8_STEPS = 127
"""Positive int8 steps a calibrated maximum is mapped to (symmetric: −127..127 for weights)."""


class QuantizationError(ProtocolError):
    """A float model or its calibration data cannot be quantized."""


class UnsupportedModelError(QuantizationError):
    """The float model is not a ``Sequential`` of ``Linear`` layers each optionally followed by
    one ``ReLU``, or its parameters are not finite."""


class CalibrationDataError(QuantizationError):
    """The calibration inputs are not a finite, non-empty float array of the model's width."""


class BiasRangeError(QuantizationError):
    """A quantized bias ``rint(b / (s_x·s_w))`` does not fit int32."""


class InvalidFloatInputError(ProtocolError):
    """A float input to :func:`quantize_input` is not finite, or the scale is not positive."""


@dataclass(frozen=True)
class FloatLinear:
    """One float ``Linear`` layer as ``float64`` arrays, with its activation."""

    weights: npt.NDArray[np.float64]
    """``(out_features, in_features)``."""
    biases: npt.NDArray[np.float64]
    """``(out_features,)``."""
    relu: bool


def quantize_input(x: npt.ArrayLike, scale: float) -> npt.NDArray[np.int8]:
    """
    Quantize float inputs: ``clamp(rint(x / scale), −128, 127)``.

    ``x / scale`` is one IEEE-754 binary64 division (exactly rounded) and ``rint`` rounds half to
    even (``numpy.rint``), so every platform and language gets the same int8 values.

    Parameters
    ----------
    x :
        Float inputs of any shape (a vector, or a batch with one row per input); converted to
        ``float64``.
    scale :
        The model's ``input_scale``, finite and ``> 0``.

    Returns
    -------
    q : `numpy.ndarray`
        ``int8`` of the same shape.

    Raises
    ------
    InvalidFloatInputError
        If ``x`` is not numeric, has a NaN or an infinity, or ``scale`` is not finite and positive.
    """
    if isinstance(scale, bool) or not isinstance(scale, (float, int)):
        raise InvalidFloatInputError(f"scale must be a float, got {scale!r}")
    if not math.isfinite(scale) or scale <= 0:
        raise InvalidFloatInputError(f"scale must be finite and positive, got {scale!r}")
    try:
        values = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InvalidFloatInputError(f"inputs must be numbers: {error}") from error
    if not np.all(np.isfinite(values)):
        raise InvalidFloatInputError("inputs must be finite (no NaN or infinity)")
    steps = np.rint(values / np.float64(scale))
    q: npt.NDArray[np.int8] = np.clip(steps, -128, 127).astype(np.int8)
    return q


def multiplier_shift(numerator: int, denominator: int) -> tuple[int, int]:
    """
    The most precise ``(M, k)`` with ``M·2^−k ≈ numerator / denominator``.

    Parameters
    ----------
    numerator, denominator :
        Positive integers with ``numerator / denominator < 2^30`` (so that ``k = 1`` works).

    Returns
    -------
    multiplier, shift : `tuple[int, int]`
        The largest ``k`` in ``1..62`` whose ``M = round(numerator·2^k / denominator)`` (ties up,
        exact integer arithmetic) is ``< 2^31``, and that ``M``.

    Raises
    ------
    QuantizationError
        If an argument is not a positive int or the ratio is too large for ``k = 1``.
    """
    for value, what in ((numerator, "numerator"), (denominator, "denominator")):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise QuantizationError(f"{what} must be a positive int, got {value!r}")
    for shift in range(MAX_SHIFT, MIN_SHIFT - 1, -1):
        multiplier = (2 * numerator * (1 << shift) + denominator) // (2 * denominator)
        if multiplier < MULTIPLIER_LIMIT:
            return multiplier, shift
    raise QuantizationError(f"ratio {numerator}/{denominator} needs M >= 2^31 even with k = 1")


def float_layers(net: nn.Sequential) -> list[FloatLinear]:
    """
    Read a float ``nn.Sequential`` as ``Linear`` layers with optional ``ReLU``.

    Parameters
    ----------
    net :
        ``Linear``, ``Linear``/``ReLU``, … in any mix: every ``ReLU`` directly follows a
        ``Linear``; ``in_features`` of each ``Linear`` equals the previous ``out_features``.

    Returns
    -------
    layers : `list[FloatLinear]`
        The weights and biases as ``float64`` (exact from float32/float16/bfloat16); a ``Linear``
        without bias gets zeros.

    Raises
    ------
    UnsupportedModelError
        If ``net`` is not such a ``Sequential``, or a parameter is not finite.
    """
    import torch
    from torch import nn

    if not isinstance(net, nn.Sequential) or len(net) == 0:
        raise UnsupportedModelError("the float model must be a non-empty torch.nn.Sequential")
    layers: list[FloatLinear] = []
    after_linear = False
    for position, module in enumerate(net):
        if isinstance(module, nn.Linear):
            with torch.no_grad():
                weights = module.weight.detach().cpu().to(torch.float64).numpy().copy()
                bias = dict(module.named_parameters()).get("bias")  # None for bias=False
                if bias is None:
                    biases = np.zeros(module.out_features, dtype=np.float64)
                else:
                    biases = bias.detach().cpu().to(torch.float64).numpy().copy()
            if layers and weights.shape[1] != layers[-1].weights.shape[0]:
                raise UnsupportedModelError(
                    f"module {position}: in_features {weights.shape[1]} != previous "
                    f"out_features {layers[-1].weights.shape[0]}"
                )
            if not (np.all(np.isfinite(weights)) and np.all(np.isfinite(biases))):
                raise UnsupportedModelError(f"module {position}: parameters must be finite")
            layers.append(FloatLinear(weights, biases, relu=False))
            after_linear = True
        elif isinstance(module, nn.ReLU):
            if not after_linear:
                raise UnsupportedModelError(f"module {position}: a ReLU must follow a Linear")
            last = layers[-1]
            layers[-1] = FloatLinear(last.weights, last.biases, relu=True)
            after_linear = False
        else:
            raise UnsupportedModelError(
                f"module {position}: {type(module).__name__} is not supported "
                "(only Linear and ReLU)"
            )
    return layers


def quantize_sequential(
    net: nn.Sequential,
    calibration: npt.NDArray[np.floating],
    *,
    input_scale: float | None = None,
) -> QuantizedModel:
    """
    Quantize a float ``Sequential`` of ``Linear``/``ReLU`` (module docstring, rules 1–6).

    Parameters
    ----------
    net :
        The float model (see :func:`float_layers`); it is only read.
    calibration :
        Calibration inputs, a finite float array of shape ``(N, in_features)``, ``N >= 1``.
    input_scale :
        ``s_in``, finite and ``> 0``; by default ``max|calibration| / 127``.

    Returns
    -------
    model : `QuantizedModel`
        One public partition over all layers, ``input_scale = s_in`` and ``output_scale`` the last
        layer's effective ``s_y``. The same ``net`` parameters and ``calibration`` give a model
        whose :func:`protocol.modelfile.encode_model` bytes are identical.

    Raises
    ------
    UnsupportedModelError
        If ``net`` is not a supported ``Sequential``.
    CalibrationDataError
        If ``calibration`` is not a non-empty finite float array of the model's width, or is all
        zeros with no ``input_scale`` given.
    BiasRangeError
        If a quantized bias does not fit int32 (names the layer).
    AccumulatorRangeError
        If some int8 input drives a layer's accumulator to ``|z| >= 2^31`` (names the layer, the
        row and the bound).
    """
    layers = float_layers(net)
    samples = _calibration_array(calibration, layers[0].weights.shape[1])
    if input_scale is None:
        peak = float(np.max(np.abs(samples)))
        if peak == 0.0:
            raise CalibrationDataError("calibration data is all zeros: give an input_scale")
        input_scale = peak / INT8_STEPS
    try:
        h = quantize_input(samples, input_scale)
    except InvalidFloatInputError as error:
        raise CalibrationDataError(str(error)) from error

    scale = float(input_scale)
    quantized: list[QLinearLayer] = []
    for number, layer in enumerate(layers, start=1):
        qlayer, scale = _quantize_layer(layer, number, scale, h)
        quantized.append(qlayer)
        z = _accumulators(qlayer, h)
        h = requant_array(z, qlayer.multiplier, qlayer.shift, qlayer.activation)
    model = all_public(quantized)
    return QuantizedModel(
        layers=model.layers,
        partitions=model.partitions,
        input_scale=float(input_scale),
        output_scale=scale,
    )


def _quantize_layer(
    layer: FloatLinear, number: int, input_scale: float, inputs: npt.NDArray[np.int8]
) -> tuple[QLinearLayer, float]:
    """Rules 2–6 for one layer; returns the layer and its effective output scale."""
    peak = float(np.max(np.abs(layer.weights)))
    weight_scale = peak / INT8_STEPS if peak > 0.0 else 1.0
    weights = np.clip(np.rint(layer.weights / weight_scale), -INT8_STEPS, INT8_STEPS)
    accumulator_scale = input_scale * weight_scale
    biases = np.rint(layer.biases / accumulator_scale)
    if biases.size and float(np.max(np.abs(biases))) > 2**31 - 1:
        row = int(np.argmax(np.abs(biases)))
        raise BiasRangeError(
            f"layer {number}: bias {layer.biases[row]!r} of row {row} is {biases[row]:.0f} steps "
            f"of the accumulator scale {accumulator_scale!r}, outside int32"
        )
    activation = Activation.RELU if layer.relu else Activation.NONE
    candidate = QLinearLayer(
        weights.astype(np.int8), biases.astype(np.int32), 1, MIN_SHIFT, activation
    )
    check_accumulator_bounds([candidate], first_layer=number)

    z = _accumulators(candidate, inputs)
    peak_z = int(z.max()) if layer.relu else int(np.abs(z).max())
    peak_z = max(peak_z, 1)
    assert peak_z < ACCUMULATOR_LIMIT  # guaranteed by check_accumulator_bounds
    multiplier, shift = multiplier_shift(INT8_STEPS, peak_z)
    output_scale = accumulator_scale * float(1 << shift) / multiplier
    final = QLinearLayer(candidate.weights, candidate.biases, multiplier, shift, activation)
    return final, output_scale


def _accumulators(layer: QLinearLayer, inputs: npt.NDArray[np.int8]) -> npt.NDArray[np.int64]:
    """Exact int64 ``Z = X·Wᵀ + b`` for a batch ``X``."""
    z: npt.NDArray[np.int64] = inputs.astype(np.int64) @ layer.weights.astype(
        np.int64
    ).T + layer.biases.astype(np.int64)
    return z


def _calibration_array(calibration: object, width: int) -> npt.NDArray[np.float64]:
    if not isinstance(calibration, np.ndarray) or not (
        np.issubdtype(calibration.dtype, np.floating)
        or np.issubdtype(calibration.dtype, np.integer)
    ):
        raise CalibrationDataError("calibration data must be a numeric numpy array")
    if calibration.ndim != 2 or calibration.shape[0] < 1 or calibration.shape[1] != width:
        raise CalibrationDataError(
            f"calibration data must have shape (N >= 1, {width}), got {calibration.shape}"
        )
    samples = calibration.astype(np.float64)
    if not np.all(np.isfinite(samples)):
        raise CalibrationDataError("calibration data must be finite")
    return samples
