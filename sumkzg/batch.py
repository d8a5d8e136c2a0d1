"""
The steps both proofs share (docs/proof-system.md §6, §7 with the zero-knowledge delta
docs/proof-system-zk.md Z4–Z8, Z10): the round-1/round-2 transcript handling, the proof's masks and
the batched opening of the committed polynomials at the sumcheck's point with the Libra sum proof.

Introduction
------------
Both provers (and both verifiers) run the same v2 skeleton::

    absorb the statement (tag 0x00)                               start_transcript
    absorb round-1 commitments ‖ C_Lib ‖ C_Mk ‖ Γ (0x01),
        draw α (and λ)                                            round1_challenges
    absorb round-2 commitments (0x02), draw τ, τ″, γ, ρ_L         round2_challenges
    the sumcheck of F + ρ_L·G from the claim ρ_L·Γ (0x03 per
        round; the Libra part is a round addend)                  sumcheck.prove_rounds /
                                                                  verify_rounds
    absorb evals ‖ M̃k(u_lo) ‖ s_G (0x04), draw ν                 open_batched / verify_batched
    Q = Σ_p ν^p·Σ_c eq(u_hi, c)·P_p[chunk c]
        + u_ℓ(1 − u_ℓ)·R_chunk  (inference: in W′'s slot, ν^0)
        + ν^P·Mk                (the Gemini mask, P opened polys)
    absorb C_A (0x08), draw κ, absorb C_Q (0x09)                   (Libra grand sum, quotient)
    open Q at u_lo and Lib̂, Â, Q̂ at β, Â at ωβ (0x05–0x07)        hyperkzg.open_multilinear /
                                                                  verify_opening
    check T(β) = Q̂(β)·Z_H(β)                                      libra.check_sum_identity

The masks of one proof (:class:`ZkMasks`: the Libra mask and the Gemini mask ``Mk``; inference also
the weight mask ``R``, :class:`WeightMask`) are fresh CSPRNG draws, nonzero
(docs/proof-system-zk.md Z0). The relation code (registration, inference) owns the statement, its
own commitments, the sumcheck's terms, the final check ``claim = F(u) + ρ_L·s_G`` and the
rejections ``ρ_L = 0`` and ``u_ℓ(1 − u_ℓ) = 0``; this module rejects ``C_Lib``, ``C_Mk``, ``C_R``,
``C_A``, ``C_Q`` at infinity and (through the opening) ``β = 0`` and ``β^N = 1`` (Z10).

The opened polynomials are given in proof order; the first is always ``W′``, whose blinding columns
(one per chunk, not part of its flat integer vector) are added to ``Q`` separately.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar, TypeVar

import numpy as np
import numpy.typing as npt
from py_arkworks_bls12381 import G1Point

from .accel import field_gemv_int
from .curve import G1_ENCODED_LEN, commit, decode_g1, encode_g1, msm
from .errors import EncodingError, ProofRejected, WitnessError
from .field import R, eq_table, mle_eval, scalar_to_bytes
from .hyperkzg import OpeningProof, open_multilinear, opening_byte_len, verify_opening
from .layout import Layout
from .libra import (
    LibraMasks,
    check_sum_identity,
    grand_sum_hat,
    quotient_hat,
    random_nonzero_vector,
)
from .setup import LOG_D, D, Setup
from .sumcheck import ObjArray, obj_array
from .transcript import (
    TAG_EVALUATIONS,
    TAG_LIBRA_QUOTIENT,
    TAG_LIBRA_SUM_COMMIT,
    TAG_ROUND1,
    TAG_ROUND2,
    TAG_STATEMENT,
    Transcript,
)

Flat = npt.NDArray[np.int64] | ObjArray
"""A flat vector of small integers (int64) or of field elements (``object``)."""

TAIL_EVALS = 2
"""Scalars after the opened polynomials' evaluations: ``M̃k(u_lo) ‖ s_G``."""


def _points_bytes(points: Sequence[G1Point]) -> bytes:
    return b"".join(encode_g1(p) for p in points)


def _scalars_bytes(scalars: Sequence[int]) -> bytes:
    return b"".join(scalar_to_bytes(s) for s in scalars)


# --------------------------------------------------------------------------------------------------
# Degenerate draws (docs/proof-system-zk.md Z10)

DEGENERATE_RETRIES = 8
"""Attempts with fresh masks before giving up on degenerate challenges (each has p ≈ 2^−250)."""

_T = TypeVar("_T")


class DegenerateDrawError(Exception):
    """A degenerate challenge (Z10) for an honest prover: retry with fresh masks."""


def with_fresh_masks(attempt: Callable[[], _T], *, fixed: bool) -> _T:
    """
    Run ``attempt`` (one proof with freshly drawn masks) until it does not raise
    :class:`DegenerateDrawError`, at most :data:`DEGENERATE_RETRIES` times.

    Raises
    ------
    WitnessError
        If a degenerate challenge comes up while ``fixed`` (a caller's transcript or masks forced
        by a TESTS-ONLY hook: a retry would draw the same), or in every attempt.
    """
    for _ in range(DEGENERATE_RETRIES):
        try:
            return attempt()
        except DegenerateDrawError:
            if fixed:
                raise WitnessError("a degenerate challenge with fixed masks") from None
    raise WitnessError("degenerate challenges in every attempt")  # pragma: no cover


# --------------------------------------------------------------------------------------------------
# The transcript rounds


def start_transcript(
    domain: bytes, statement_bytes: bytes, transcript: Transcript | None
) -> Transcript:
    """``transcript`` (or a fresh one of ``domain``) after absorbing the statement (``0x00``)."""
    tr = transcript if transcript is not None else Transcript(domain)
    tr.absorb(TAG_STATEMENT, statement_bytes)
    return tr


def round1_challenges(
    tr: Transcript, points: Sequence[G1Point], count: int, libra_sum: int
) -> list[int]:
    """
    Absorb the round-1 message (tag ``0x01``) ``points ‖ Γ`` and draw ``count`` challenges
    (``α``, ``λ``).

    Parameters
    ----------
    points :
        The round-1 commitments in proof order, ending with ``C_Lib ‖ C_Mk``
        (docs/proof-system-zk.md Z8).
    libra_sum :
        ``Γ``, in ``[0, r)``.
    """
    tr.absorb(TAG_ROUND1, _points_bytes(points) + scalar_to_bytes(libra_sum))
    return tr.challenges(count)


def round2_challenges(
    tr: Transcript, points: Sequence[G1Point], layout: Layout
) -> tuple[list[int], list[int], int, int]:
    """
    Absorb the round-2 commitments (tag ``0x02``), draw ``τ`` (``μ_i``), ``τ″`` (``ℓ``), ``γ`` and
    ``ρ_L`` (the caller rejects ``ρ_L = 0``).
    """
    tr.absorb(TAG_ROUND2, _points_bytes(points))
    tau = tr.challenges(layout.mu_i)
    tau2 = tr.challenges(layout.ell)
    gamma = tr.challenge()
    return tau, tau2, gamma, tr.challenge()


# --------------------------------------------------------------------------------------------------
# The masks


def _refuse_identity(point: G1Point, name: str) -> None:
    """The prover's side of Z10: a commitment at infinity would be rejected; draw fresh masks."""
    if point == G1Point.identity():
        raise WitnessError(f"{name} is the point at infinity: draw fresh masks")


@dataclass
class ZkMasks:
    """
    The masks every v2 proof draws (docs/proof-system-zk.md Z5, Z6).

    Attributes
    ----------
    libra :
        The Libra mask (``g_v``, ``Lib̂``'s and ``Â``'s blinders).
    gemini :
        ``Mk``, ``D`` entries, added to ``Q`` with weight ``ν^P``.
    """

    libra: LibraMasks
    gemini: list[int]

    @staticmethod
    def draw(ell: int, rng: random.Random | None = None) -> ZkMasks:
        """
        Draw fresh masks for a sumcheck of ``ℓ`` variables, every value uniform in ``F \\ {0}``.

        Parameters
        ----------
        ell :
            ``ℓ`` (``1..32``).
        rng :
            TESTS ONLY (golden vectors, backend byte-equality): a deterministic source; ``None``
            (every real proof) draws from :mod:`secrets`.
        """
        libra = LibraMasks.draw(ell, rng)
        return ZkMasks(libra=libra, gemini=random_nonzero_vector(D, rng))

    def commitments(self, setup: Setup) -> tuple[G1Point, G1Point]:
        """
        ``(C_Lib, C_Mk)``: the commitments of ``Lib̂`` and ``Mk`` (round 1).

        Raises
        ------
        WitnessError
            If one is the point at infinity (probability ``~1/r``; a verifier would reject).
        """
        if len(self.gemini) != D:
            raise ValueError(f"Mk has {len(self.gemini)} entries, expected {D}")
        c_lib = commit(setup, self.libra.lib_hat())
        c_mk = commit(setup, self.gemini)
        _refuse_identity(c_lib, "C_Lib")
        _refuse_identity(c_mk, "C_Mk")
        return c_lib, c_mk


@dataclass
class WeightMask:
    """
    The inference weight mask in the opening (docs/proof-system-zk.md Z4).

    Attributes
    ----------
    chunk :
        ``R_chunk`` (``D`` entries, ``R_chunk[f] = R[f mod D/2]``), committed as ``C_R``.
    scale :
        ``u_ℓ·(1 − u_ℓ)`` at the sumcheck's point.
    """

    chunk: list[int]
    scale: int

    @staticmethod
    def draw_chunk(rng: random.Random | None = None) -> list[int]:
        """
        A fresh ``R_chunk``: ``D/2`` nonzero values ``R``, repeated (both halves equal, so its
        multilinear extension does not depend on ``X_d``); ``rng`` is TESTS ONLY.
        """
        half = random_nonzero_vector(D // 2, rng)
        return half + half


# --------------------------------------------------------------------------------------------------
# The batched opening


@dataclass(frozen=True)
class ZkOpeningProof:
    """
    The opening part of a v2 proof: ``C_A ‖ C_Q ‖ folds ‖ foldEvals ‖ libraEvals ‖ W[4]``
    (docs/proof-system-zk.md Z9).

    Attributes
    ----------
    c_a :
        ``C_A``, the commitment of the Libra grand sum ``Â``.
    c_q :
        ``C_Q``, the commitment of the Libra quotient ``Q̂``.
    opening :
        The four-point opening (folds, ``d × 3`` fold evaluations, the four Libra evaluations,
        ``W_0..W_3``).
    """

    c_a: G1Point
    c_q: G1Point
    opening: OpeningProof

    BYTE_LEN: ClassVar[int] = 2 * G1_ENCODED_LEN + OpeningProof.BYTE_LEN
    """The byte length for ``d = LOG_D`` (the real setup)."""

    @staticmethod
    def byte_len(num_vars: int = LOG_D) -> int:
        """The byte length for an opening in ``num_vars`` variables."""
        return 2 * G1_ENCODED_LEN + opening_byte_len(num_vars)

    def to_bytes(self) -> bytes:
        """``C_A ‖ C_Q ‖ folds ‖ foldEvals ‖ libraEvals ‖ W[4]``."""
        return encode_g1(self.c_a) + encode_g1(self.c_q) + self.opening.to_bytes()

    @classmethod
    def from_bytes(cls, data: bytes, num_vars: int = LOG_D) -> ZkOpeningProof:
        """
        Decode strictly.

        Raises
        ------
        EncodingError
            On a wrong length, a non-canonical scalar or an invalid point.
        """
        data = bytes(data)
        if len(data) != cls.byte_len(num_vars):
            raise EncodingError(f"opening of {len(data)} bytes, expected {cls.byte_len(num_vars)}")
        c_a = decode_g1(data[:G1_ENCODED_LEN])
        c_q = decode_g1(data[G1_ENCODED_LEN : 2 * G1_ENCODED_LEN])
        opening = OpeningProof.from_bytes(data[2 * G1_ENCODED_LEN :], num_vars)
        return cls(c_a=c_a, c_q=c_q, opening=opening)


def open_batched(
    setup: Setup,
    layout: Layout,
    polys: Sequence[tuple[Flat, int]],
    blinding: ObjArray,
    point: Sequence[int],
    evals: Sequence[int],
    tr: Transcript,
    *,
    masks: ZkMasks,
    s_g: int,
    w_mask: WeightMask | None,
) -> tuple[ZkOpeningProof, list[int]]:
    """
    Absorb the evaluations (tag ``0x04``), draw ``ν``, prove the Libra sum (``0x08``, ``κ``,
    ``0x09``) and open ``Q`` at ``u_lo`` with ``Lib̂, Â, Q̂`` (docs/proof-system-zk.md Z5–Z8).

    Parameters
    ----------
    setup, layout :
        The setup and the shape (its chunk split of ``point``).
    polys :
        ``(flat, K)`` per opened polynomial, in proof order; ``polys[0]`` is the integer part of
        ``W′`` (:func:`~sumkzg.registration.weight_flat`).
    blinding :
        ``W′``'s blinding entries as a ``K_W × m'`` array (row ``κ``: chunk ``κ``'s blinding column,
        :func:`~sumkzg.registration.blinding_rows`), added to ``Q`` with ``W′``'s weight
        ``ν^0 = 1``.
    point, evals :
        The sumcheck's point and the claimed evaluations there (proof order; ``evals[0]`` is
        ``Ŵ(u)`` for inference), without the tail.
    masks :
        The proof's masks (their commitments are in round 1).
    s_g :
        ``G(u)`` (:meth:`~sumkzg.libra.LibraMasks.evaluate`).
    w_mask :
        Inference: the weight mask, added with ``W′``'s weight; registration: ``None``.

    Returns
    -------
    opening, tail : `tuple[ZkOpeningProof, list[int]]`
        The opening proof and ``[M̃k(u_lo), s_G]``, the evaluations that follow ``evals`` in the
        proof (the tag-``0x04`` message is ``evals ‖ tail``).

    Raises
    ------
    WitnessError
        If ``s_G`` is not ``G(u)`` or ``C_A``/``C_Q`` is at infinity.
    TranscriptError
        If ``β = 0`` or ``β^N = 1`` (an honest prover retries with fresh masks).
    """
    u_lo, u_hi = layout.split_chunk_point(point)
    if len(masks.gemini) != D:
        raise ValueError(f"Mk has {len(masks.gemini)} entries, expected {D}")
    s_g %= R
    tail = [mle_eval(masks.gemini, u_lo), s_g]
    tr.absorb(TAG_EVALUATIONS, _scalars_bytes([*evals, *tail]))
    nu = tr.challenge()
    e_hi = eq_table(u_hi)
    nus = powers(nu, len(polys) + 1)
    q = combine_chunks(polys[0][0], polys[0][1], e_hi)
    add_blinding(q, layout, blinding, e_hi, 1)
    if w_mask is not None:
        if len(w_mask.chunk) != D:
            raise ValueError(f"R_chunk has {len(w_mask.chunk)} entries, expected {D}")
        q = (q + (w_mask.scale % R) * obj_array(w_mask.chunk)) % R
    for scale, (flat, count) in zip(nus[1 : len(polys)], polys[1:], strict=True):
        q = (q + scale * combine_chunks(flat, count, e_hi)) % R
    q = (q + nus[len(polys)] * obj_array(masks.gemini)) % R

    # The Libra sum proof: C_A, κ, C_Q.
    a_hat = grand_sum_hat(masks.libra, point)
    c_a = commit(setup, a_hat)
    _refuse_identity(c_a, "C_A")
    tr.absorb(TAG_LIBRA_SUM_COMMIT, encode_g1(c_a))
    kappa = tr.challenge()
    q_hat = quotient_hat(masks.libra, a_hat, point, s_g, kappa)
    c_q = commit(setup, q_hat)
    _refuse_identity(c_q, "C_Q")
    tr.absorb(TAG_LIBRA_QUOTIENT, encode_g1(c_q))

    opening = open_multilinear(
        setup,
        [int(v) for v in q],
        u_lo,
        tr,
        lib_hat=masks.libra.lib_hat(),
        a_hat=a_hat,
        q_hat=q_hat,
    )
    return ZkOpeningProof(c_a=c_a, c_q=c_q, opening=opening), tail


def verify_batched(
    setup: Setup,
    layout: Layout,
    groups: Sequence[Sequence[G1Point]],
    point: Sequence[int],
    evals: Sequence[int],
    opening: ZkOpeningProof,
    tr: Transcript,
    *,
    c_lib: G1Point,
    c_mk: G1Point,
    s_g: int,
    w_mask_commitment: tuple[G1Point, int] | None,
) -> None:
    """
    The verifier's side of :func:`open_batched`: absorb the evaluations, draw ``ν``, fold the
    commitments into the opened ``Q``'s commitment (one MSM) and ``evals`` into ``v_Q``, absorb
    ``C_A``, draw ``κ``, absorb ``C_Q``, check the four-point opening and the Libra identity at
    ``β``.

    Parameters
    ----------
    groups :
        The chunk commitments of each opened polynomial, in proof order (``P = len(groups)``).
    point :
        The sumcheck's point ``u`` (``ℓ`` coordinates).
    evals :
        Every evaluation of the proof, **with** the tail: ``P`` values, then ``M̃k(u_lo)``, ``s_G``.
    opening :
        ``C_A``, ``C_Q`` and the four-point opening.
    c_lib, c_mk :
        ``C_Lib`` and ``C_Mk`` from round 1.
    s_g :
        ``s_G`` (must equal ``evals[-1]``).
    w_mask_commitment :
        Inference: ``(C_R, u_ℓ·(1 − u_ℓ))``, added to ``W′``'s slot; registration: ``None``.

    Raises
    ------
    ProofRejected
        If the sizes are wrong, a commitment of Z10 is at infinity (``C_Lib, C_Mk, C_R, C_A,
        C_Q``), ``u_ℓ(1 − u_ℓ) = 0``, the opening fails (:class:`OpeningRejected`, including
        ``β = 0`` and ``β^N = 1``) or the Libra identity fails.
    """
    count = len(groups)
    if len(evals) != count + TAIL_EVALS:
        raise ProofRejected(f"{len(evals)} evaluations for {count} opened polynomials")
    if evals[-1] != s_g:
        raise ProofRejected("s_G differs from the last evaluation")
    identity = G1Point.identity()
    named = [("C_Lib", c_lib), ("C_Mk", c_mk), ("C_A", opening.c_a), ("C_Q", opening.c_q)]
    if w_mask_commitment is not None:
        named.append(("C_R", w_mask_commitment[0]))
        if w_mask_commitment[1] % R == 0:
            raise ProofRejected("u_ℓ·(1 − u_ℓ) = 0")
    for name, commitment in named:
        if commitment == identity:
            raise ProofRejected(f"{name} is the point at infinity")

    tr.absorb(TAG_EVALUATIONS, _scalars_bytes(evals))
    nu = tr.challenge()
    u_lo, u_hi = layout.split_chunk_point(point)
    if len(u_lo) != LOG_D:
        raise ProofRejected("opening point of the wrong size")
    e_hi = eq_table(u_hi)
    nus = powers(nu, count + 1)
    # C of the opened Q: Σ_p ν^p·Σ_c eq(u_hi, c)·C_p[c] + ν^P·C_Mk (+ u_ℓ(1 − u_ℓ)·C_R).
    bases = [c for group in groups for c in group]
    scalars = [
        scale * e_hi[c] % R
        for group, scale in zip(groups, nus[:count], strict=True)
        for c in range(len(group))
    ]
    bases.append(c_mk)
    scalars.append(nus[count])
    if w_mask_commitment is not None:
        bases.append(w_mask_commitment[0])
        scalars.append(w_mask_commitment[1] % R)
    c_open = msm(bases, scalars)
    v_q = sum(s * e for s, e in zip(nus, evals[: count + 1], strict=True)) % R

    tr.absorb(TAG_LIBRA_SUM_COMMIT, encode_g1(opening.c_a))
    kappa = tr.challenge()
    tr.absorb(TAG_LIBRA_QUOTIENT, encode_g1(opening.c_q))
    beta = verify_opening(
        setup,
        c_open,
        u_lo,
        v_q,
        opening.opening,
        tr,
        c_lib=c_lib,
        c_a=opening.c_a,
        c_q=opening.c_q,
    )
    lib_b, a_b, q_b, a_wb = opening.opening.libra_evals
    check_sum_identity(layout.ell, point, s_g, kappa, beta, lib_b, a_b, q_b, a_wb)


# --------------------------------------------------------------------------------------------------
# Chunk arithmetic


def combine_chunks(
    flat: npt.NDArray[np.int64] | ObjArray, count: int, weights: Sequence[int]
) -> ObjArray:
    """
    ``Σ_{c<count} weights[c]·chunk_c``: a vector of ``D`` field elements.

    An int64 ``flat`` goes through :func:`~sumkzg.accel.field_gemv_int` (entries ``|v| <= 2^31``);
    an ``object`` one through a numpy dot product.
    """
    padded_len = count * D
    if len(flat) > padded_len:
        raise ValueError(f"{len(flat)} entries do not fit {count} chunks")
    if flat.dtype == object:
        padded = np.zeros(padded_len, dtype=object)
        padded[: len(flat)] = flat
        w = np.array([int(x) % R for x in weights[:count]], dtype=object)
        return np.asarray(np.dot(w, padded.reshape(count, D)) % R, dtype=object)
    padded_int = np.zeros(padded_len, dtype=np.int64)
    padded_int[: len(flat)] = flat
    return obj_array(
        field_gemv_int([int(x) % R for x in weights[:count]], padded_int.reshape(count, D))
    )


def add_blinding(
    q: ObjArray, layout: Layout, blinding: ObjArray, weights: Sequence[int], scale: int
) -> None:
    """
    ``q += scale·Σ_κ weights[κ]·blinding[κ]`` in place on the entries ``D − m' .. D``: chunk
    ``κ``'s blinding column is its last column (docs/proof-system.md §4); ``blinding`` is the
    ``K_W × m'`` array of :func:`~sumkzg.registration.blinding_rows`.
    """
    if blinding.shape != (layout.k_w, layout.m_pad):
        raise ValueError(f"blinding of shape {blinding.shape}, expected ({layout.k_w}, m')")
    w = np.empty(layout.k_w, dtype=object)
    w[:] = [scale * int(x) % R for x in weights[: layout.k_w]]
    part = np.dot(w, blinding)
    base = D - layout.m_pad
    q[base:] = (q[base:] + part) % R


def powers(x: int, count: int) -> list[int]:
    """``[1, x, …, x^{count−1}]`` mod ``R``."""
    out = [1]
    for _ in range(count - 1):
        out.append(out[-1] * x % R)
    return out[:count]
