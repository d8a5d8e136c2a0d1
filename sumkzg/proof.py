"""
The byte layouts of the two proofs (docs/proof-system.md §9, docs/proof-system-zk.md Z9).

Introduction
------------
Points are 128-byte EIP-2537 encodings, scalars 32 bytes big-endian; the length is fixed by the
shape, and decoding is strict (:class:`~sumkzg.errors.EncodingError` on any other length, a scalar
``>= r``, or a point that :func:`~sumkzg.curve.decode_g1` refuses)::

    inference:    C_W[K_W] ‖ C_Limb[K_L] ‖ C_Mu ‖ C_R ‖ C_Lib ‖ C_Mk ‖ Γ ‖ C_H[K_L] ‖
                  sumcheck[ℓ][4] ‖ evals[6] ‖ C_A ‖ C_Q ‖ folds[d−1] ‖ foldEvals[d][3] ‖
                  libraEvals[4] ‖ W[4]
    registration: C_W[K_W] ‖ C_BL[K_B] ‖ C_Mu ‖ C_Lib ‖ C_Mk ‖ Γ ‖ C_HW[K_HW] ‖ C_HB[K_B] ‖
                  sumcheck[ℓ][4] ‖ evals[7] ‖ C_A ‖ C_Q ‖ folds[d−1] ‖ foldEvals[d][3] ‖
                  libraEvals[4] ‖ W[4]

``evals`` end with the two mask evaluations ``M̃k(u_lo) ‖ s_G``; the tail from ``C_A`` on is
:class:`~sumkzg.batch.ZkOpeningProof`.

``C_W`` must hash to the statement's ``H_W`` (:func:`weight_commitment_hash`); the verifiers check
it, not the decoder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from py_arkworks_bls12381 import G1Point

from .curve import G1_ENCODED_LEN, decode_g1, encode_g1
from .errors import EncodingError
from .field import SCALAR_LEN, scalar_from_bytes, scalar_to_bytes
from .layout import Layout, LimbLayout
from .sumcheck import ROUND_EVALS
from .transcript import keccak256

if TYPE_CHECKING:
    from .batch import ZkOpeningProof

REGISTRATION_EVALS = 7
"""Evaluations of a registration proof: ``W̃′, B̃L, H̃W, H̃B, M̃u`` at ``u``, ``M̃k(u_lo)``, ``s_G``."""
INFERENCE_EVALS = 6
"""Evaluations of an inference proof: ``Ŵ, L̃imb, H̃, M̃u`` at ``u``, ``M̃k(u_lo)``, ``s_G``."""

Rounds = tuple[tuple[int, int, int, int], ...]


def weight_commitment_hash(chunks: Sequence[G1Point]) -> bytes:
    """``H_W = keccak256(C_W[0] ‖ … ‖ C_W[K_W−1])`` over the 128-byte encodings."""
    return keccak256(b"".join(encode_g1(c) for c in chunks))


def points_bytes(points: Sequence[G1Point]) -> bytes:
    """Concatenated 128-byte encodings."""
    return b"".join(encode_g1(p) for p in points)


def scalars_bytes(scalars: Sequence[int]) -> bytes:
    """Concatenated 32-byte big-endian scalars (each must be in ``[0, r)``)."""
    return b"".join(scalar_to_bytes(s) for s in scalars)


def rounds_bytes(rounds: Rounds) -> bytes:
    """The sumcheck section: ``ℓ × 4`` scalars, round-major."""
    return b"".join(scalars_bytes(r) for r in rounds)


class _Reader:
    """Strict sequential decoder over a proof of known total length."""

    def __init__(self, data: bytes, expected: int, what: str) -> None:
        if len(data) != expected:
            raise EncodingError(f"{what} of {len(data)} bytes, expected {expected}")
        self.data = data
        self.offset = 0

    def points(self, count: int) -> tuple[G1Point, ...]:
        out = []
        for _ in range(count):
            out.append(decode_g1(self.data[self.offset : self.offset + G1_ENCODED_LEN]))
            self.offset += G1_ENCODED_LEN
        return tuple(out)

    def scalars(self, count: int) -> tuple[int, ...]:
        out = []
        for _ in range(count):
            out.append(scalar_from_bytes(self.data[self.offset : self.offset + SCALAR_LEN]))
            self.offset += SCALAR_LEN
        return tuple(out)

    def rounds(self, count: int) -> Rounds:
        out = []
        for _ in range(count):
            a, b, c, d = self.scalars(ROUND_EVALS)
            out.append((a, b, c, d))
        return tuple(out)

    def opening(self) -> ZkOpeningProof:
        from .batch import ZkOpeningProof

        proof = ZkOpeningProof.from_bytes(self.data[self.offset :])
        self.offset = len(self.data)
        return proof


def _opening_len() -> int:
    from .batch import ZkOpeningProof

    return ZkOpeningProof.BYTE_LEN


def _rounds_len(ell: int) -> int:
    return ell * ROUND_EVALS * SCALAR_LEN


@dataclass(frozen=True)
class RegistrationProof:
    """
    A decoded registration (well-formedness) proof (docs/proof-system-zk.md Z9).

    Attributes
    ----------
    c_w, c_bl, c_mu :
        The chunk commitments (``K_W``, ``K_B``, 1 points).
    c_lib, c_mk, libra_sum :
        The mask commitments ``C_Lib``, ``C_Mk`` and ``Γ`` (round 1).
    c_hw, c_hb :
        The inverse commitments (``K_HW``, ``K_B`` points).
    rounds :
        ``ℓ`` sumcheck rounds of ``s(0), s(1), s(2), s(3)``.
    evals :
        ``W̃′(u), B̃L(u), H̃W(u), H̃B(u), M̃u(u), M̃k(u_lo), s_G``.
    opening :
        ``C_A ‖ C_Q`` and the four-point opening (Z5, Z7).
    """

    c_w: tuple[G1Point, ...]
    c_bl: tuple[G1Point, ...]
    c_mu: G1Point
    c_lib: G1Point
    c_mk: G1Point
    libra_sum: int
    c_hw: tuple[G1Point, ...]
    c_hb: tuple[G1Point, ...]
    rounds: Rounds
    evals: tuple[int, ...]
    opening: ZkOpeningProof

    @staticmethod
    def sumcheck_offset(layout: Layout) -> int:
        """The byte offset of the first sumcheck scalar (after ``C_HB``)."""
        points = layout.k_w + 2 * layout.k_b + 3 + layout.k_hw
        return points * G1_ENCODED_LEN + SCALAR_LEN

    @staticmethod
    def byte_len(layout: Layout) -> int:
        """The exact byte length for a shape."""
        points = layout.k_w + 2 * layout.k_b + 3 + layout.k_hw
        return (
            points * G1_ENCODED_LEN
            + SCALAR_LEN
            + _rounds_len(layout.ell)
            + REGISTRATION_EVALS * SCALAR_LEN
            + _opening_len()
        )

    def check_shape(self, layout: Layout) -> None:
        """
        Raise :class:`EncodingError` if a section's length does not match ``layout``.
        """
        if (
            len(self.c_w) != layout.k_w
            or len(self.c_bl) != layout.k_b
            or len(self.c_hw) != layout.k_hw
            or len(self.c_hb) != layout.k_b
            or len(self.rounds) != layout.ell
            or len(self.evals) != REGISTRATION_EVALS
        ):
            raise EncodingError("registration proof sections do not match the shape")

    def to_bytes(self) -> bytes:
        """The Z9 encoding."""
        return (
            points_bytes(self.c_w)
            + points_bytes(self.c_bl)
            + encode_g1(self.c_mu)
            + encode_g1(self.c_lib)
            + encode_g1(self.c_mk)
            + scalar_to_bytes(self.libra_sum)
            + points_bytes(self.c_hw)
            + points_bytes(self.c_hb)
            + rounds_bytes(self.rounds)
            + scalars_bytes(self.evals)
            + self.opening.to_bytes()
        )

    @staticmethod
    def from_bytes(data: bytes, layout: Layout) -> RegistrationProof:
        """
        Decode strictly for the shape ``layout``.

        Raises
        ------
        EncodingError
            On a wrong length, a non-canonical scalar or an invalid point.
        """
        reader = _Reader(bytes(data), RegistrationProof.byte_len(layout), "registration proof")
        return RegistrationProof(
            c_w=reader.points(layout.k_w),
            c_bl=reader.points(layout.k_b),
            c_mu=reader.points(1)[0],
            c_lib=reader.points(1)[0],
            c_mk=reader.points(1)[0],
            libra_sum=reader.scalars(1)[0],
            c_hw=reader.points(layout.k_hw),
            c_hb=reader.points(layout.k_b),
            rounds=reader.rounds(layout.ell),
            evals=reader.scalars(REGISTRATION_EVALS),
            opening=reader.opening(),
        )


@dataclass(frozen=True)
class InferenceProof:
    """
    A decoded inference proof (docs/proof-system-zk.md Z9).

    Attributes
    ----------
    c_w, c_limb, c_mu :
        The chunk commitments (``K_W``, ``K_L``, 1 points).
    c_r, c_lib, c_mk, libra_sum :
        The mask commitments ``C_R``, ``C_Lib``, ``C_Mk`` and ``Γ`` (round 1).
    c_h :
        ``C_H[K_L]``.
    rounds :
        ``ℓ`` sumcheck rounds of ``s(0), s(1), s(2), s(3)``.
    evals :
        ``Ŵ(u), L̃imb(u), H̃(u), M̃u(u), M̃k(u_lo), s_G``.
    opening :
        ``C_A ‖ C_Q`` and the four-point opening (Z5, Z7).
    """

    c_w: tuple[G1Point, ...]
    c_limb: tuple[G1Point, ...]
    c_mu: G1Point
    c_r: G1Point
    c_lib: G1Point
    c_mk: G1Point
    libra_sum: int
    c_h: tuple[G1Point, ...]
    rounds: Rounds
    evals: tuple[int, ...]
    opening: ZkOpeningProof

    @staticmethod
    def sumcheck_offset(layout: LimbLayout) -> int:
        """The byte offset of the first sumcheck scalar (after ``C_H``)."""
        points = layout.shape.k_w + 2 * layout.k_l + 4
        return points * G1_ENCODED_LEN + SCALAR_LEN

    @staticmethod
    def byte_len(layout: LimbLayout) -> int:
        """The exact byte length for a shape and shift."""
        points = layout.shape.k_w + 2 * layout.k_l + 4
        return (
            points * G1_ENCODED_LEN
            + SCALAR_LEN
            + _rounds_len(layout.shape.ell)
            + INFERENCE_EVALS * SCALAR_LEN
            + _opening_len()
        )

    def check_shape(self, layout: LimbLayout) -> None:
        """
        Raise :class:`EncodingError` if a section's length does not match ``layout``.
        """
        if (
            len(self.c_w) != layout.shape.k_w
            or len(self.c_limb) != layout.k_l
            or len(self.c_h) != layout.k_l
            or len(self.rounds) != layout.shape.ell
            or len(self.evals) != INFERENCE_EVALS
        ):
            raise EncodingError("inference proof sections do not match the shape")

    def to_bytes(self) -> bytes:
        """The Z9 encoding."""
        return (
            points_bytes(self.c_w)
            + points_bytes(self.c_limb)
            + encode_g1(self.c_mu)
            + encode_g1(self.c_r)
            + encode_g1(self.c_lib)
            + encode_g1(self.c_mk)
            + scalar_to_bytes(self.libra_sum)
            + points_bytes(self.c_h)
            + rounds_bytes(self.rounds)
            + scalars_bytes(self.evals)
            + self.opening.to_bytes()
        )

    @staticmethod
    def from_bytes(data: bytes, layout: LimbLayout) -> InferenceProof:
        """
        Decode strictly for the shape and shift ``layout``.

        Raises
        ------
        EncodingError
            On a wrong length, a non-canonical scalar or an invalid point.
        """
        reader = _Reader(bytes(data), InferenceProof.byte_len(layout), "inference proof")
        return InferenceProof(
            c_w=reader.points(layout.shape.k_w),
            c_limb=reader.points(layout.k_l),
            c_mu=reader.points(1)[0],
            c_r=reader.points(1)[0],
            c_lib=reader.points(1)[0],
            c_mk=reader.points(1)[0],
            libra_sum=reader.scalars(1)[0],
            c_h=reader.points(layout.k_l),
            rounds=reader.rounds(layout.shape.ell),
            evals=reader.scalars(INFERENCE_EVALS),
            opening=reader.opening(),
        )
