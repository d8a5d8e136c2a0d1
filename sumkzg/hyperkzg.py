"""
The multilinear KZG opening, HyperKZG-style (docs/proof-system.md §8).

Introduction
------------
A multilinear polynomial in ``d`` variables is committed as the univariate polynomial whose
coefficient ``a`` is its table entry ``a`` (``Q[0..2^d)``, variable ``v`` = bit ``v−1`` of ``a``).
To open the commitment ``C_0`` at ``x = (x_1..x_d)`` to ``v``:

1. Folds ``P_0 = Q``, ``P_i[a] = (1 − x_i)·P_{i−1}[2a] + x_i·P_{i−1}[2a+1]`` (``i = 1..d−1``);
   ``C_1..C_{d−1}`` absorbed as one message (tag ``0x05``); challenge ``β ≠ 0``.
2. ``P_i(β), P_i(−β), P_i(β²)`` for ``i = 0..d−1``, absorbed as one message of ``3d`` scalars,
   row-major (tag ``0x06``); challenge ``q``.
3. ``B = Σ q^i P_i``, ``W_j = commit((B − B(s_j)) / (X − s_j))`` for ``s = (β, −β, β²)``, absorbed
   as one message ``W_0 ‖ W_1 ‖ W_2`` (tag ``0x07``); challenge ``δ``.

The verifier checks every fold against the next (``Y_i = P_{i+1}(β²)``, ``Y_{d−1} = v``) and the
three evaluations of ``B`` with one pairing check
``e(Σ_j δ^j (C_B − B(s_j)·G[0] + s_j·W_j), H0) · e(−Σ_j δ^j W_j, H1) = 1``.

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
from .setup import LOG_D, Setup
from .transcript import TAG_FOLD_EVALUATIONS, TAG_FOLDS, TAG_WITNESSES, Transcript


def opening_byte_len(num_vars: int) -> int:
    """Return the byte length of an opening proof in ``num_vars`` variables."""
    return (num_vars - 1) * G1_ENCODED_LEN + 3 * num_vars * SCALAR_LEN + 3 * G1_ENCODED_LEN


@dataclass(frozen=True)
class OpeningProof:
    """
    A multilinear KZG opening proof.

    Attributes
    ----------
    folds :
        ``C_1..C_{d−1}``, the commitments of the folded polynomials.
    evals :
        Per ``i = 0..d−1``: ``(P_i(β), P_i(−β), P_i(β²))``.
    witnesses :
        ``W_0, W_1, W_2``, the quotient commitments for ``β, −β, β²``.
    """

    folds: tuple[G1Point, ...]
    evals: tuple[tuple[int, int, int], ...]
    witnesses: tuple[G1Point, G1Point, G1Point]

    BYTE_LEN: ClassVar[int] = opening_byte_len(LOG_D)
    """The byte length for ``d = LOG_D`` (the real setup)."""

    def folds_bytes(self) -> bytes:
        """The fold commitments, 128 bytes each (the tag-``0x05`` message)."""
        return b"".join(encode_g1(c) for c in self.folds)

    def evals_bytes(self) -> bytes:
        """The ``3d`` evaluations, row-major, 32 bytes each (the tag-``0x06`` message)."""
        return b"".join(scalar_to_bytes(e) for row in self.evals for e in row)

    def witnesses_bytes(self) -> bytes:
        """``W_0 ‖ W_1 ‖ W_2``, 128 bytes each (the tag-``0x07`` message)."""
        return b"".join(encode_g1(w) for w in self.witnesses)

    def to_bytes(self) -> bytes:
        """Return ``folds ‖ evals (row-major) ‖ witnesses`` (docs/proof-system.md §9)."""
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
        witnesses = (point(), point(), point())
        return cls(folds=folds, evals=evals, witnesses=witnesses)


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


# --------------------------------------------------------------------------------------------------
# Prover and verifier
# --------------------------------------------------------------------------------------------------


def open_multilinear(
    setup: Setup, coeffs: Sequence[int], point: Sequence[int], transcript: Transcript
) -> OpeningProof:
    """
    Prove the evaluation of the committed multilinear polynomial ``coeffs`` at ``point``.

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

    Returns
    -------
    proof : `OpeningProof`
        The opening of ``commit(coeffs)`` at ``point`` to ``mle_eval(coeffs, point)``.

    Raises
    ------
    ValueError
        If ``len(point) != d`` or there are more than ``2^d`` coefficients.
    TranscriptError
        If ``β = 0`` (probability ``1/r``; the verifier would reject).
    """
    d = setup.num_vars
    if len(point) != d:
        raise ValueError(f"opening point of {len(point)} variables, the setup has {d}")
    point = [x % R for x in point]
    tables = fold_tables(coeffs, point)
    folds = tuple(commit(setup, table) for table in tables[1:])
    transcript.absorb(TAG_FOLDS, b"".join(encode_g1(c) for c in folds))
    beta = transcript.challenge()
    if beta == 0:
        raise TranscriptError("β = 0")

    evals = tuple(poly_eval_pm_sq(table, beta) for table in tables)
    transcript.absorb(
        TAG_FOLD_EVALUATIONS, b"".join(scalar_to_bytes(e) for row in evals for e in row)
    )
    q = transcript.challenge()

    size = 1 << d
    batched = [0] * size
    for weight, table in zip(_powers(q, d), tables, strict=True):
        for a, c in enumerate(table):
            batched[a] += weight * c
    batched = [b % R for b in batched]
    points = (beta, (-beta) % R, beta * beta % R)
    witnesses = (
        commit(setup, divide_by_linear(batched, points[0])),
        commit(setup, divide_by_linear(batched, points[1])),
        commit(setup, divide_by_linear(batched, points[2])),
    )
    transcript.absorb(TAG_WITNESSES, b"".join(encode_g1(w) for w in witnesses))
    transcript.challenge()  # δ: drawn by the verifier after the witnesses; keep the states equal.
    return OpeningProof(folds=folds, evals=evals, witnesses=witnesses)


def verify_opening(
    setup: Setup,
    commitment: G1Point,
    point: Sequence[int],
    value: int,
    proof: OpeningProof,
    transcript: Transcript,
) -> None:
    """
    Check that ``proof`` opens ``commitment`` at ``point`` to ``value``.

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

    Returns
    -------
    None
        On success.

    Raises
    ------
    EncodingError
        If a scalar of the proof is not in ``[0, R)``.
    OpeningRejected
        On a shape mismatch, ``β = 0``, a fold inconsistency or a failed pairing check.
    """
    d = _check_point(setup, point)
    if len(proof.folds) != d - 1 or len(proof.evals) != d or len(proof.witnesses) != 3:
        raise OpeningRejected("opening proof shape does not match the number of variables")
    if any(len(row) != 3 for row in proof.evals):
        raise OpeningRejected("opening proof evaluation row is not a triple")
    for scalar in (*point, value, *(e for row in proof.evals for e in row)):
        if not 0 <= scalar < R:
            raise EncodingError("non-canonical scalar (>= r)")

    transcript.absorb(TAG_FOLDS, proof.folds_bytes())
    beta = transcript.challenge()
    if beta == 0:
        raise OpeningRejected("β = 0")
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

    # Batched three-point KZG check.
    q_powers = _powers(q, d)
    points = (beta, (-beta) % R, beta * beta % R)
    b_at = [
        sum(w * row[j] for w, row in zip(q_powers, proof.evals, strict=True)) % R for j in range(3)
    ]
    delta_powers = _powers(delta, 3)
    delta_sum = sum(delta_powers) % R
    # L = (Σ_j δ^j)·C_B − (Σ_j δ^j B(s_j))·G[0] + Σ_j δ^j s_j W_j, with C_B = Σ_i q^i C_i.
    lhs = msm(
        [commitment, *proof.folds, setup.g1[0], *proof.witnesses],
        [
            *(delta_sum * w % R for w in q_powers),
            (-sum(dp * b for dp, b in zip(delta_powers, b_at, strict=True))) % R,
            *(dp * s % R for dp, s in zip(delta_powers, points, strict=True)),
        ],
    )
    rhs = msm(list(proof.witnesses), delta_powers)
    if not pairing_check([(lhs, setup.h0), (-rhs, setup.h1)]):
        raise OpeningRejected("opening pairing check failed")
