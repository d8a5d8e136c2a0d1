"""
The batch proof: the committed one-layer partition maps ``x_b`` to ``y_b`` for ``B`` inferences at
once, in one zero-knowledge proof (docs/proof-system-batch.md, on top of docs/proof-system.md §5
and docs/proof-system-zk.md).

Introduction
------------
The prover computes every ``z_b = W·x_b + b`` and ``y_b`` with the runtime's own requant and
refuses (:class:`~sumkzg.errors.WitnessError`) if one ``y_b`` is not the statement's. Per instance
``b`` and row ``i < m'`` the witness is §5's::

    M·z_{i,b} + 2^{k−1} = 2^k·(y′_{i,b} + σ_{i,b}·u_{i,b}) + ρ_{i,b},   0 <= ρ < 2^k,   u >= 0,

with instance ``b``'s limb ``t`` at layout column ``j = b·L₂ + t`` (B2). With ``eB(b) = eq(τ_B, b)``
for ``b < B`` (0 for ``b >= B``) and ``E = Σ_b eB(b)``, the relation (B4) is::

    A   = M·Ŵ·x̄(j) + δ0(j)·(E·2^{k−1} − 2^k·ȳ(i)) − cρB(j)·Limb − 2^k·cuB(j)·Σ(i,j)·Limb
    B1  = selB(j)·H − Mu·Tα
    B2  = eq(τ″_i, i)·e″B(j)·(H·(α − Limb − λ·topB(j)) − 1)
    F   = eq(τ, i)·A + γ·B1 + γ²·B2,     Σ F = 0

``x̄ = Σ_b eB(b)·x′_b`` and ``ȳ = Σ_b eB(b)·y′_b`` fold the instances with the challenge ``τ_B``, so
``Σ_j eq(τ, i)·A`` is ``eq(τ, i)·Σ_b eB(b)·(row identity of (i, b))``: a zero-check over the pairs
``(i, b)`` at the point ``(τ, τ_B)``. ``Σ(i, j) = σ_{i,b(j)}`` on the limb columns is a public grid;
``Ŵ`` carries the weight mask ``R`` (Z4), the sumcheck runs on ``F + ρ_L·G`` (Libra, Z5), every
chunk of ``Limb`` and ``H`` holds two fresh blinding entries (rows 0 and 1 of column ``κ·cpc + L``,
a free column of an instance block), ``Mu`` two (flat ``TS``, ``TS + 1``), and the opening is
masked (Z6). Transcript and bytes are the v2 inference proof's (Z8, Z9) with the batch statement
and domain, ``K_L`` and ``ℓ`` of B2, and ``τ_B`` drawn between ``τ`` and ``τ″``.

:func:`build_batch_witness` and :func:`prove_batch_with_witness` are separate so that tests can
prove from a malicious witness; :func:`prove_batch` is the honest composition.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from py_arkworks_bls12381 import G1Point

from protocol.exceptions import ProtocolError
from protocol.requant import Activation, requant_array

from .accel import int_gemv
from .batch import (
    DegenerateDrawError,
    Flat,
    WeightMask,
    ZkMasks,
    ZkOpeningProof,
    open_batched,
    round1_challenges,
    start_transcript,
    verify_batched,
    with_fresh_masks,
)
from .batched_statement import DOMAIN_BATCH, MAX_BATCH, BatchLayout, BatchStatement
from .curve import G1_ENCODED_LEN, commit_periodic, decode_g1, encode_g1
from .errors import EncodingError, ProofRejected, WitnessError
from .field import (
    SCALAR_LEN,
    R,
    batch_inv,
    eq_eval,
    eq_table,
    lagrange_eval_0123,
    scalar_from_bytes,
)
from .layout import eq_prefix
from .libra import LibraAddend
from .proof import InferenceProof, weight_commitment_hash
from .registration import (
    WeightCommitment,
    _check_setup,
    add_entries,
    blinding_rows,
    check_weights,
    commit_chunks,
    draw_nonzero,
    flat_grid,
    grid_flat,
    inverse_lookup,
    reject_masks_at_infinity,
    weight_flat,
)
from .setup import D, Setup
from .sumcheck import (
    ROUND_EVALS,
    Grid,
    ObjArray,
    PeriodicGrid,
    RoundMessage,
    SumcheckProver,
    Table,
    Term,
    Vec,
    WeightGrid,
    obj_array,
    prove_rounds,
    verify_rounds,
)
from .transcript import TAG_ROUND2, Transcript

__all__ = [
    "DOMAIN_BATCH",
    "MAX_BATCH",
    "BatchChallenges",
    "BatchLayout",
    "BatchProverHooks",
    "BatchStatement",
    "BatchTrace",
    "BatchWitness",
    "batch_final_value",
    "batch_proof_len",
    "build_batch_witness",
    "decode_batch_proof",
    "encode_batch_proof",
    "limb_grid",
    "prove_batch",
    "prove_batch_with_witness",
    "verify_batch",
]

OPENED = ("W", "Limb", "H", "Mu")
"""The opened polynomials, in proof order."""
EVALS = 6
"""Evaluations in a batch proof: ``Ŵ, L̃imb, H̃, M̃u`` at ``u``, ``M̃k(u_lo)``, ``s_G``."""


# --------------------------------------------------------------------------------------------------
# Witness, challenges, hooks


@dataclass(frozen=True)
class BatchWitness:
    """
    The batch prover's witness (before ``α``).

    Attributes
    ----------
    limbs :
        ``Limb`` per instance: a ``B × m' × L`` ``object`` array of field elements; honestly
        ``limbs[b, i, t]`` is byte ``t`` of ``ρ_{i,b}`` (``t < Kρ``, little-endian) or byte
        ``t − Kρ`` of ``u_{i,b}`` (``Kρ <= t < L``).
    multiplicities :
        ``Mu``: ``TS`` field elements, honestly the number of lookups of each table value over
        every row of every instance.
    remainders, slacks :
        ``ρ`` and ``u`` per instance and row (informational; the proof uses only ``limbs``).
    """

    limbs: ObjArray
    multiplicities: tuple[int, ...]
    remainders: tuple[tuple[int, ...], ...]
    slacks: tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class BatchChallenges:
    """
    The challenges drawn before the sumcheck: ``α``, ``λ`` (round 1), ``τ`` (``μ_i``), ``τ_B``
    (``μ_B``), ``τ″`` (``ℓ``), ``γ``, ``ρ_L`` (round 2, in this order).
    """

    alpha: int
    lam: int
    tau: list[int]
    tau_b: list[int]
    tau2: list[int]
    gamma: int
    rho_l: int


@dataclass(frozen=True)
class BatchTrace:
    """What a prover run exposes besides the proof (for :attr:`BatchProverHooks.trace`)."""

    challenges: BatchChallenges
    point: list[int]
    evals: list[int]
    final_claim: int
    """The verifier's claim after the last round: ``final_claim = F(u) + ρ_L·s_G``."""
    s_g: int


MaskHook = Callable[
    [ZkMasks, list[int], list[int], list[int], list[int]],
    tuple[ZkMasks, list[int], list[int], list[int], list[int]],
]
"""TESTS ONLY: ``(masks, Limb blinding, H blinding, Mu blinding, R) -> the same, replaced``; the
``Limb`` and ``H`` lists hold ``2·K_L`` entries in the order of
:meth:`~sumkzg.batched_statement.BatchLayout.blinding_cells`."""


@dataclass(frozen=True)
class BatchProverHooks:
    """
    TESTS ONLY: hook points of :func:`prove_batch_with_witness` for the malicious-prover tests.
    Every hook left ``None`` is the honest behaviour; honest provers pass no hooks.

    Attributes
    ----------
    statement_bytes :
        Given the statement bytes, returns the bytes absorbed with tag ``0x00`` instead.
    round_message :
        Per sumcheck round (:data:`sumkzg.sumcheck.RoundMessage`; the claimed sum is ``ρ_L·Γ``).
    trace :
        Called once, before the opening, with the run's :class:`BatchTrace`.
    masks :
        Replaces the freshly drawn masks (:data:`MaskHook`).
    """

    statement_bytes: Callable[[bytes], bytes] | None = None
    round_message: RoundMessage | None = None
    trace: Callable[[BatchTrace], None] | None = None
    masks: MaskHook | None = None


# --------------------------------------------------------------------------------------------------
# The witness


def _runtime_outputs(
    weights: npt.NDArray[np.int64], biases: npt.NDArray[np.int64], statement: BatchStatement
) -> list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int8]]]:
    """``(z_b, y_b)`` for every instance by the runtime's rule."""
    out = []
    for inst in statement.instances:
        z = int_gemv(weights, inst.x_array(), biases)
        try:
            y = requant_array(z, inst.multiplier, inst.shift, Activation(inst.activation))
        except ProtocolError as error:
            raise WitnessError(f"the runtime refuses this layer and input: {error}") from error
        out.append((z, y))
    return out


def _sigma(layout: BatchLayout, y: Sequence[int], activation: int) -> list[int]:
    """``σ`` of one instance over all ``m'`` rows (padded rows have ``y′ = 0``)."""
    lo = 0 if activation == 1 else -128
    padded = [int(v) for v in y] + [0] * (layout.shape.m_pad - len(y))
    return [-1 if v == lo else 1 if v == 127 else 0 for v in padded]


def build_batch_witness(
    weights: npt.NDArray[np.int64],
    biases: npt.NDArray[np.int64],
    statement: BatchStatement,
) -> BatchWitness:
    """
    The honest witness, after checking every ``y_b`` against the runtime's.

    Raises
    ------
    WitnessError
        If some ``y_b`` differs from what the runtime computes (or the runtime refuses an input).
    """
    layout = statement.layout
    mp, k = layout.shape.m_pad, layout.k
    all_limbs = []
    counts = np.zeros(layout.table_size, dtype=np.int64)
    remainders, slacks = [], []
    for b, (z, y) in enumerate(_runtime_outputs(weights, biases, statement)):
        if bytes(y.astype(np.int8).tobytes()) != statement.ys[b]:
            raise WitnessError(f"instance {b}: the statement's y is not what the runtime computes")
        z_pad = np.zeros(mp, dtype=np.int64)
        z_pad[: layout.shape.m] = z
        # |M·z| < 2^62 and 2^{k−1} <= 2^61: exact in int64; >> floors, & is the residue mod 2^k.
        t = z_pad * np.int64(statement.multiplier) + np.int64(1 << (k - 1))
        rho = t & np.int64((1 << k) - 1)
        q = t >> np.int64(k)
        y_pad = np.zeros(mp, dtype=np.int64)
        y_pad[: layout.shape.m] = y.astype(np.int64)
        sigma = np.array(_sigma(layout, statement.y_values[b], statement.activation))
        u = sigma * (q - y_pad)
        if np.any(u < 0) or np.any(y_pad + sigma * u != q):
            raise WitnessError(f"instance {b}: the remainder identity has no non-negative slack")
        cols = [(rho >> np.int64(8 * i)) & 0xFF for i in range(layout.k_rho)]
        cols += [(u >> np.int64(8 * i)) & 0xFF for i in range(layout.k_u)]
        limbs = np.stack(cols, axis=1)
        lookups = limbs.copy()
        lookups[:, layout.k_rho - 1] += 256
        found = np.bincount(lookups.reshape(-1), minlength=layout.table_size)
        if found.size != layout.table_size:
            raise WitnessError(f"instance {b}: a limb is outside its range")
        counts += found
        all_limbs.append(limbs)
        remainders.append(tuple(int(v) for v in rho))
        slacks.append(tuple(int(v) for v in u))
    return BatchWitness(
        limbs=np.asarray(np.stack(all_limbs).astype(object), dtype=object),
        multiplicities=tuple(int(c) for c in counts),
        remainders=tuple(remainders),
        slacks=tuple(slacks),
    )


def limb_grid(layout: BatchLayout, limbs: ObjArray) -> ObjArray:
    """
    The bare ``Limb`` grid (``m' × cpc·K_L``, no blinding entries): instance ``b``'s limb ``t``
    at column ``b·L₂ + t``, every other entry 0.
    """
    arr = np.asarray(limbs, dtype=object)
    if arr.shape != (layout.batch, layout.shape.m_pad, layout.limbs):
        raise WitnessError(f"limbs of shape {arr.shape}, expected (B, m', L)")
    grid = np.zeros((layout.shape.m_pad, layout.width), dtype=object)
    grid[:, layout.limb_columns()] = np.concatenate(list(arr), axis=1) % R
    return grid


# --------------------------------------------------------------------------------------------------
# Public vectors


def _instance_weights(tau_b: Sequence[int], batch: int) -> list[int]:
    """``eB(b) = eq(τ_B, b)`` for ``b < B``."""
    return eq_table(tau_b)[:batch]


def _x_bar(layout: BatchLayout, xs: Sequence[Sequence[int]], e_b: Sequence[int]) -> list[int]:
    """``x̄ = Σ_b eB(b)·x′_b``: ``Σ_b eB(b)·x_{b,c}`` at ``pos(c)``, ``E`` at ``pos(n)``."""
    shape = layout.shape
    positions = shape.positions()
    out = [0] * (int(positions[-1]) + 1)
    folded = np.zeros(shape.n, dtype=object)
    for x, e in zip(xs, e_b, strict=True):
        folded = (folded + np.array([int(v) for v in x], dtype=object) * e) % R
    for c in range(shape.n):
        out[int(positions[c])] = int(folded[c])
    out[int(positions[-1])] = sum(e_b) % R
    return out


def _y_bar(layout: BatchLayout, ys: Sequence[Sequence[int]], e_b: Sequence[int]) -> list[int]:
    """``ȳ = Σ_b eB(b)·y′_b`` over the ``m`` real rows."""
    out = [0] * layout.shape.m
    for y, e in zip(ys, e_b, strict=True):
        out = [(o + int(v) * e) % R for o, v in zip(out, y, strict=True)]
    return out


def _limb_vector(
    layout: BatchLayout, per_limb: Sequence[int], per_instance: Sequence[int]
) -> list[int]:
    """The column vector ``per_instance[b]·per_limb[t]`` at ``b·L₂ + t``, 0 elsewhere."""
    out = [0] * ((layout.batch - 1) * layout.l2 + layout.limbs)
    for b, e in enumerate(per_instance):
        for t, c in enumerate(per_limb):
            out[b * layout.l2 + t] = e * c % R
    return out


def _c_rho(layout: BatchLayout) -> list[int]:
    """``cρ(t) = 2^{8t}`` for ``t < Kρ``, else 0 (``t < L``)."""
    return [1 << (8 * t) if t < layout.k_rho else 0 for t in range(layout.limbs)]


def _c_u(layout: BatchLayout) -> list[int]:
    """``cu(t) = 2^{8(t−Kρ)}`` for ``Kρ <= t < L``, else 0."""
    return [0 if t < layout.k_rho else 1 << (8 * (t - layout.k_rho)) for t in range(layout.limbs)]


def _t_alpha(alpha: int, lam: int, size: int) -> list[int]:
    """``Tα(f) = 1/(α − t_f)`` for ``f < TS`` (``t_f = f`` below 256, ``λ + f − 256`` above)."""
    values = [f if f < 256 else lam + f - 256 for f in range(size)]
    try:
        return batch_inv([(alpha - v) % R for v in values])
    except ZeroDivisionError as error:
        raise ProofRejected("the lookup challenge α hits a table value") from error


# --------------------------------------------------------------------------------------------------
# The prover


def _check_inputs(
    setup: Setup,
    commitment: WeightCommitment,
    weights: npt.NDArray[np.int8],
    biases: npt.NDArray[np.integer],
    statement: BatchStatement,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    w, b = check_weights(weights, biases)
    if (commitment.m, commitment.n) != (statement.m, statement.n) or w.shape != (
        statement.m,
        statement.n,
    ):
        raise WitnessError("the weights, the commitment and the statement disagree on the shape")
    if commitment.h_w != statement.h_w:
        raise WitnessError("the statement's H_W is not the commitment's")
    if commitment.setup_id != setup.setup_id:
        raise WitnessError("the commitment was made with another setup")
    return w, b


def prove_batch(
    setup: Setup,
    commitment: WeightCommitment,
    weights: npt.NDArray[np.int8],
    biases: npt.NDArray[np.integer],
    statement: BatchStatement,
    *,
    rng: random.Random | None = None,
) -> bytes:
    """
    Prove that the committed layer maps ``statement.xs[b]`` to ``statement.ys[b]`` for every
    ``b``, in zero knowledge (docs/proof-system-batch.md).

    Parameters
    ----------
    setup :
        The setup the commitment was made with.
    commitment :
        :func:`~sumkzg.registration.commit_weights` of ``weights``, ``biases``.
    weights, biases :
        ``W`` (``int8``, ``(m, n)``) and ``b`` (``(m,)``, int32).
    statement :
        What to prove; its ``h_w`` must be the commitment's.
    rng :
        TESTS ONLY: a deterministic source for every mask; ``None`` (the only choice for a real
        proof) draws them from :mod:`secrets`.

    Returns
    -------
    proof : `bytes`
        The proof (docs/proof-system-batch.md B5), :func:`batch_proof_len` bytes.

    Raises
    ------
    WitnessError
        If some ``y_b`` is not what the runtime computes, or the inputs disagree with each other.
    """
    _check_setup(setup)
    w, b = _check_inputs(setup, commitment, weights, biases, statement)
    witness = build_batch_witness(w, b, statement)
    return prove_batch_with_witness(setup, commitment, w, b, statement, witness, rng=rng)


def prove_batch_with_witness(
    setup: Setup,
    commitment: WeightCommitment,
    weights: npt.NDArray[np.int64],
    biases: npt.NDArray[np.int64],
    statement: BatchStatement,
    witness: BatchWitness,
    *,
    hooks: BatchProverHooks | None = None,
    rng: random.Random | None = None,
) -> bytes:
    """
    Prove from a given witness without checking it (tests inject malicious witnesses here and
    transcript or round attacks through ``hooks``; the honest path is :func:`prove_batch`). ``H``
    is derived from ``witness.limbs``, ``α`` and ``λ``.

    Every mask is drawn fresh for this proof (``rng`` is TESTS ONLY); a degenerate draw
    (``ρ_L = 0``, ``u_ℓ(1 − u_ℓ) = 0``, docs/proof-system-zk.md Z10) is retried with fresh masks
    unless a hook forces them.

    Raises
    ------
    WitnessError
        If ``α`` hits a looked-up value, a mask commitment is at infinity, or a degenerate
        challenge cannot be retried.
    """
    _check_setup(setup)
    return with_fresh_masks(
        lambda: _prove(setup, commitment, weights, biases, statement, witness, hooks, rng),
        fixed=hooks is not None and hooks.masks is not None,
    )


def _round2_challenges(
    tr: Transcript, c_h: Sequence[G1Point], layout: BatchLayout
) -> tuple[list[int], list[int], list[int], int, int]:
    """Absorb ``C_H[K_L]`` (tag ``0x02``); draw ``τ`` (``μ_i``), ``τ_B`` (``μ_B``), ``τ″`` (``ℓ``),
    ``γ``, ``ρ_L`` (B5)."""
    tr.absorb(TAG_ROUND2, b"".join(encode_g1(p) for p in c_h))
    tau = tr.challenges(layout.shape.mu_i)
    tau_b = tr.challenges(layout.mu_b)
    tau2 = tr.challenges(layout.domain.ell)
    gamma = tr.challenge()
    return tau, tau_b, tau2, gamma, tr.challenge()


def _prove(
    setup: Setup,
    commitment: WeightCommitment,
    weights: npt.NDArray[np.int64],
    biases: npt.NDArray[np.int64],
    statement: BatchStatement,
    witness: BatchWitness,
    hooks: BatchProverHooks | None,
    rng: random.Random | None,
) -> bytes:
    layout = statement.layout
    shape, dom = layout.shape, layout.domain
    mp, k = shape.m_pad, layout.k
    hooks = hooks if hooks is not None else BatchProverHooks()
    statement_bytes = statement.to_bytes(setup.setup_id)
    if hooks.statement_bytes is not None:
        statement_bytes = hooks.statement_bytes(statement_bytes)
    tr = start_transcript(DOMAIN_BATCH, statement_bytes, None)

    masks = ZkMasks.draw(dom.ell, rng)
    limb_blind = draw_nonzero(2 * layout.k_l, rng)
    h_blind = draw_nonzero(2 * layout.k_l, rng)
    mu_blind = draw_nonzero(2, rng)
    r_mask = draw_nonzero(D // 2, rng)
    if hooks.masks is not None:
        masks, limb_blind, h_blind, mu_blind, r_mask = hooks.masks(
            masks, limb_blind, h_blind, mu_blind, r_mask
        )
    cells = layout.blinding_cells()
    blind_flat = [shape.flat(row, col) for row, col in cells]
    limb_cols = np.asarray(layout.limb_columns(), dtype=np.int64)

    # Round 1: Limb (instance b's limb t at column b·L₂ + t, blinded in every chunk), Mu, masks.
    limb_data = limb_grid(layout, witness.limbs)
    limb_full = limb_data.copy()
    for (row, col), value in zip(cells, limb_blind, strict=True):
        limb_full[row, col] = value % R
    c_limb = add_entries(
        setup,
        commit_chunks(setup, grid_flat(limb_data), layout.k_l),
        dict(zip(blind_flat, limb_blind, strict=True)),
    )
    ts = layout.table_size
    mu_flat = obj_array([*witness.multiplicities, *mu_blind])
    c_mu = add_entries(
        setup,
        commit_chunks(setup, obj_array(list(witness.multiplicities)), 1),
        {ts: mu_blind[0], ts + 1: mu_blind[1]},
    )[0]
    c_r = commit_periodic(setup, [v % R for v in r_mask], D // 2)
    if c_r == G1Point.identity():
        raise WitnessError("C_R is the point at infinity: draw fresh masks")
    c_lib, c_mk = masks.commitments(setup)
    libra_sum = masks.libra.total_sum()
    alpha, lam = round1_challenges(tr, [*c_limb, c_mu, c_r, c_lib, c_mk], 2, libra_sum)

    # Round 2: H = 1/(α − Limb − λ·topB) on the limb columns, blinded at the same cells.
    lookups = np.concatenate(list(np.asarray(witness.limbs, dtype=object)), axis=1) % R
    tops = [b * layout.limbs + layout.k_rho - 1 for b in range(layout.batch)]
    lookups[:, tops] = (lookups[:, tops] + lam) % R
    h_inv = inverse_lookup(lookups, alpha).spread(limb_cols, layout.width)
    h = h_inv.values.copy()
    for (row, col), value in zip(cells, h_blind, strict=True):
        h[row, col] = value % R
    c_h = add_entries(
        setup, h_inv.commit(setup, layout.k_l), dict(zip(blind_flat, h_blind, strict=True))
    )
    tau, tau_b, tau2, gamma, rho_l = _round2_challenges(tr, c_h, layout)
    if rho_l == 0:
        raise DegenerateDrawError

    # The sumcheck of F + ρ_L·G + the weight-mask term.
    e_b = _instance_weights(tau_b, layout.batch)
    total_e = sum(e_b) % R
    ones = [1] * layout.batch
    x_bar = _x_bar(layout, statement.x_values, e_b)
    sigma = np.zeros((mp, layout.width), dtype=object)
    for b, y in enumerate(statement.y_values):
        sigma_col = np.array(_sigma(layout, y, statement.activation), dtype=object) % R
        for t in range(layout.limbs):
            sigma[:, b * layout.l2 + t] = sigma_col
    tau2_j = tau2[shape.mu_i :]
    e2_full = eq_prefix(tau2_j, layout.width)
    e2 = [0] * (int(limb_cols[-1]) + 1)
    for j in limb_cols.tolist():
        e2[j] = e2_full[j]
    ints = np.concatenate([weights, biases.reshape(-1, 1)], axis=1)
    blind = blinding_rows(shape, commitment.blinding)
    w_blind_cols = {int(c): blind[kappa] for kappa, c in enumerate(shape.blinding_columns())}
    top_t = [1 if t == layout.k_rho - 1 else 0 for t in range(layout.limbs)]
    tables: dict[str, Table] = {
        "eq_tau": Vec("i", eq_table(tau)),
        "e_i": Vec("i", eq_table(tau2[: shape.mu_i])),
        "e2": Vec("j", e2),
        "y": Vec("i", _y_bar(layout, statement.y_values, e_b)),
        "x": Vec("j", x_bar),
        "delta0": Vec("j", [1]),
        "c_rho": Vec("j", _limb_vector(layout, _c_rho(layout), e_b)),
        "c_u": Vec("j", _limb_vector(layout, _c_u(layout), e_b)),
        "sel": Vec("j", _limb_vector(layout, [1] * layout.limbs, ones)),
        "top": Vec("j", _limb_vector(layout, top_t, ones)),
        "Sigma": Grid(sigma),
        "W": WeightGrid(ints, w_blind_cols, mp, shape.positions()),
        "Limb": Grid(limb_full),
        "H": Grid(h),
        "Mu": Grid(flat_grid(mu_flat, mp)),
        "T": Grid(flat_grid(_t_alpha(alpha, lam, ts), mp)),
    }
    g2 = gamma * gamma % R
    two_k = 1 << k
    terms = [
        Term(statement.multiplier, ("eq_tau", "W", "x")),
        Term(total_e * (1 << (k - 1)), ("eq_tau", "delta0")),
        Term(-two_k, ("eq_tau", "y", "delta0")),
        Term(-1, ("eq_tau", "c_rho", "Limb")),
        Term(-two_k, ("eq_tau", "c_u", "Sigma", "Limb")),
        Term(gamma, ("sel", "H")),
        Term(-gamma, ("Mu", "T")),
        Term(g2 * alpha, ("e_i", "e2", "H")),
        Term(-g2, ("e_i", "e2", "H", "Limb")),
        Term(-g2 * lam, ("e_i", "e2", "top", "H")),
        Term(-g2, ("e_i", "e2")),
    ]
    prover = SumcheckProver(shape.mu_i, dom.mu_j, tables, terms)
    mask_term = _WeightMaskAddend(
        SumcheckProver(
            shape.mu_i,
            dom.mu_j,
            {
                "eq_tau": Vec("i", eq_table(tau)),
                "R": PeriodicGrid([v % R for v in r_mask], mp, dom.n_pad),
                "x": Vec("j", x_bar),
            },
            [Term(statement.multiplier, ("eq_tau", "R", "x"))],
        )
    )
    libra = LibraAddend(masks.libra, rho_l)
    claim = rho_l * libra_sum % R
    rounds = prove_rounds(
        prover, tr, message=hooks.round_message, claim=claim, addends=[libra, mask_term]
    )
    point = prover.point()
    scale = mask_term.scale
    if scale is None or scale == 0:
        raise DegenerateDrawError
    w_hat = (prover.final_value("W") + scale * mask_term.inner.final_value("R")) % R
    evals = [w_hat, *(prover.final_value(name) for name in OPENED[1:])]
    s_g = masks.libra.evaluate(point)
    if hooks.trace is not None:
        challenges = BatchChallenges(alpha, lam, tau, tau_b, tau2, gamma, rho_l)
        final_claim = lagrange_eval_0123(rounds[-1], point[0])
        hooks.trace(BatchTrace(challenges, point, evals, final_claim, s_g))

    r_chunk = [v % R for v in r_mask] * 2
    opened: list[tuple[Flat, int]] = [
        (weight_flat(shape, weights, biases), shape.k_w),
        (grid_flat(limb_full), layout.k_l),
        (grid_flat(h), layout.k_l),
        (mu_flat, 1),
    ]
    opening, tail = open_batched(
        setup,
        dom,
        opened,
        blind,
        point,
        evals,
        tr,
        masks=masks,
        s_g=s_g,
        w_mask=WeightMask(r_chunk, scale),
    )
    proof = InferenceProof(
        c_w=tuple(commitment.chunk_points()),
        c_limb=tuple(c_limb),
        c_mu=c_mu,
        c_r=c_r,
        c_lib=c_lib,
        c_mk=c_mk,
        libra_sum=libra_sum,
        c_h=tuple(c_h),
        rounds=tuple((a, b_, c, d) for a, b_, c, d in rounds),
        evals=(*evals, *tail),
        opening=opening,
    )
    return encode_batch_proof(proof)


class _WeightMaskAddend:
    """
    The round addend of the weight-mask term ``M·eq(τ, i)·X_ℓ(1 − X_ℓ)·R̃(X_1..X_{d−1})·x̄(j)``
    (docs/proof-system-zk.md Z4 with ``x̄``): in round 1 (which binds ``X_ℓ``) its polynomial is
    ``X(1 − X)`` times ``inner``'s, later ``u_ℓ(1 − u_ℓ)`` times it. It vanishes on the
    hypercube; after the last round it is the difference between ``F`` with ``Ŵ(u)`` and with
    ``W̃′(u)``.
    """

    def __init__(self, inner: SumcheckProver) -> None:
        self.inner = inner
        self.scale: int | None = None

    def round_evals(self) -> list[int]:
        """This round's polynomial at ``X = 0, 1, 2, 3``."""
        evals = self.inner.round_evals()
        if self.scale is None:
            return [x * (1 - x) * int(e) % R for x, e in enumerate(evals)]
        return [self.scale * int(e) % R for e in evals]

    def bind(self, u: int) -> None:
        """Bind this round's variable to ``u``."""
        u %= R
        if self.scale is None:
            self.scale = u * (1 - u) % R
        self.inner.bind(u)


# --------------------------------------------------------------------------------------------------
# Bytes


def batch_proof_len(statement: BatchStatement) -> int:
    """
    The exact byte length of a proof of ``statement``: docs/proof-system-zk.md Z9's inference
    layout with ``K_L`` and ``ℓ`` of docs/proof-system-batch.md B2.
    """
    layout = statement.layout
    points = layout.shape.k_w + 2 * layout.k_l + 4
    return (
        points * G1_ENCODED_LEN
        + SCALAR_LEN
        + layout.domain.ell * ROUND_EVALS * SCALAR_LEN
        + EVALS * SCALAR_LEN
        + ZkOpeningProof.BYTE_LEN
    )


def encode_batch_proof(proof: InferenceProof) -> bytes:
    """``C_W ‖ C_Limb ‖ C_Mu ‖ C_R ‖ C_Lib ‖ C_Mk ‖ Γ ‖ C_H ‖ sumcheck ‖ evals ‖ opening``."""
    return proof.to_bytes()


def decode_batch_proof(data: bytes, statement: BatchStatement) -> InferenceProof:
    """
    Decode a batch proof strictly for ``statement``'s sizes.

    Raises
    ------
    EncodingError
        On a wrong length, a non-canonical scalar or an invalid point.
    """
    data = bytes(data)
    expected = batch_proof_len(statement)
    if len(data) != expected:
        raise EncodingError(f"batch proof of {len(data)} bytes, expected {expected}")
    layout = statement.layout
    offset = 0

    def points(count: int) -> tuple[G1Point, ...]:
        nonlocal offset
        out = []
        for _ in range(count):
            out.append(decode_g1(data[offset : offset + G1_ENCODED_LEN]))
            offset += G1_ENCODED_LEN
        return tuple(out)

    def scalars(count: int) -> tuple[int, ...]:
        nonlocal offset
        out = []
        for _ in range(count):
            out.append(scalar_from_bytes(data[offset : offset + SCALAR_LEN]))
            offset += SCALAR_LEN
        return tuple(out)

    c_w = points(layout.shape.k_w)
    c_limb = points(layout.k_l)
    c_mu, c_r, c_lib, c_mk = points(4)
    (libra_sum,) = scalars(1)
    c_h = points(layout.k_l)
    rounds = []
    for _ in range(layout.domain.ell):
        a, b, c, d = scalars(ROUND_EVALS)
        rounds.append((a, b, c, d))
    evals = scalars(EVALS)
    opening = ZkOpeningProof.from_bytes(data[offset:])
    return InferenceProof(
        c_w=c_w,
        c_limb=c_limb,
        c_mu=c_mu,
        c_r=c_r,
        c_lib=c_lib,
        c_mk=c_mk,
        libra_sum=libra_sum,
        c_h=c_h,
        rounds=tuple(rounds),
        evals=evals,
        opening=opening,
    )


# --------------------------------------------------------------------------------------------------
# The verifier


def batch_final_value(
    statement: BatchStatement,
    challenges: BatchChallenges,
    point: Sequence[int],
    evals: Sequence[int],
) -> int:
    """
    ``F(u)`` from ``(Ŵ, Limb, H, Mu)(u)`` and the public values at ``u`` computed as
    docs/proof-system-batch.md B4 says, in ``O(B·(n + m) + TS + ℓ)``: the verifier requires
    ``claim = F(u) + ρ_L·s_G``.
    """
    layout = statement.layout
    shape = layout.shape
    ch = challenges
    u_i, u_j = list(point[: shape.mu_i]), list(point[shape.mu_i :])
    u_t = u_j[: layout.log_l2]
    u_b = u_j[layout.log_l2 : layout.log_l2 + layout.mu_b]
    u_r = u_j[layout.log_l2 + layout.mu_b :]
    tau2_i, tau2_j = ch.tau2[: shape.mu_i], ch.tau2[shape.mu_i :]
    t2_t = tau2_j[: layout.log_l2]
    t2_b = tau2_j[layout.log_l2 : layout.log_l2 + layout.mu_b]
    t2_r = tau2_j[layout.log_l2 + layout.mu_b :]

    e_b = _instance_weights(ch.tau_b, layout.batch)
    total_e = sum(e_b) % R
    e_ub = eq_prefix(u_b, layout.batch)
    e_ut = eq_prefix(u_t, layout.limbs)
    pr = 1
    for v in u_r:
        pr = pr * (1 - v) % R
    sum_t = sum(e_ut) % R
    sum_b = sum(e_ub) % R
    folded_b = sum(a * c for a, c in zip(e_b, e_ub, strict=True)) % R

    # x̄̃(u_j) = Σ_c (Σ_b eB(b)·x_{b,c})·eq(u_j, pos(c)) + E·eq(u_j, pos(n)).
    positions = shape.positions()
    e_cols = eq_prefix(u_j, int(positions[-1]) + 1)
    x_bar = _x_bar(layout, statement.x_values, e_b)
    x_u = sum(x_bar[int(p)] * e_cols[int(p)] for p in positions) % R
    # ȳ̃(u_i) and σ̃_b(u_i) over the m real rows; relu padded rows have σ = −1.
    e_rows = eq_prefix(u_i, shape.m)
    y_u = sum(v * e for v, e in zip(_y_bar(layout, statement.y_values, e_b), e_rows, strict=True))
    pad = (1 - sum(e_rows)) % R if statement.activation == 1 else 0
    sigma_u = 0
    for b, y in enumerate(statement.y_values):
        s = _sigma(layout, y, statement.activation)[: shape.m]
        sigma_b = (sum(v * e for v, e in zip(s, e_rows, strict=True)) - pad) % R
        sigma_u = (sigma_u + e_ub[b] * sigma_b) % R
    sigma_u = pr * sum_t % R * sigma_u % R
    c_rho = pr * sum(c * e for c, e in zip(_c_rho(layout), e_ut, strict=True)) % R * folded_b
    c_u = pr * sum(c * e for c, e in zip(_c_u(layout), e_ut, strict=True)) % R * folded_b
    sel = pr * sum_t % R * sum_b % R
    top = pr * e_ut[layout.k_rho - 1] % R * sum_b % R
    # ẽ″B(u_j) = Σ_{b<B} Σ_{t<L} eq(τ″_j, bL₂ + t)·eq(u_j, bL₂ + t), factored per block of bits.
    e2 = 1
    for a, c in zip(t2_r, u_r, strict=True):
        e2 = e2 * (1 - a) % R * (1 - c) % R
    e2 = e2 * sum(a * c for a, c in zip(eq_prefix(t2_t, layout.limbs), e_ut, strict=True)) % R
    e2 = e2 * sum(a * c for a, c in zip(eq_prefix(t2_b, layout.batch), e_ub, strict=True)) % R
    delta0 = 1
    for v in u_j:
        delta0 = delta0 * (1 - v) % R
    t_alpha = sum(
        v * e
        for v, e in zip(
            _t_alpha(ch.alpha, ch.lam, layout.table_size),
            eq_prefix(list(point), layout.table_size),
            strict=True,
        )
    )
    eq_tau = eq_eval(ch.tau, u_i)
    eq_tau2 = eq_eval(tau2_i, u_i) * e2 % R

    w_u, limb_u, h_u, mu_u = evals[:4]
    k = layout.k
    a = (
        statement.multiplier * w_u * x_u
        + delta0 * (total_e * (1 << (k - 1)) - (1 << k) * y_u)
        - c_rho * limb_u
        - (1 << k) * c_u * sigma_u * limb_u
    )
    b1 = sel * h_u - mu_u * t_alpha
    b2 = h_u * (ch.alpha - limb_u - ch.lam * top) - 1
    return (eq_tau * a + ch.gamma * b1 + ch.gamma * ch.gamma * eq_tau2 * b2) % R


def verify_batch(setup: Setup, statement: BatchStatement, proof_bytes: bytes) -> None:
    """
    Check a batch proof against its statement (docs/proof-system-batch.md B5).

    Returns
    -------
    None
        If the proof is valid: every ``y_b`` is what the committed layer computes from ``x_b``.

    Raises
    ------
    EncodingError
        If the bytes are not a canonical proof of the statement's sizes.
    ProofRejected
        If ``C_W`` does not hash to ``H_W``, a degenerate case of docs/proof-system-zk.md Z10
        occurs, or a check fails.
    """
    _check_setup(setup)
    layout = statement.layout
    proof = decode_batch_proof(proof_bytes, statement)
    if weight_commitment_hash(proof.c_w) != statement.h_w:
        raise ProofRejected("the weight chunks do not hash to H_W")
    reject_masks_at_infinity(
        C_R=proof.c_r,
        C_Lib=proof.c_lib,
        C_Mk=proof.c_mk,
        C_A=proof.opening.c_a,
        C_Q=proof.opening.c_q,
    )
    tr = start_transcript(DOMAIN_BATCH, statement.to_bytes(setup.setup_id), None)
    alpha, lam = round1_challenges(
        tr, [*proof.c_limb, proof.c_mu, proof.c_r, proof.c_lib, proof.c_mk], 2, proof.libra_sum
    )
    tau, tau_b, tau2, gamma, rho_l = _round2_challenges(tr, proof.c_h, layout)
    if rho_l == 0:
        raise ProofRejected("degenerate: ρ_L = 0")
    challenges = BatchChallenges(alpha, lam, tau, tau_b, tau2, gamma, rho_l)

    claim, (u_top,) = verify_rounds(proof.rounds[:1], rho_l * proof.libra_sum % R, tr)
    scale = u_top * (1 - u_top) % R
    if scale == 0:
        raise ProofRejected("degenerate: u_ℓ(1 − u_ℓ) = 0")
    claim, rest = verify_rounds(proof.rounds[1:], claim, tr)
    point = [*rest, u_top]
    s_g = proof.evals[-1]
    if (batch_final_value(statement, challenges, point, proof.evals) + rho_l * s_g) % R != claim:
        raise ProofRejected("the final sumcheck claim does not match the evaluations")
    verify_batched(
        setup,
        layout.domain,
        [proof.c_w, proof.c_limb, proof.c_h, (proof.c_mu,)],
        point,
        proof.evals,
        proof.opening,
        tr,
        c_lib=proof.c_lib,
        c_mk=proof.c_mk,
        s_g=s_g,
        w_mask_commitment=(proof.c_r, scale),
    )
