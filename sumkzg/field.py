"""
The scalar field F = Fr(BLS12-381) and its multilinear helpers (docs/proof-system.md §1, §3).

Introduction
------------
A field element is a plain Python ``int`` in ``[0, R)``; every function here returns canonical
values and expects canonical inputs unless it says otherwise. A signed integer ``v`` enters the
field as ``v mod R`` (:func:`fe`).

Multilinear conventions: a vector ``v`` of length ``2^μ`` is the table of its multilinear extension
``ṽ(X) = Σ_f v[f]·eq(X, f)``; variable ``X_v`` (1-based) is bit ``v−1`` of the index ``f``, so
``point[0]`` goes with the least significant bit.

:func:`field_gemv_int` and :func:`field_gemv_int_t` multiply a field vector by an integer matrix
exactly, with int64 numpy matmuls on 16-bit limbs of the field weights.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from .errors import EncodingError

R = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001
"""The order of the BLS12-381 scalar field (and of the prime-order subgroups G1, G2)."""

SCALAR_LEN = 32
"""Bytes of an encoded scalar (big-endian)."""

_LIMB_BITS = 16
_LIMBS = 16  # 16 limbs of 16 bits cover 256 ≥ 255 bits of a field element
_MAX_ABS_ENTRY = 2**31  # |matrix entry| ≤ 2^31 (int32 included)
# Rows per int64 matmul: (2^16 − 1)·2^31·rows < 2^63 needs rows ≤ 2^15.
_MAX_CHUNK_ROWS = 2**15
# Bound the int64 copy of one chunk of the matrix to about 32 MiB.
_MAX_CHUNK_ELEMENTS = 2**22

_INV2 = pow(2, -1, R)
_INV6 = pow(6, -1, R)


def fe(v: int) -> int:
    """
    Map an integer into the field.

    Parameters
    ----------
    v :
        Any integer, negative included.

    Returns
    -------
    a : `int`
        ``v mod R``, in ``[0, R)``.
    """
    return v % R


def inv(a: int) -> int:
    """
    Return the inverse of ``a`` in the field.

    Raises
    ------
    ZeroDivisionError
        If ``a ≡ 0 (mod R)``.
    """
    a %= R
    if a == 0:
        raise ZeroDivisionError("inverse of 0 in Fr")
    return pow(a, -1, R)


def batch_inv(values: Sequence[int]) -> list[int]:
    """
    Invert every value with one field inversion (Montgomery's trick).

    Parameters
    ----------
    values :
        Field elements (reduced mod ``R`` first).

    Returns
    -------
    inverses : `list[int]`
        ``inverses[i] · values[i] ≡ 1``.

    Raises
    ------
    ZeroDivisionError
        If any value is ``0 mod R``.
    """
    n = len(values)
    if n == 0:
        return []
    prefix = [0] * n
    acc = 1
    for i, v in enumerate(values):
        v %= R
        if v == 0:
            raise ZeroDivisionError(f"inverse of 0 in Fr (index {i})")
        prefix[i] = acc
        acc = acc * v % R
    acc = pow(acc, -1, R)
    out = [0] * n
    for i in range(n - 1, -1, -1):
        out[i] = acc * prefix[i] % R
        acc = acc * values[i] % R
    return out


def eq_eval(a: Sequence[int], b: Sequence[int]) -> int:
    """
    Return ``eq(a, b) = Π_v (a_v·b_v + (1 − a_v)(1 − b_v))``.

    Raises
    ------
    ValueError
        If the lengths differ.
    """
    if len(a) != len(b):
        raise ValueError(f"eq of points of lengths {len(a)} and {len(b)}")
    out = 1
    for x, y in zip(a, b, strict=True):
        out = out * ((2 * x * y - x - y + 1) % R) % R
    return out


def eq_table(point: Sequence[int]) -> list[int]:
    """
    Return the table ``f ↦ eq(point, bits(f))`` over ``{0,1}^μ``, ``μ = len(point)``.

    Bit ``v−1`` of ``f`` pairs with ``point[v−1]`` (little-endian variables).

    Returns
    -------
    table : `list[int]`
        Length ``2^μ``; ``[1]`` for the empty point.
    """
    table = [1]
    for p in point:
        p %= R
        one_minus = (1 - p) % R
        table = [t * one_minus % R for t in table] + [t * p % R for t in table]
    return table


def mle_eval(values: Sequence[int], point: Sequence[int]) -> int:
    """
    Evaluate the multilinear extension of ``values`` at ``point``.

    Parameters
    ----------
    values :
        The table; ``len(values) ≤ 2^len(point)``, the missing entries are 0.
    point :
        ``μ`` field elements, ``point[v−1]`` for variable ``v`` (bit ``v−1`` of the index).

    Returns
    -------
    value : `int`
        ``Σ_f values[f]·eq(point, bits(f))``.

    Raises
    ------
    ValueError
        If the table is longer than ``2^len(point)``.
    """
    if len(values) > 1 << len(point):
        raise ValueError(f"{len(values)} values for {len(point)} variables")
    layer = [v % R for v in values]
    for p in point:
        if not layer:
            return 0
        if len(layer) % 2:
            layer.append(0)
        layer = [(lo + p * (hi - lo)) % R for lo, hi in zip(layer[0::2], layer[1::2], strict=True)]
    return layer[0] if layer else 0


def _weight_limbs(weights: Sequence[int]) -> npt.NDArray[np.int64]:
    """Return the ``(len(weights), 16)`` int64 array of the 16-bit little-endian limbs."""
    blob = b"".join((w % R).to_bytes(SCALAR_LEN, "little") for w in weights)
    return np.frombuffer(blob, dtype="<u2").reshape(len(weights), _LIMBS).astype(np.int64)


def _check_int_matrix(matrix: npt.NDArray[np.integer]) -> None:
    """Refuse a non-integer or non-2-D matrix, and entries outside ``[−2^31, 2^31]``."""
    if matrix.ndim != 2:
        raise ValueError(f"expected a 2-D matrix, got shape {matrix.shape}")
    if not np.issubdtype(matrix.dtype, np.integer):
        raise TypeError(f"expected an integer matrix, got dtype {matrix.dtype}")
    if matrix.dtype.itemsize > 4 and matrix.size:
        low, high = int(matrix.min()), int(matrix.max())
        if low < -_MAX_ABS_ENTRY or high > _MAX_ABS_ENTRY:
            raise ValueError("matrix entries must satisfy |entry| ≤ 2^31")


def field_gemv_int(weights: Sequence[int], matrix: npt.NDArray[np.integer]) -> list[int]:
    """
    Return ``out[j] = Σ_i weights[i]·matrix[i, j] mod R`` exactly.

    Each weight is split into 16 limbs of 16 bits; the limb products are int64 numpy matmuls over
    chunks of at most ``2^15`` rows, so no int64 sum can overflow (``2^16·2^31·2^15 < 2^63``); the
    per-column limb sums are recombined with Python integers.

    Parameters
    ----------
    weights :
        Field elements, one per row (reduced mod ``R``).
    matrix :
        A 2-D integer array with ``len(weights)`` rows and entries of magnitude ``≤ 2^31``.

    Returns
    -------
    out : `list[int]`
        One field element per column.

    Raises
    ------
    ValueError
        On a shape mismatch or an entry out of range.
    TypeError
        On a non-integer matrix.
    """
    matrix = np.asarray(matrix)
    _check_int_matrix(matrix)
    rows, cols = matrix.shape
    if rows != len(weights):
        raise ValueError(f"{len(weights)} weights for a matrix with {rows} rows")
    if cols == 0:
        return []
    if rows == 0:
        return [0] * cols
    limbs_t = _weight_limbs(weights).T  # (16, rows)
    chunk = max(1, min(_MAX_CHUNK_ROWS, _MAX_CHUNK_ELEMENTS // cols))
    # Limb sums stay in int64 while at most 2^15 rows have been added (the overflow bound), then
    # move into Python integers.
    totals: npt.NDArray[np.object_] = np.zeros((_LIMBS, cols), dtype=object)
    pending = np.zeros((_LIMBS, cols), dtype=np.int64)
    pending_rows = 0
    for begin in range(0, rows, chunk):
        block_rows = min(chunk, rows - begin)
        if pending_rows + block_rows > _MAX_CHUNK_ROWS:
            totals += pending.astype(object)
            pending[:] = 0
            pending_rows = 0
        # Column-major: numpy's (non-BLAS) integer matmul walks the shared dimension contiguously.
        block = matrix[begin : begin + block_rows].astype(np.int64, order="F")
        pending += limbs_t[:, begin : begin + block_rows] @ block
        pending_rows += block_rows
    totals += pending.astype(object)
    return _recombine(totals)


def field_gemv_int_t(weights: Sequence[int], matrix: npt.NDArray[np.integer]) -> list[int]:
    """
    Return ``out[i] = Σ_j matrix[i, j]·weights[j] mod R`` exactly (the transposed product).

    Same technique and bounds as :func:`field_gemv_int`, with ``len(weights)`` columns.
    """
    return field_gemv_int(weights, np.asarray(matrix).T)


def _recombine(totals: npt.NDArray[np.object_]) -> list[int]:
    """Return ``Σ_l totals[l, j]·2^(16 l) mod R`` for each column ``j``."""
    out = totals[_LIMBS - 1]
    for limb in range(_LIMBS - 2, -1, -1):
        out = (out << _LIMB_BITS) + totals[limb]
    return [int(v) % R for v in out]


def scalar_to_bytes(a: int) -> bytes:
    """
    Encode a field element as 32 bytes big-endian.

    Raises
    ------
    ValueError
        If ``a`` is not in ``[0, R)`` (the caller must reduce first).
    """
    if not 0 <= a < R:
        raise ValueError("scalar out of range [0, r)")
    return a.to_bytes(SCALAR_LEN, "big")


def scalar_from_bytes(b: bytes) -> int:
    """
    Decode a 32-byte big-endian scalar, refusing non-canonical values.

    Raises
    ------
    EncodingError
        If ``len(b) != 32`` or the value is ``≥ R`` (never reduced).
    """
    if len(b) != SCALAR_LEN:
        raise EncodingError(f"scalar of {len(b)} bytes, expected {SCALAR_LEN}")
    a = int.from_bytes(b, "big")
    if a >= R:
        raise EncodingError("non-canonical scalar (>= r)")
    return a


def lagrange_eval_0123(evals: Sequence[int], x: int) -> int:
    """
    Evaluate the polynomial of degree ``≤ 3`` through ``(t, evals[t])``, ``t = 0..3``, at ``x``.

    Raises
    ------
    ValueError
        If ``len(evals) != 4``.
    """
    if len(evals) != 4:
        raise ValueError(f"expected 4 evaluations, got {len(evals)}")
    e0, e1, e2, e3 = evals
    x0, x1, x2, x3 = x, x - 1, x - 2, x - 3
    # L0 = −(x−1)(x−2)(x−3)/6, L1 = x(x−2)(x−3)/2, L2 = −x(x−1)(x−3)/2, L3 = x(x−1)(x−2)/6.
    sixths = (e3 * x0 * x1 * x2 - e0 * x1 * x2 * x3) % R
    halves = (e1 * x0 * x2 * x3 - e2 * x0 * x1 * x3) % R
    return (sixths * _INV6 + halves * _INV2) % R
