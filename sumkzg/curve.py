"""
The curve backend: BLS12-381 G1/G2 through arkworks, with EIP-2537 encodings (docs/proof-system.md
§1, §2).

Introduction
------------
Everything curve-specific lives here, so that another backend (BN254) could replace this module.
Points are :class:`py_arkworks_bls12381.G1Point` / ``G2Point``; scalars are ``int`` in ``[0, R)``.

Encodings (EIP-2537): a base-field element is 64 bytes big-endian (16 zero bytes, then 48 bytes);
a G1 point is ``x ‖ y`` (128 bytes); a G2 point is ``x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1`` (256 bytes, with
``c = c0 + c1·u``); the point at infinity is all zero bytes. :func:`decode_g1` is strict: it rejects
every other byte string with :class:`~sumkzg.errors.EncodingError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from py_arkworks_bls12381 import GT, G1Point, G2Point, Scalar

from .errors import EncodingError
from .field import SCALAR_LEN, R

if TYPE_CHECKING:
    from .setup import Setup

P = int(
    "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf"
    "6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab",
    16,
)
"""The BLS12-381 base field modulus."""

FP_LEN = 48
"""Bytes of a base-field element without padding."""
FP_ENCODED_LEN = 64
"""Bytes of an EIP-2537 base-field element (16 zero bytes of padding)."""
G1_ENCODED_LEN = 128
"""Bytes of an EIP-2537 G1 point."""
G2_ENCODED_LEN = 256
"""Bytes of an EIP-2537 G2 point."""

_PAD = bytes(FP_ENCODED_LEN - FP_LEN)
_G1_ZERO = bytes(G1_ENCODED_LEN)
_R_LOW_LIMB = R & (2**64 - 1)


def g1_identity() -> G1Point:
    """Return the point at infinity of G1."""
    return G1Point.identity()


def g1_generator() -> G1Point:
    """Return the standard generator of G1."""
    return G1Point()


def g2_generator() -> G2Point:
    """Return the standard generator of G2."""
    return G2Point()


def g1_neg(p: G1Point) -> G1Point:
    """Return ``−p``."""
    return -p


def g1_add(a: G1Point, b: G1Point) -> G1Point:
    """Return ``a + b``."""
    return a + b


def g1_eq(a: G1Point, b: G1Point) -> bool:
    """Return whether ``a == b``."""
    return bool(a == b)


def g1_mul(p: G1Point, k: int) -> G1Point:
    """Return ``k·p`` for a scalar ``k`` (reduced mod ``R``)."""
    return p * _scalar(k % R)


def g2_mul(p: G2Point, k: int) -> G2Point:
    """Return ``k·p`` for a scalar ``k`` (reduced mod ``R``)."""
    return p * _scalar(k % R)


def _scalar(k: int) -> Scalar:
    """Convert ``k ∈ [0, R)`` into an arkworks scalar (the little-endian path is the fastest)."""
    return Scalar.from_le_bytes(k.to_bytes(SCALAR_LEN, "little"))


def encode_g1(p: G1Point) -> bytes:
    """
    Encode a G1 point as 128 EIP-2537 bytes.

    Returns
    -------
    data : `bytes`
        ``0^16 ‖ x (48) ‖ 0^16 ‖ y (48)``; 128 zero bytes for the point at infinity.
    """
    if p == G1Point.identity():
        return _G1_ZERO
    xy = p.to_xy_bytes_be()
    return _PAD + xy[:FP_LEN] + _PAD + xy[FP_LEN:]


def decode_g1(data: bytes) -> G1Point:
    """
    Decode an EIP-2537 G1 point strictly.

    Raises
    ------
    EncodingError
        On a length other than 128, non-zero padding, a coordinate ``≥ p``, a point not on the
        curve, or a point outside the prime-order subgroup.
    """
    data = bytes(data)
    if len(data) != G1_ENCODED_LEN:
        raise EncodingError(f"G1 point of {len(data)} bytes, expected {G1_ENCODED_LEN}")
    if data == _G1_ZERO:
        return G1Point.identity()
    if data[:16] != _PAD or data[64:80] != _PAD:
        raise EncodingError("G1 point with non-zero padding")
    x, y = data[16:64], data[80:128]
    if int.from_bytes(x, "big") >= P or int.from_bytes(y, "big") >= P:
        raise EncodingError("G1 coordinate >= p")
    try:
        point = G1Point.from_xy_bytes_unchecked_be(x + y)
    except ValueError as error:
        raise EncodingError("G1 point not on the curve") from error
    if not point.is_in_subgroup():
        raise EncodingError("G1 point not in the subgroup")
    return point


def decode_g1_unchecked(data: bytes) -> G1Point:
    """
    Decode 128 EIP-2537 bytes checking only that the point is on the curve (no subgroup check).

    For tests that need a point outside the subgroup; never use it on proof bytes.
    """
    if len(data) != G1_ENCODED_LEN or data[:16] != _PAD or data[64:80] != _PAD:
        raise EncodingError("malformed G1 encoding")
    if data == _G1_ZERO:
        return G1Point.identity()
    try:
        return G1Point.from_xy_bytes_unchecked_be(data[16:64] + data[80:128])
    except ValueError as error:
        raise EncodingError("G1 point not on the curve") from error


def g2_encode(p: G2Point) -> bytes:
    """
    Encode a G2 point as 256 EIP-2537 bytes: ``x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1``, each padded to 64.

    arkworks' ``to_xy_bytes_be`` writes ``x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1`` (48 bytes each, c0 first, as
    EIP-2537 and unlike the compressed ZCash format); the tests pin the generator's encoding.
    """
    if p == G2Point.identity():
        return bytes(G2_ENCODED_LEN)
    xy = p.to_xy_bytes_be()
    return b"".join(_PAD + xy[i : i + FP_LEN] for i in range(0, 4 * FP_LEN, FP_LEN))


def msm(points: Sequence[G1Point], scalars: Sequence[int]) -> G1Point:
    """
    Return ``Σ scalars[i]·points[i]``.

    Parameters
    ----------
    points :
        G1 points (in the subgroup).
    scalars :
        Field elements in ``[0, R)``, as many as points.

    Raises
    ------
    ValueError
        On a length mismatch or a scalar outside ``[0, R)``.
    """
    if len(points) != len(scalars):
        raise ValueError(f"msm of {len(points)} points and {len(scalars)} scalars")
    if not points:
        return G1Point.identity()
    try:
        blob = b"".join(s.to_bytes(SCALAR_LEN, "little") for s in scalars)
    except OverflowError as error:
        raise ValueError("msm scalar out of range [0, r)") from error
    return _msm_le_blob(points, blob)


def _msm_le_blob(points: Sequence[G1Point], blob: bytes) -> G1Point:
    """MSM with the scalars given as concatenated 32-byte little-endian encodings."""
    try:
        arkworks_scalars = [
            Scalar.from_le_bytes(blob[i : i + SCALAR_LEN]) for i in range(0, len(blob), SCALAR_LEN)
        ]
    except ValueError as error:
        raise ValueError("msm scalar out of range [0, r)") from error
    return G1Point.multiexp_unchecked(list(points), arkworks_scalars)


def _small_int_blob(values: npt.NDArray[np.integer]) -> bytes:
    """
    Encode signed integers of magnitude ``< 2^63`` as field elements, 32 bytes little-endian each.

    ``v ≥ 0`` is ``v``; ``v < 0`` is ``R − |v|``, whose low 64-bit limb is ``R_0 − |v|`` (no borrow,
    since ``|v| < 2^63 < R_0``) and whose upper limbs are ``R``'s.
    """
    v = values.astype(np.int64)
    limbs = np.zeros((v.size, 4), dtype="<u8")
    negative = v < 0
    # -v for v < 0, computed in uint64 (exact for v > -2^63); v itself for v >= 0.
    magnitude = np.where(negative, -v, v).astype(np.uint64)
    limbs[:, 0] = np.where(negative, np.uint64(_R_LOW_LIMB) - magnitude, magnitude)
    for k in range(1, 4):
        limbs[negative, k] = (R >> (64 * k)) & (2**64 - 1)
    return limbs.tobytes()


def commit(setup: Setup, values: Sequence[int] | npt.NDArray[np.integer]) -> G1Point:
    """
    Return the commitment ``Σ_k values[k]·G[k]`` (docs/proof-system.md §2).

    Parameters
    ----------
    setup :
        The setup whose monomial G1 points ``G[k] = [τ^k]₁`` are used.
    values :
        At most ``len(setup.g1)`` field elements in ``[0, R)``, or a 1-D numpy integer array
        (signed, magnitude ``< 2^63``; ``−v`` is taken as ``R − v``), which goes through a
        vectorized fast path.

    Raises
    ------
    ValueError
        If there are too many values, a value is out of range or the array is not 1-D.
    TypeError
        If the array is not of an integer dtype.
    """
    if len(values) > len(setup.g1):
        raise ValueError(f"commit of {len(values)} values, the setup has {len(setup.g1)} points")
    if isinstance(values, np.ndarray):
        if not np.issubdtype(values.dtype, np.integer):
            raise TypeError(f"commit of a {values.dtype} array")
        if values.ndim != 1:
            # A 2-D table would need an explicit flattening order (the layout is column-major).
            raise ValueError(f"commit of a {values.ndim}-D array; pass the flat vector")
        flat = values
        if flat.size and (int(flat.max()) >= 2**63 or int(flat.min()) <= -(2**63)):
            raise ValueError("commit values must have magnitude < 2^63")
        if flat.size == 0:
            return G1Point.identity()
        return _msm_le_blob(setup.g1[: flat.size], _small_int_blob(flat))
    return msm(setup.g1[: len(values)], values)


_PERIODIC_BASES: dict[tuple[int, int], tuple[Setup, tuple[G1Point, ...]]] = {}
"""``(id(setup), period) -> (setup, bases)``: :func:`periodic_bases` computed once per setup."""


def periodic_bases(setup: Setup, period: int) -> tuple[G1Point, ...]:
    """
    ``B_k = Σ_p G[k + period·p]`` for ``k < period`` (``p`` over the whole setup), computed once
    per setup and period: the bases of :func:`commit_periodic`.

    Raises
    ------
    ValueError
        If ``period`` does not divide the setup's size.
    """
    size = len(setup.g1)
    if period <= 0 or size % period:
        raise ValueError(f"period {period} does not divide the setup's {size} points")
    cached = _PERIODIC_BASES.get((id(setup), period))
    if cached is not None and cached[0] is setup:
        return cached[1]
    bases = []
    for k in range(period):
        acc = setup.g1[k]
        for f in range(k + period, size, period):
            acc = acc + setup.g1[f]
        bases.append(acc)
    out = tuple(bases)
    _PERIODIC_BASES[(id(setup), period)] = (setup, out)
    return out


def commit_periodic(setup: Setup, values: Sequence[int], period: int) -> G1Point:
    """
    ``commit`` of the periodic vector ``v[f] = values[f mod period]`` over the whole setup
    (``f < len(setup.g1)``), as an MSM of ``period`` points over :func:`periodic_bases`: the same
    group element (so the same bytes) as committing the repeated vector, at ``period/size`` of the
    cost. Used for the weight masks ``R_chunk`` (period ``D/2``) and the stack's ``Act_chunk``
    (period ``m'``).

    Raises
    ------
    ValueError
        If ``len(values) != period``, ``period`` does not divide the setup's size, or a value is
        outside ``[0, R)``.
    """
    if len(values) != period:
        raise ValueError(f"{len(values)} periodic values for period {period}")
    return msm(periodic_bases(setup, period), values)


def pairing_check(pairs: Sequence[tuple[G1Point, G2Point]]) -> bool:
    """Return whether ``Π e(P_i, Q_i) = 1`` (true for no pairs)."""
    if not pairs:
        return True
    return bool(GT.pairing_check([p for p, _ in pairs], [q for _, q in pairs]))
