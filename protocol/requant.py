"""
Integer requantization, the arithmetic of a ``QLinear`` layer.

Introduction
------------
A ``QLinear(n → m)`` layer maps an int8 vector ``x`` to an int8 vector
``y``, every step exact on integers so that every honest party computes
the same bits on any hardware:

    z_j = Σ_i W_ji · x_i + b_j                   (exact; |z_j| < 2^31)
    q_j = floor((z_j · M + 2^(k−1)) / 2^k)       (arithmetic right shift)
    y_j = clamp(q_j, 0, 127)     if activation is RELU
          clamp(q_j, −128, 127)  if activation is NONE

with ``0 <= M < 2^31`` and ``1 <= k <= 62``. The rounding adds half of
``2^k`` and floors, so exact ties round towards +∞ for positive and
negative ``z`` alike.

:func:`requant` and :func:`qlinear_row` are the readable reference on
Python ints; :func:`requant_array` and :func:`qlinear` are the ``numpy``
versions, bit-exact with the reference (tests check this).
"""

from collections.abc import Sequence
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from .activations import Int8VectorLike, int8_array, int8_bytes
from .exceptions import InvalidRequantParameterError
from .types import require_int

MULTIPLIER_LIMIT = 2**31
"""The multiplier ``M`` must satisfy ``0 <= M < MULTIPLIER_LIMIT``."""

MIN_SHIFT = 1
MAX_SHIFT = 62
"""The shift ``k`` must satisfy ``MIN_SHIFT <= k <= MAX_SHIFT``."""

ACCUMULATOR_LIMIT = 2**31
"""An accumulator ``z`` must satisfy ``|z| < ACCUMULATOR_LIMIT``."""

INT8_MIN = -128
INT8_MAX = 127


class Activation(IntEnum):
    """
    The activation applied after requantization; the value is the ``uint8``
    of a layer header.
    """

    NONE = 0
    """Clamp to −128..127."""

    RELU = 1
    """Clamp to 0..127."""


def validate_requant_parameters(multiplier: int, shift: int, activation: int) -> Activation:
    """
    Check a layer's requantization parameters.

    Parameters
    ----------
    multiplier :
        ``M``, with ``0 <= M < 2^31``.
    shift :
        ``k``, with ``1 <= k <= 62``.
    activation :
        An :class:`Activation` or its integer value.

    Returns
    -------
    activation : `Activation`
        ``activation`` as the enum.

    Raises
    ------
    InvalidRequantParameterError
        If a parameter is not an ``int`` or is out of range.
    """
    if isinstance(multiplier, bool) or not isinstance(multiplier, int):
        raise InvalidRequantParameterError(f"multiplier must be an int, got {multiplier!r}")
    if multiplier < 0 or multiplier >= MULTIPLIER_LIMIT:
        raise InvalidRequantParameterError(f"multiplier {multiplier} is outside 0 .. 2^31 - 1")
    if isinstance(shift, bool) or not isinstance(shift, int):
        raise InvalidRequantParameterError(f"shift must be an int, got {shift!r}")
    if shift < MIN_SHIFT or shift > MAX_SHIFT:
        raise InvalidRequantParameterError(f"shift {shift} is outside 1 .. 62")
    if isinstance(activation, bool) or not isinstance(activation, int):
        raise InvalidRequantParameterError(f"activation must be an int, got {activation!r}")
    if activation not in (Activation.NONE, Activation.RELU):
        raise InvalidRequantParameterError(
            f"activation must be 0 (none) or 1 (relu), got {activation!r}"
        )
    return Activation(activation)


def requant(z: int, multiplier: int, shift: int, activation: Activation) -> int:
    """
    Requantize one accumulator to an int8 value.

    Parameters
    ----------
    z :
        The exact accumulator ``Σ W·x + b``, with ``|z| < 2^31``.
    multiplier :
        ``M``, with ``0 <= M < 2^31``.
    shift :
        ``k``, with ``1 <= k <= 62``.
    activation :
        :attr:`Activation.NONE` or :attr:`Activation.RELU`.

    Returns
    -------
    y : `int`
        ``clamp(floor((z·M + 2^(k−1)) / 2^k), lo, 127)`` with ``lo = 0`` for
        RELU and ``lo = −128`` for NONE.

    Raises
    ------
    InvalidRequantParameterError
        If ``z`` or a parameter is out of range.
    """
    activation = validate_requant_parameters(multiplier, shift, activation)
    if isinstance(z, bool) or not isinstance(z, int):
        raise InvalidRequantParameterError(f"accumulator must be an int, got {z!r}")
    if not -ACCUMULATOR_LIMIT < z < ACCUMULATOR_LIMIT:
        raise InvalidRequantParameterError(f"accumulator {z} is outside -(2^31 - 1) .. 2^31 - 1")
    # Python's >> on int is an arithmetic shift: it floors negative values too.
    q = (z * multiplier + (1 << (shift - 1))) >> shift
    low = 0 if activation == Activation.RELU else INT8_MIN
    return max(low, min(INT8_MAX, q))


def qlinear_row(
    weights_row: Int8VectorLike,
    bias: int,
    x: Int8VectorLike,
    multiplier: int,
    shift: int,
    activation: Activation,
) -> int:
    """
    Compute one output element of a ``QLinear`` layer.

    Parameters
    ----------
    weights_row :
        ``W_j``, the row's ``n`` int8 weights.
    bias :
        ``b_j``, fitting ``int32``.
    x :
        The layer's ``n`` int8 inputs.
    multiplier, shift, activation :
        The layer's requantization parameters (see :func:`requant`).

    Returns
    -------
    y_j : `int`
        ``requant(Σ_i W_ji·x_i + b_j, M, k, activation)``, the dot product
        taken on Python ints.

    Raises
    ------
    InvalidActivationError
        If ``weights_row`` or ``x`` is not an int8 vector.
    InvalidRequantParameterError
        If the lengths differ, or the accumulator or a parameter is out of
        range (an accumulator out of range means the model is invalid).
    InvalidIntegerError
        If ``bias`` does not fit ``int32``.
    """
    row = _signed_values(int8_bytes(weights_row, "weights row"))
    inputs = _signed_values(int8_bytes(x, "input vector"))
    if len(row) != len(inputs):
        raise InvalidRequantParameterError(
            f"weights row has {len(row)} values but the input has {len(inputs)}"
        )
    require_int(bias, 32, "bias")
    z = sum(w * v for w, v in zip(row, inputs, strict=True)) + bias
    return requant(z, multiplier, shift, activation)


def requant_array(
    z: npt.NDArray[np.integer], multiplier: int, shift: int, activation: Activation
) -> npt.NDArray[np.int8]:
    """
    Requantize an array of accumulators; bit-exact with :func:`requant`.

    Parameters
    ----------
    z :
        Accumulators of any integer dtype and any shape, each with
        ``|z| < 2^31``.
    multiplier, shift, activation :
        As for :func:`requant`.

    Returns
    -------
    y : `numpy.ndarray`
        An ``int8`` array of the same shape.

    Raises
    ------
    InvalidRequantParameterError
        If ``z`` is not an integer array, or a value or parameter is out of
        range.
    """
    activation = validate_requant_parameters(multiplier, shift, activation)
    if not isinstance(z, np.ndarray) or not np.issubdtype(z.dtype, np.integer):
        raise InvalidRequantParameterError("accumulators must be an integer numpy array")
    if z.size and (int(z.min()) <= -ACCUMULATOR_LIMIT or int(z.max()) >= ACCUMULATOR_LIMIT):
        raise InvalidRequantParameterError("an accumulator is outside -(2^31 - 1) .. 2^31 - 1")
    # No int64 overflow: |z| < 2^31 and 0 <= M < 2^31 give |z·M| < 2^62, and
    # adding 2^(k−1) <= 2^61 keeps the sum inside (−2^62, 2^62 + 2^61), well
    # within int64's ±2^63. numpy's >> on a signed dtype is an arithmetic
    # shift, i.e. floor division by 2^k, like Python's >> on int.
    wide: npt.NDArray[np.int64] = z.astype(np.int64)
    rounded = wide * np.int64(multiplier) + np.int64(1 << (shift - 1))
    q: npt.NDArray[np.int64] = np.right_shift(rounded, np.int64(shift))
    low = 0 if activation == Activation.RELU else INT8_MIN
    y: npt.NDArray[np.int8] = np.clip(q, low, INT8_MAX).astype(np.int8)
    return y


def qlinear(
    weights: npt.NDArray[np.int8],
    biases: npt.NDArray[np.integer],
    x: Int8VectorLike,
    multiplier: int,
    shift: int,
    activation: Activation,
) -> npt.NDArray[np.int8]:
    """
    Compute a whole ``QLinear`` layer with ``numpy``; bit-exact with
    :func:`qlinear_row` applied to every row.

    Parameters
    ----------
    weights :
        ``W``, an ``int8`` array of shape ``(m, n)``.
    biases :
        ``b``, an integer array of shape ``(m,)`` fitting ``int32``.
    x :
        The ``n`` int8 inputs.
    multiplier, shift, activation :
        As for :func:`requant`.

    Returns
    -------
    y : `numpy.ndarray`
        The ``m`` int8 outputs.

    Raises
    ------
    InvalidRequantParameterError
        If the shapes disagree, a bias does not fit ``int32``, or an
        accumulator or parameter is out of range.
    """
    inputs = int8_array(int8_bytes(x, "input vector"))
    if not isinstance(weights, np.ndarray) or weights.dtype != np.int8 or weights.ndim != 2:
        raise InvalidRequantParameterError("weights must be a two-dimensional int8 array")
    if weights.shape[1] != inputs.shape[0]:
        raise InvalidRequantParameterError(
            f"weights have {weights.shape[1]} columns but the input has {inputs.shape[0]} values"
        )
    if not isinstance(biases, np.ndarray) or not np.issubdtype(biases.dtype, np.integer):
        raise InvalidRequantParameterError("biases must be an integer numpy array")
    if biases.shape != (weights.shape[0],):
        raise InvalidRequantParameterError(
            f"biases must have shape ({weights.shape[0]},), got {biases.shape}"
        )
    if biases.size and (int(biases.min()) < -(2**31) or int(biases.max()) > 2**31 - 1):
        raise InvalidRequantParameterError("biases must fit int32")
    # Exact in int64: n products of magnitude <= 2^14 plus an int32 bias stay
    # far below 2^63 for any n < 2^48; the accumulator range is checked next.
    z = weights.astype(np.int64) @ inputs.astype(np.int64) + biases.astype(np.int64)
    return requant_array(z, multiplier, shift, activation)


def _signed_values(raw: bytes) -> Sequence[int]:
    return [b - 256 if b > INT8_MAX else b for b in raw]
