"""
The byte layouts of the two proofs (docs/proof-system.md §9).

Introduction
------------
Points are 128-byte EIP-2537 encodings, scalars 32 bytes big-endian; the length is fixed by the
shape, and decoding is strict (:class:`~sumkzg.errors.EncodingError` on any other length, a scalar
``>= r``, or a point that :func:`~sumkzg.curve.decode_g1` refuses)::

    registration: C_W[K_W] ‖ C_BL[K_B] ‖ C_Mu ‖ C_HW[K_HW] ‖ C_HB[K_B] ‖ sumcheck[ℓ][4] ‖
                  evals[5] ‖ folds[d−1] ‖ foldEvals[d][3] ‖ W[3]
    inference:    C_W[K_W] ‖ C_Limb[K_L] ‖ C_Mu ‖ C_H[K_L] ‖ sumcheck[ℓ][4] ‖ evals[4] ‖
                  folds[d−1] ‖ foldEvals[d][3] ‖ W[3]

``C_W`` must hash to the statement's ``H_W`` (:func:`weight_commitment_hash`); the verifiers check
it, not the decoder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from py_arkworks_bls12381 import G1Point

from .curve import G1_ENCODED_LEN, decode_g1, encode_g1
from .errors import EncodingError
from .field import SCALAR_LEN, scalar_from_bytes, scalar_to_bytes
from .hyperkzg import OpeningProof
from .layout import Layout, LimbLayout
from .sumcheck import ROUND_EVALS
from .transcript import keccak256

REGISTRATION_EVALS = 5
"""Opened polynomials of a registration proof: ``W′, BL, HW, HB, Mu``."""
INFERENCE_EVALS = 4
"""Opened polynomials of an inference proof: ``W′, Limb, H, Mu``."""

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

    def opening(self) -> OpeningProof:
        proof = OpeningProof.from_bytes(self.data[self.offset :])
        self.offset = len(self.data)
        return proof


def _rounds_len(ell: int) -> int:
    return ell * ROUND_EVALS * SCALAR_LEN


@dataclass(frozen=True)
class RegistrationProof:
    """
    A decoded registration (well-formedness) proof.

    Attributes
    ----------
    c_w, c_bl, c_mu, c_hw, c_hb :
        The chunk commitments (``K_W``, ``K_B``, 1, ``K_HW``, ``K_B`` points).
    rounds :
        ``ℓ`` sumcheck rounds of ``s(0), s(1), s(2), s(3)``.
    evals :
        ``W̃′(u), B̃L(u), H̃W(u), H̃B(u), M̃u(u)``.
    opening :
        The batched multilinear opening (§8).
    """

    c_w: tuple[G1Point, ...]
    c_bl: tuple[G1Point, ...]
    c_mu: G1Point
    c_hw: tuple[G1Point, ...]
    c_hb: tuple[G1Point, ...]
    rounds: Rounds
    evals: tuple[int, ...]
    opening: OpeningProof

    @staticmethod
    def byte_len(layout: Layout) -> int:
        """The exact byte length for a shape."""
        points = layout.k_w + 2 * layout.k_b + 1 + layout.k_hw
        return (
            points * G1_ENCODED_LEN
            + _rounds_len(layout.ell)
            + REGISTRATION_EVALS * SCALAR_LEN
            + OpeningProof.BYTE_LEN
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
        """The §9 encoding."""
        return (
            points_bytes(self.c_w)
            + points_bytes(self.c_bl)
            + encode_g1(self.c_mu)
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
            c_hw=reader.points(layout.k_hw),
            c_hb=reader.points(layout.k_b),
            rounds=reader.rounds(layout.ell),
            evals=reader.scalars(REGISTRATION_EVALS),
            opening=reader.opening(),
        )


@dataclass(frozen=True)
class InferenceProof:
    """
    A decoded inference proof.

    Attributes
    ----------
    c_w, c_limb, c_mu, c_h :
        The chunk commitments (``K_W``, ``K_L``, 1, ``K_L`` points).
    rounds :
        ``ℓ`` sumcheck rounds of ``s(0), s(1), s(2), s(3)``.
    evals :
        ``W̃′(u), L̃imb(u), H̃(u), M̃u(u)``.
    opening :
        The batched multilinear opening (§8).
    """

    c_w: tuple[G1Point, ...]
    c_limb: tuple[G1Point, ...]
    c_mu: G1Point
    c_h: tuple[G1Point, ...]
    rounds: Rounds
    evals: tuple[int, ...]
    opening: OpeningProof

    @staticmethod
    def byte_len(layout: LimbLayout) -> int:
        """The exact byte length for a shape and shift."""
        points = layout.shape.k_w + 2 * layout.k_l + 1
        return (
            points * G1_ENCODED_LEN
            + _rounds_len(layout.shape.ell)
            + INFERENCE_EVALS * SCALAR_LEN
            + OpeningProof.BYTE_LEN
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
        """The §9 encoding."""
        return (
            points_bytes(self.c_w)
            + points_bytes(self.c_limb)
            + encode_g1(self.c_mu)
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
            c_h=reader.points(layout.k_l),
            rounds=reader.rounds(layout.shape.ell),
            evals=reader.scalars(INFERENCE_EVALS),
            opening=reader.opening(),
        )
