"""
The multilinear KZG opening, HyperKZG-style, at four points (docs/proof-system.md §8 with
docs/proof-system-zk.md Z7).

Introduction
------------
A multilinear polynomial in ``d`` variables is committed as the univariate polynomial whose
coefficient ``a`` is its table entry ``a`` (``Q[0..2^d)``, variable ``v`` = bit ``v−1`` of ``a``).
The opening also carries the three Libra polynomials ``Lib̂, Â, Q̂`` (:mod:`sumkzg.libra`), whose
commitments the caller has bound earlier. To open ``C_0`` at ``x = (x_1..x_d)`` to ``v``:

1. Folds ``P_0 = Q``, ``P_i[a] = (1 − x_i)·P_{i−1}[2a] + x_i·P_{i−1}[2a+1]`` (``i = 1..d−1``);
   ``C_1..C_{d−1}`` absorbed as one message (tag ``0x05``); challenge ``β``, with ``β ≠ 0`` and
   ``β^N ≠ 1`` (``β ∉ H``).
2. ``P_i(β), P_i(−β), P_i(β²)`` for ``i = 0..d−1`` (row-major), then
   ``Lib̂(β), Â(β), Q̂(β), Â(ωβ)``: one message of ``3d + 4`` scalars (tag ``0x06``); challenge ``q``.
3. ``B = Σ_{i<d} q^i P_i``; per point ``s = (β, −β, β², ωβ)`` the batch
   ``B_0 = B + q^d·Lib̂ + q^{d+1}·Â + q^{d+2}·Q̂``, ``B_1 = B_2 = B``, ``B_3 = Â``, and
   ``W_j = commit((B_j − B_j(s_j)) / (X − s_j))``, absorbed as ``W_0 ‖ W_1 ‖ W_2 ‖ W_3``
   (tag ``0x07``); challenge ``δ``.

The verifier checks every fold against the next (``Y_i = P_{i+1}(β²)``, ``Y_{d−1} = v``) and the
four batched evaluations with one pairing check
``e(Σ_j δ^j (C_{B_j} − B_j(s_j)·G[0] + s_j·W_j), H0) · e(−Σ_j δ^j W_j, H1) = 1`` where
``C_{B_0} = C_B + q^d·C_Lib + q^{d+1}·C_A + q^{d+2}·C_Q``, ``C_{B_1} = C_{B_2} = C_B``,
``C_{B_3} = C_A`` and ``C_B = Σ_i q^i·C_i``. The Libra identity itself (at ``β``) is the caller's
(:func:`sumkzg.libra.check_sum_identity`); :func:`verify_opening` returns ``β`` for it.

The number of variables is the setup's: ``d = log₂ len(setup.g1)`` (12 with the real setup), so a
committed polynomial can never be longer than the table it is opened as.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from py_arkworks_bls12381 import G1Point

from .curve import G1_ENCODED_LEN, commit, decode_g1, encode_g1, msm, pairing_check
from .errors import EncodingError, OpeningRejected, TranscriptError
from .field import SCALAR_LEN, R, inv, scalar_from_bytes, scalar_to_bytes
from .libra import OMEGA, N
from .setup import LOG_D, Setup
from .transcript import TAG_FOLD_EVALUATIONS, TAG_FOLDS, TAG_WITNESSES, Transcript

OPENING_POINTS = 4
"""The points ``β, −β, β², ωβ``."""
LIBRA_EVALS = 4
"""``Lib̂(β), Â(β), Q̂(β), Â(ωβ)``."""


def opening_byte_len(num_vars: int) -> int:
    """
    Return the byte length of an opening proof in ``num_vars`` variables:
    ``folds[d−1] ‖ foldEvals[d][3] ‖ libraEvals[4] ‖ W[4]``.
    """
    return (
        (num_vars - 1) * G1_ENCODED_LEN
        + (3 * num_vars + LIBRA_EVALS) * SCALAR_LEN
        + OPENING_POINTS * G1_ENCODED_LEN
    )


@dataclass(frozen=True)
class OpeningProof:
    """
    A multilinear KZG opening proof with the Libra evaluations (docs/proof-system-zk.md Z7).

    Attributes
    ----------
    folds :
        ``C_1..C_{d−1}``, the commitments of the folded polynomials.
    evals :
        Per ``i = 0..d−1``: ``(P_i(β), P_i(−β), P_i(β²))``.
    libra_evals :
        ``(Lib̂(β), Â(β), Q̂(β), Â(ωβ))``.
    witnesses :
        ``W_0..W_3``, the quotient commitments for ``β, −β, β², ωβ``.
    """

    folds: tuple[G1Point, ...]
    evals: tuple[tuple[int, int, int], ...]
    libra_evals: tuple[int, int, int, int]
    witnesses: tuple[G1Point, G1Point, G1Point, G1Point]

    BYTE_LEN: ClassVar[int] = opening_byte_len(LOG_D)
    """The byte length for ``d = LOG_D`` (the real setup)."""

    def folds_bytes(self) -> bytes:
        """The fold commitments, 128 bytes each (the tag-``0x05`` message)."""
        return b"".join(encode_g1(c) for c in self.folds)

    def evals_bytes(self) -> bytes:
        """
        The tag-``0x06`` message: the ``3d`` fold evaluations row-major, then the four Libra
        evaluations, 32 bytes each.
        """
        fold_evals = b"".join(scalar_to_bytes(e) for row in self.evals for e in row)
        return fold_evals + b"".join(scalar_to_bytes(e) for e in self.libra_evals)

    def witnesses_bytes(self) -> bytes:
        """``W_0 ‖ W_1 ‖ W_2 ‖ W_3``, 128 bytes each (the tag-``0x07`` message)."""
        return b"".join(encode_g1(w) for w in self.witnesses)

    def to_bytes(self) -> bytes:
        """Return ``folds ‖ foldEvals (row-major) ‖ libraEvals ‖ W[4]`` (Z9's tail)."""
        return self.folds_bytes() + self.evals_bytes() + self.witnesses_bytes()

    @classmethod
    def from_bytes(cls, data: bytes, num_vars: int = LOG_D) -> OpeningProof:
        """
        Decode a proof strictly.

        Parameters
        ----------
        data :
            Exactly :func:`opening_byte_len` ``(num_vars)`` bytes.
        num_vars :
            ``d``; :data:`~sumkzg.setup.LOG_D` unless a toy setup is used.

        Raises
        ------
        EncodingError
            On a wrong length, a non-canonical scalar or an invalid point.
        """
        if num_vars < 1:
            raise EncodingError(f"opening in {num_vars} variables")
        data = bytes(data)
        if len(data) != opening_byte_len(num_vars):
            raise EncodingError(
                f"opening proof of {len(data)} bytes, expected {opening_byte_len(num_vars)}"
            )
        offset = 0

        def point() -> G1Point:
            nonlocal offset
            offset += G1_ENCODED_LEN
            return decode_g1(data[offset - G1_ENCODED_LEN : offset])

        def scalar() -> int:
            nonlocal offset
            offset += SCALAR_LEN
            return scalar_from_bytes(data[offset - SCALAR_LEN : offset])

        folds = tuple(point() for _ in range(num_vars - 1))
        evals = tuple((scalar(), scalar(), scalar()) for _ in range(num_vars))
        libra_evals = (scalar(), scalar(), scalar(), scalar())
        witnesses = (point(), point(), point(), point())
        return cls(folds=folds, evals=evals, libra_evals=libra_evals, witnesses=witnesses)


# --------------------------------------------------------------------------------------------------
# Polynomial helpers (plain Python, linear time)
# --------------------------------------------------------------------------------------------------


def fold_tables(coeffs: Sequence[int], point: Sequence[int]) -> list[list[int]]:
    """
    Return ``P_0..P_{d−1}``: ``P_0 = coeffs`` padded to ``2^d``, then one fold per variable.

    ``P_i[a] = (1 − x_i)·P_{i−1}[2a] + x_i·P_{i−1}[2a+1]`` with ``x_i = point[i−1]``.
    """
    d = len(point)
    size = 1 << d
    if len(coeffs) > size:
        raise ValueError(f"{len(coeffs)} coefficients for {d} variables")
    current = [c % R for c in coeffs] + [0] * (size - len(coeffs))
    tables = [current]
    for x in point[: d - 1]:
        current = [
            (lo + x * (hi - lo)) % R for lo, hi in zip(current[0::2], current[1::2], strict=True)
        ]
        tables.append(current)
    return tables


def poly_eval(coeffs: Sequence[int], x: int) -> int:
    """Return ``Σ_a coeffs[a]·x^a mod R`` (Horner)."""
    acc = 0
    for c in reversed(coeffs):
        acc = (acc * x + c) % R
    return acc


def poly_eval_pm_sq(coeffs: Sequence[int], beta: int) -> tuple[int, int, int]:
    """Return ``(P(β), P(−β), P(β²))`` with two half-length and one full-length Horner pass."""
    beta_sq = beta * beta % R
    even = poly_eval(coeffs[0::2], beta_sq)
    odd = beta * poly_eval(coeffs[1::2], beta_sq) % R
    return (even + odd) % R, (even - odd) % R, poly_eval(coeffs, beta_sq)


def divide_by_linear(coeffs: Sequence[int], s: int) -> list[int]:
    """
    Return the quotient of ``P(X) − P(s)`` by ``X − s`` (synthetic division), length ``len − 1``.

    The remainder ``P(s)`` is dropped, so the result is exact whatever the constant term.
    """
    n = len(coeffs)
    if n <= 1:
        return []
    quotient = [0] * (n - 1)
    acc = 0
    for k in range(n - 1, 0, -1):
        acc = (acc * s + coeffs[k]) % R
        quotient[k - 1] = acc
    return quotient


def _powers(base: int, count: int) -> list[int]:
    out = [1] * count
    for i in range(1, count):
        out[i] = out[i - 1] * base % R
    return out


def _check_point(setup: Setup, point: Sequence[int]) -> int:
    d = setup.num_vars
    if len(point) != d or d < 1:
        raise OpeningRejected(f"opening point of {len(point)} variables, the setup has {d}")
    return d


def opening_points(beta: int) -> tuple[int, int, int, int]:
    """``(β, −β, β², ωβ)`` mod ``R``."""
    beta %= R
    return beta, (-beta) % R, beta * beta % R, OMEGA * beta % R


def degenerate_beta(beta: int) -> str | None:
    """The reason ``β`` is refused (``β = 0`` or ``β^N = 1``), or ``None``."""
    if beta % R == 0:
        return "β = 0"
    if pow(beta, N, R) == 1:
        return "β^N = 1"
    return None


# --------------------------------------------------------------------------------------------------
# Prover and verifier
# --------------------------------------------------------------------------------------------------


def open_multilinear(
    setup: Setup,
    coeffs: Sequence[int],
    point: Sequence[int],
    transcript: Transcript,
    *,
    lib_hat: Sequence[int],
    a_hat: Sequence[int],
    q_hat: Sequence[int],
) -> OpeningProof:
    """
    Prove the evaluation of the committed multilinear polynomial ``coeffs`` at ``point``, and
    open ``Lib̂, Â, Q̂`` at ``β`` and ``Â`` at ``ωβ`` (docs/proof-system-zk.md Z7).

    Parameters
    ----------
    setup :
        The setup; ``d = setup.num_vars`` variables.
    coeffs :
        At most ``2^d`` field elements (the table of the polynomial; missing entries are 0). The
        commitment is ``commit(setup, coeffs)``, which the caller has already bound in
        ``transcript``.
    point :
        ``x_1..x_d``, field elements.
    transcript :
        The transcript, advanced by three absorbs and three challenges (``β, q, δ``).
    lib_hat, a_hat, q_hat :
        The Libra polynomials (coefficients, each at most ``setup.size`` long), whose commitments
        ``C_Lib, C_A, C_Q`` the caller has already bound. Any polynomials are accepted (the
        opening does not check the Libra identity; :func:`sumkzg.libra.check_sum_identity` does).

    Returns
    -------
    proof : `OpeningProof`
        The opening of ``commit(coeffs)`` at ``point`` to ``mle_eval(coeffs, point)``, with
        ``libra_evals = (Lib̂(β), Â(β), Q̂(β), Â(ωβ))``.

    Raises
    ------
    ValueError
        If ``len(point) != d`` or a polynomial is longer than the setup allows.
    TranscriptError
        If ``β = 0`` or ``β^N = 1`` (probability ``≤ 129/r``; the verifier would reject; an honest
        prover retries with fresh masks).
    """
    d = setup.num_vars
    if len(point) != d:
        raise ValueError(f"opening point of {len(point)} variables, the setup has {d}")
    extras = [[c % R for c in poly] for poly in (lib_hat, a_hat, q_hat)]
    if any(len(poly) > setup.size for poly in extras):
        raise ValueError(f"a Libra polynomial longer than the setup's {setup.size} points")
    point = [x % R for x in point]
    tables = fold_tables(coeffs, point)
    folds = tuple(commit(setup, table) for table in tables[1:])
    transcript.absorb(TAG_FOLDS, b"".join(encode_g1(c) for c in folds))
    beta = transcript.challenge()
    reason = degenerate_beta(beta)
    if reason is not None:
        raise TranscriptError(reason)
    points = opening_points(beta)

    evals = tuple(poly_eval_pm_sq(table, beta) for table in tables)
    lib_p, a_p, q_p = extras
    libra_evals = (
        poly_eval(lib_p, beta),
        poly_eval(a_p, beta),
        poly_eval(q_p, beta),
        poly_eval(a_p, points[3]),
    )
    transcript.absorb(
        TAG_FOLD_EVALUATIONS,
        b"".join(scalar_to_bytes(e) for row in evals for e in row)
        + b"".join(scalar_to_bytes(e) for e in libra_evals),
    )
    q = transcript.challenge()

    q_powers = _powers(q, d + 3)
    batched = [0] * (1 << d)
    for weight, table in zip(q_powers[:d], tables, strict=True):
        for a, c in enumerate(table):
            batched[a] += weight * c
    batched = [b % R for b in batched]
    first = batched + [0] * max(0, max(len(poly) for poly in extras) - len(batched))
    for weight, poly in zip(q_powers[d:], extras, strict=True):
        for a, c in enumerate(poly):
            first[a] += weight * c
    first = [b % R for b in first]
    witnesses = (
        commit(setup, divide_by_linear(first, points[0])),
        commit(setup, divide_by_linear(batched, points[1])),
        commit(setup, divide_by_linear(batched, points[2])),
        commit(setup, divide_by_linear(a_p, points[3])),
    )
    transcript.absorb(TAG_WITNESSES, b"".join(encode_g1(w) for w in witnesses))
    transcript.challenge()  # δ: drawn by the verifier after the witnesses; keep the states equal.
    return OpeningProof(folds=folds, evals=evals, libra_evals=libra_evals, witnesses=witnesses)


def verify_opening(
    setup: Setup,
    commitment: G1Point,
    point: Sequence[int],
    value: int,
    proof: OpeningProof,
    transcript: Transcript,
    *,
    c_lib: G1Point,
    c_a: G1Point,
    c_q: G1Point,
) -> int:
    """
    Check that ``proof`` opens ``commitment`` at ``point`` to ``value`` and the Libra
    commitments to ``proof.libra_evals`` (``Lib̂(β), Â(β), Q̂(β)`` at ``β``, ``Â`` at ``ωβ``).

    Parameters
    ----------
    setup :
        The setup; ``d = setup.num_vars`` variables (12 for the real setup).
    commitment :
        ``C_0``, the commitment of the opened polynomial (already bound in ``transcript``).
    point :
        ``x_1..x_d`` in ``[0, R)``.
    value :
        The claimed evaluation, in ``[0, R)``.
    proof :
        The opening; its shape must match ``d``.
    transcript :
        The transcript, advanced exactly as :func:`open_multilinear` advances it.
    c_lib, c_a, c_q :
        ``C_Lib, C_A, C_Q`` (already bound in ``transcript``).

    Returns
    -------
    beta : `int`
        The challenge ``β`` (``≠ 0``, ``β^N ≠ 1``), for the caller's Libra identity check at ``β``
        with ``proof.libra_evals``.

    Raises
    ------
    EncodingError
        If a scalar of the proof is not in ``[0, R)``.
    OpeningRejected
        On a shape mismatch, ``β = 0``, ``β^N = 1``, a fold inconsistency or a failed pairing
        check.
    """
    d = _check_point(setup, point)
    if (
        len(proof.folds) != d - 1
        or len(proof.evals) != d
        or len(proof.witnesses) != OPENING_POINTS
        or len(proof.libra_evals) != LIBRA_EVALS
    ):
        raise OpeningRejected("opening proof shape does not match the number of variables")
    if any(len(row) != 3 for row in proof.evals):
        raise OpeningRejected("opening proof evaluation row is not a triple")
    for scalar in (*point, value, *(e for row in proof.evals for e in row), *proof.libra_evals):
        if not 0 <= scalar < R:
            raise EncodingError("non-canonical scalar (>= r)")

    transcript.absorb(TAG_FOLDS, proof.folds_bytes())
    beta = transcript.challenge()
    reason = degenerate_beta(beta)
    if reason is not None:
        raise OpeningRejected(reason)
    transcript.absorb(TAG_FOLD_EVALUATIONS, proof.evals_bytes())
    q = transcript.challenge()
    transcript.absorb(TAG_WITNESSES, proof.witnesses_bytes())
    delta = transcript.challenge()

    # Fold consistency: Y_i = (1 − x)·(P(β) + P(−β))/2 + x·(P(β) − P(−β))/(2β).
    inv_two = inv(2)
    inv_two_beta = inv(2 * beta)
    for i, (at_beta, at_minus_beta, _) in enumerate(proof.evals):
        x = point[i]
        even = (at_beta + at_minus_beta) * inv_two
        odd = (at_beta - at_minus_beta) * inv_two_beta
        folded = ((1 - x) * even + x * odd) % R
        expected = proof.evals[i + 1][2] if i < d - 1 else value
        if folded != expected:
            raise OpeningRejected(f"fold {i} is inconsistent with its successor")

    # Batched four-point KZG check.
    q_powers = _powers(q, d + 3)
    points = opening_points(beta)
    lib_b, a_b, q_b, a_wb = proof.libra_evals
    b_at = [
        sum(w * row[j] for w, row in zip(q_powers[:d], proof.evals, strict=True)) % R
        for j in range(3)
    ]
    b_at[0] = (b_at[0] + q_powers[d] * lib_b + q_powers[d + 1] * a_b + q_powers[d + 2] * q_b) % R
    b_at.append(a_wb)
    delta_powers = _powers(delta, OPENING_POINTS)
    delta_b = sum(delta_powers[:3]) % R  # C_B appears in B_0, B_1, B_2
    # L = (1 + δ + δ²)·C_B + q^d·C_Lib + (q^{d+1} + δ³)·C_A + q^{d+2}·C_Q
    #     − (Σ_j δ^j B_j(s_j))·G[0] + Σ_j δ^j s_j W_j, with C_B = Σ_i q^i C_i.
    lhs = msm(
        [commitment, *proof.folds, c_lib, c_a, c_q, setup.g1[0], *proof.witnesses],
        [
            *(delta_b * w % R for w in q_powers[:d]),
            q_powers[d],
            (q_powers[d + 1] + delta_powers[3]) % R,
            q_powers[d + 2],
            (-sum(dp * b for dp, b in zip(delta_powers, b_at, strict=True))) % R,
            *(dp * s % R for dp, s in zip(delta_powers, points, strict=True)),
        ],
    )
    rhs = msm(list(proof.witnesses), delta_powers)
    if not pairing_check([(lhs, setup.h0), (-rhs, setup.h1)]):
        raise OpeningRejected("opening pairing check failed")
    return beta
