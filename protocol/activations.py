"""
Activation vectors and their hashes.

Introduction
------------
An activation vector is a sequence of int8 values (−128..127). On the wire
and in every hash it is held as raw two's-complement bytes, one byte per
value, in order. Its commitment is

    actHash(v) = keccak256(uint32_be(len(v)) ‖ bytes(v))

(``abi.encodePacked(uint32(len), bytes(v))`` in Solidity). The length
prefix makes the hash commit to the vector's length.

Callers may hand a vector over as raw ``bytes``, as a sequence of Python
ints, or as a one-dimensional ``numpy`` array of dtype ``int8``; anything
else is rejected with :class:`~protocol.exceptions.InvalidActivationError`
rather than silently converted (a float or int32 array almost always means
a bug upstream).
"""

from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from .exceptions import InvalidActivationError
from .keccak import keccak256
from .types import Hash32

INT8_MIN = -128
INT8_MAX = 127
MAX_VECTOR_LENGTH = 2**32 - 1
"""The longest vector whose length fits the ``uint32`` prefix."""

Int8Array: TypeAlias = npt.NDArray[np.int8]
Int8VectorLike: TypeAlias = (
    bytes | bytearray | memoryview | Sequence[int | np.integer[Any]] | Int8Array
)
"""Anything :func:`int8_bytes` accepts as an activation vector."""


def int8_bytes(vector: Int8VectorLike, what: str = "activation vector") -> bytes:
    """
    Validate an int8 vector and return its raw two's-complement bytes.

    Parameters
    ----------
    vector :
        Raw bytes (taken as they are: every byte is a valid int8), a
        sequence of ``int`` in −128..127, or a one-dimensional ``numpy``
        array of dtype ``int8``.
    what :
        Name of the value, used in error messages.

    Returns
    -------
    raw : `bytes`
        One byte per element, ``value & 0xFF``.

    Raises
    ------
    InvalidActivationError
        If a value is outside −128..127 or not an integer, if an array has
        a dtype other than ``int8`` or is not one-dimensional, or if the
        vector is longer than ``2**32 - 1``.
    """
    # Branch on the run-time value: callers without type checking may pass
    # anything, and a str is a Sequence that must not be taken for one.
    value: object = vector
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
    elif isinstance(value, np.ndarray):
        raw = _array_bytes(value, what)
    elif isinstance(value, str):
        raise InvalidActivationError(f"{what} must be int8 values, got a str")
    elif isinstance(value, Sequence):
        raw = _sequence_bytes(value, what)
    else:
        raise InvalidActivationError(
            f"{what} must be bytes, a sequence of int or an int8 array, got {type(value).__name__}"
        )
    if len(raw) > MAX_VECTOR_LENGTH:
        raise InvalidActivationError(f"{what} has {len(raw)} values, more than uint32 allows")
    return raw


def int8_array(raw: bytes) -> Int8Array:
    """
    Decode raw two's-complement bytes into an int8 array.

    Parameters
    ----------
    raw :
        One byte per value.

    Returns
    -------
    vector : `numpy.ndarray`
        A new, writable one-dimensional ``int8`` array.
    """
    return np.frombuffer(bytes(raw), dtype=np.int8).copy()


def act_hash(vector: Int8VectorLike) -> Hash32:
    """
    Compute ``actHash(v) = keccak256(uint32_be(len(v)) ‖ bytes(v))``.

    Parameters
    ----------
    vector :
        The activation vector, in any form :func:`int8_bytes` accepts.

    Returns
    -------
    hash : `Hash32`
        The vector's commitment; the empty vector is valid and hashes the
        four zero bytes of its length.

    Raises
    ------
    InvalidActivationError
        If ``vector`` is not a valid int8 vector.
    """
    raw = int8_bytes(vector)
    return keccak256(len(raw).to_bytes(4, "big") + raw)


def _array_bytes(array: npt.NDArray[np.generic], what: str) -> bytes:
    if array.dtype != np.int8:
        raise InvalidActivationError(f"{what} must have dtype int8, got {array.dtype}")
    if array.ndim != 1:
        raise InvalidActivationError(f"{what} must be one-dimensional, got shape {array.shape}")
    return np.ascontiguousarray(array).tobytes()


def _sequence_bytes(values: Sequence[object], what: str) -> bytes:
    out = bytearray(len(values))
    for position, value in enumerate(values):
        if isinstance(value, np.integer):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidActivationError(
                f"{what}[{position}] must be an int, got {type(value).__name__}"
            )
        if value < INT8_MIN or value > INT8_MAX:
            raise InvalidActivationError(f"{what}[{position}] = {value} is outside -128..127")
        out[position] = value & 0xFF
    return bytes(out)
