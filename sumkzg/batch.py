"""
The steps both proofs share (docs/proof-system.md §6, §7): the round-1/round-2 transcript handling
and the batched opening of the committed polynomials at the sumcheck's point.

Introduction
------------
Both provers (and both verifiers) run the same skeleton::

    absorb the statement (tag 0x00)                          start_transcript
    absorb round-1 commitments (0x01), draw α (and λ)        round1_challenges
    absorb round-2 commitments (0x02), draw τ, τ″, γ         round2_challenges
    the sumcheck (0x03 per round)                            sumcheck.prove_rounds / verify_rounds
    absorb the evaluations (0x04), draw ν, open
    Q = Σ_p ν^p·Σ_c eq(u_hi, c)·P_p[chunk c] at u_lo        open_batched / verify_batched

The opened polynomials are given in proof order; the first is always ``W′``, whose blinding columns
(one per chunk, not part of its flat integer vector) are added to ``Q`` separately.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from py_arkworks_bls12381 import G1Point

from .accel import field_gemv_int
from .curve import msm
from .errors import ProofRejected
from .field import R, eq_table
from .hyperkzg import OpeningProof, open_multilinear, verify_opening
from .layout import Layout
from .proof import points_bytes, scalars_bytes
from .setup import LOG_D, D, Setup
from .sumcheck import ObjArray, obj_array
from .transcript import TAG_EVALUATIONS, TAG_ROUND1, TAG_ROUND2, TAG_STATEMENT, Transcript

Flat = npt.NDArray[np.int64] | ObjArray
"""A flat vector of small integers (int64) or of field elements (``object``)."""


# --------------------------------------------------------------------------------------------------
# The transcript rounds


def start_transcript(
    domain: bytes, statement_bytes: bytes, transcript: Transcript | None
) -> Transcript:
    """``transcript`` (or a fresh one of ``domain``) after absorbing the statement (``0x00``)."""
    tr = transcript if transcript is not None else Transcript(domain)
    tr.absorb(TAG_STATEMENT, statement_bytes)
    return tr


def round1_challenges(tr: Transcript, points: Sequence[G1Point], count: int) -> list[int]:
    """Absorb the round-1 commitments (tag ``0x01``), draw ``count`` challenges (``α``, ``λ``)."""
    tr.absorb(TAG_ROUND1, points_bytes(points))
    return tr.challenges(count)


def round2_challenges(
    tr: Transcript, points: Sequence[G1Point], layout: Layout
) -> tuple[list[int], list[int], int]:
    """Absorb the round-2 commitments (tag ``0x02``), draw ``τ`` (``μ_i``), ``τ″`` (``ℓ``), γ."""
    tr.absorb(TAG_ROUND2, points_bytes(points))
    tau = tr.challenges(layout.mu_i)
    tau2 = tr.challenges(layout.ell)
    return tau, tau2, tr.challenge()


# --------------------------------------------------------------------------------------------------
# The batched opening


def open_batched(
    setup: Setup,
    layout: Layout,
    polys: Sequence[tuple[Flat, int]],
    blinding: ObjArray,
    point: Sequence[int],
    evals: Sequence[int],
    tr: Transcript,
) -> OpeningProof:
    """
    Absorb the evaluations (tag ``0x04``), draw ``ν`` and open ``Q`` at ``u_lo``.

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
        The sumcheck's point and the claimed evaluations there (proof order).
    """
    tr.absorb(TAG_EVALUATIONS, scalars_bytes(evals))
    nu = tr.challenge()
    u_lo, u_hi = layout.split_chunk_point(point)
    e_hi = eq_table(u_hi)
    nus = powers(nu, len(polys))
    q = combine_chunks(polys[0][0], polys[0][1], e_hi)
    add_blinding(q, layout, blinding, e_hi, 1)
    for scale, (flat, count) in zip(nus[1:], polys[1:], strict=True):
        q = (q + scale * combine_chunks(flat, count, e_hi)) % R
    return open_multilinear(setup, [int(v) for v in q], u_lo, tr)


def verify_batched(
    setup: Setup,
    layout: Layout,
    groups: Sequence[Sequence[G1Point]],
    point: Sequence[int],
    evals: Sequence[int],
    opening: OpeningProof,
    tr: Transcript,
) -> None:
    """
    The verifier's side of :func:`open_batched`: absorb the evaluations, draw ``ν``, fold the
    chunk commitments into ``C_Q`` (one MSM) and ``evals`` into ``v_Q``, check the opening.

    Parameters
    ----------
    groups :
        The chunk commitments of each opened polynomial, in proof order.

    Raises
    ------
    ProofRejected
        If the point has the wrong size or the opening fails (:class:`OpeningRejected`).
    """
    tr.absorb(TAG_EVALUATIONS, scalars_bytes(evals))
    nu = tr.challenge()
    u_lo, u_hi = layout.split_chunk_point(point)
    e_hi = eq_table(u_hi)
    nus = powers(nu, len(groups))
    c_q = msm(
        [c for group in groups for c in group],
        [
            scale * e_hi[c] % R
            for group, scale in zip(groups, nus, strict=True)
            for c in range(len(group))
        ],
    )
    v_q = sum(s * e for s, e in zip(nus, evals, strict=True)) % R
    if len(u_lo) != LOG_D:
        raise ProofRejected("opening point of the wrong size")
    verify_opening(setup, c_q, u_lo, v_q, opening, tr)


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
