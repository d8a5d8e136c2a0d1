"""
The inference proof: the committed layer maps the public ``x`` to the public ``y``, in zero
knowledge (docs/proof-system.md §5, §7 with the v2 delta docs/proof-system-zk.md).

Introduction
------------
The prover first computes ``z = W·x + b`` and ``y`` with the runtime's own requant
(:func:`protocol.requant.requant_array`) and refuses (:class:`~sumkzg.errors.WitnessError`) if
``y`` is not the statement's. Per row ``i < m'`` (``z_i = 0`` on padded rows) the witness is

    M·z_i + 2^{k−1} = 2^k·(y′_i + σ_i·u_i) + ρ_i,   0 <= ρ_i < 2^k,   u_i >= 0,

with ``ρ`` in ``Kρ`` byte limbs and ``u`` in ``Ku`` byte limbs (``Limb``), each looked up in the
table of docs/proof-system.md §3: the bytes, and for the top remainder limb the ``2^{k'}`` values
``λ + t`` (``λ`` drawn after the limbs are committed). The relation::

    A   = M·Ŵ·x′(j) + δ0(j)·(2^{k−1} − 2^k·y′(i)) − (cρ(j) + 2^k·σ(i)·cu(j))·Limb
    B1  = sel(j)·H − Mu·Tα
    B2  = eq(τ″_i, i)·e″(j)·(H·(α − Limb − λ·top(j)) − 1),   e″(j) = sel(j)·eq(τ″_j, j)
    F   = eq(τ, i)·A + γ·B1 + γ²·B2,     Σ F = 0

with ``Ŵ(X) = W′(X) + X_ℓ(1 − X_ℓ)·R̃(X_1..X_{d−1})`` (the weight mask ``R``, Z4). The sumcheck
runs on ``F + ρ_L·G`` (Libra, Z5) from the claim ``ρ_L·Γ``; limb column ``t`` of ``Limb`` and ``H``
sits at layout column ``posL(t) = t + ⌊t/g⌋`` (the public column vectors with it), so that the last
column of every chunk is free: ``Limb`` and ``H`` carry two fresh blinding entries in **every**
chunk (rows 0 and 1 of that column) and ``Mu`` two, where every term vanishes (Z2), and the opening
is masked (Z6).

:func:`build_inference_witness` and :func:`prove_inference_with_witness` are separate so that tests
can prove from a malicious witness; :func:`prove_inference` is the honest composition.
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
    open_batched,
    round1_challenges,
    round2_challenges,
    start_transcript,
    verify_batched,
    with_fresh_masks,
)
from .curve import commit_periodic
from .errors import ProofRejected, WitnessError
from .field import R, eq_table, lagrange_eval_0123
from .layout import (
    BYTE_TABLE_SIZE,
    c_rho_column,
    c_u_column,
    column_eq_values,
    delta0_column,
    inference_public_evals,
    sel_column,
    sigma_rows,
    t_alpha_values,
    top_column,
    x_column,
    y_rows,
)
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
from .statement import InferenceStatement
from .sumcheck import (
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
from .transcript import (
    DOMAIN_INFERENCE,
    Transcript,
)

OPENED = ("W", "Limb", "H", "Mu")
"""The opened polynomials, in proof order."""


@dataclass(frozen=True)
class InferenceWitness:
    """
    The inference prover's witness (before ``α``).

    Attributes
    ----------
    limbs :
        ``Limb``: ``m' × L`` field elements; honestly the bytes of ``ρ_i`` (columns ``< Kρ``,
        little-endian) and of ``u_i`` (columns ``Kρ..L−1``).
    multiplicities :
        ``Mu``: ``TS`` field elements, honestly the number of lookups of each table value.
    remainders, slacks :
        ``ρ`` and ``u`` per row (informational; the proof uses only ``limbs``).
    """

    limbs: ObjArray
    multiplicities: tuple[int, ...]
    remainders: tuple[int, ...]
    slacks: tuple[int, ...]


@dataclass(frozen=True)
class InferenceChallenges:
    """
    The challenges drawn before the sumcheck: ``α``, ``λ`` (round 1), ``τ``, ``τ″``, ``γ``,
    ``ρ_L`` (round 2).
    """

    alpha: int
    lam: int
    tau: list[int]
    tau2: list[int]
    gamma: int
    rho_l: int


@dataclass(frozen=True)
class InferenceTrace:
    """What a prover run exposes besides the proof (for :attr:`ProverHooks.trace`)."""

    challenges: InferenceChallenges
    point: list[int]
    evals: list[int]
    final_claim: int
    """The verifier's claim after the last round, ``s_ℓ(u_ℓ)`` of the rounds as sent."""
    s_g: int
    """The Libra evaluation ``s_G`` sent: the final check is ``final_claim = F(u) + ρ_L·s_G``."""


MaskHook = Callable[
    [ZkMasks, list[int], list[int], list[int], list[int]],
    tuple[ZkMasks, list[int], list[int], list[int], list[int]],
]
"""TESTS ONLY: ``(masks, Limb blinding, H blinding, Mu blinding, R) -> the same, replaced``; the
``Limb`` and ``H`` blinding lists hold ``2·K_L`` entries each, in the order of
:meth:`~sumkzg.layout.LimbLayout.blinding_cells` (rows 0, 1 of each chunk's free column)."""


@dataclass(frozen=True)
class ProverHooks:
    """
    TESTS ONLY: the hook points of :func:`prove_inference_with_witness`, through which the
    malicious-prover battery (tests/unit/sumkzg/test_malicious_provers.py) builds its transcript
    and round attacks from the real prover. Every hook left ``None`` is the honest behaviour;
    honest provers pass no hooks at all.

    Attributes
    ----------
    statement_bytes :
        Given the statement bytes, returns the bytes absorbed with tag ``0x00`` instead.
    round_message :
        Per sumcheck round: see :data:`sumkzg.sumcheck.RoundMessage` (the claimed sum is
        ``ρ_L·Γ``; the messages include the Libra and weight-mask addends).
    trace :
        Called once, before the opening, with the run's :class:`InferenceTrace`.
    masks :
        Given the freshly drawn ``(ZkMasks, Limb blinding, H blinding, Mu blinding, R)``, returns
        what the prover uses instead (the degenerate-mask and mask-reuse tests).
    open_masks :
        Given the committed :class:`~sumkzg.batch.ZkMasks` and the sumcheck point, returns the
        masks whose ``s_G`` and Gemini mask are opened (a prover that changes its mask after
        seeing ``u``).
    """

    statement_bytes: Callable[[bytes], bytes] | None = None
    round_message: RoundMessage | None = None
    trace: Callable[[InferenceTrace], None] | None = None
    masks: MaskHook | None = None
    open_masks: Callable[[ZkMasks, list[int]], ZkMasks] | None = None


def runtime_output(
    weights: npt.NDArray[np.int64],
    biases: npt.NDArray[np.int64],
    statement: InferenceStatement,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int8]]:
    """
    ``z = W·x + b`` and ``y`` by the runtime's rule (:func:`protocol.requant.requant_array`).

    Raises
    ------
    WitnessError
        If the runtime refuses (an accumulator ``|z| >= 2^31``).
    """
    z = int_gemv(weights, statement.x_array(), biases)
    try:
        y = requant_array(
            z, statement.multiplier, statement.shift, Activation(statement.activation)
        )
    except ProtocolError as error:
        raise WitnessError(f"the runtime refuses this layer and input: {error}") from error
    return z, y


def build_inference_witness(
    weights: npt.NDArray[np.int64],
    biases: npt.NDArray[np.int64],
    statement: InferenceStatement,
) -> InferenceWitness:
    """
    The honest witness, after checking the statement's ``y`` against the runtime's.

    Raises
    ------
    WitnessError
        If the runtime's ``y`` differs from ``statement.y`` (or the runtime refuses the input).
    """
    layout = statement.layout
    shape = layout.shape
    z, y = runtime_output(weights, biases, statement)
    if bytes(y.astype(np.int8).tobytes()) != statement.y:
        raise WitnessError("the statement's y is not what the runtime computes")
    k = statement.shift
    z_pad = np.zeros(shape.m_pad, dtype=np.int64)
    z_pad[: shape.m] = z
    # |M·z| < 2^62 and 2^{k−1} <= 2^61: exact in int64; >> floors, & takes the residue mod 2^k.
    t = z_pad * np.int64(statement.multiplier) + np.int64(1 << (k - 1))
    rho = t & np.int64((1 << k) - 1)
    q = t >> np.int64(k)
    y_pad = np.zeros(shape.m_pad, dtype=np.int64)
    y_pad[: shape.m] = statement.y_array().astype(np.int64)
    sigma = np.array(sigma_rows(shape, statement.y_values, statement.activation), dtype=np.int64)
    u = sigma * (q - y_pad)
    if np.any(u < 0) or np.any(y_pad + sigma * u != q):
        raise WitnessError("the remainder identity has no non-negative slack (y is not clamp(q))")
    cols = [(rho >> np.int64(8 * t_)) & 0xFF for t_ in range(layout.k_rho)]
    cols += [(u >> np.int64(8 * t_)) & 0xFF for t_ in range(layout.k_u)]
    limbs = np.stack(cols, axis=1)
    lookups = limbs.copy()
    lookups[:, layout.k_rho - 1] += BYTE_TABLE_SIZE
    counts = np.bincount(lookups.reshape(-1), minlength=layout.table_size)
    if counts.size != layout.table_size:
        raise WitnessError("a limb is outside its range")
    return InferenceWitness(
        limbs=obj_array(limbs),
        multiplicities=tuple(int(c) for c in counts),
        remainders=tuple(int(v) for v in rho),
        slacks=tuple(int(v) for v in u),
    )


def _check_inputs(
    setup: Setup,
    commitment: WeightCommitment,
    weights: npt.NDArray[np.int8],
    biases: npt.NDArray[np.integer],
    statement: InferenceStatement,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    w, b = check_weights(weights, biases)
    shape = statement.layout.shape
    if (commitment.m, commitment.n) != (shape.m, shape.n) or w.shape != (shape.m, shape.n):
        raise WitnessError("the weights, the commitment and the statement disagree on the shape")
    if commitment.h_w != statement.h_w:
        raise WitnessError("the statement's H_W is not the commitment's")
    if commitment.setup_id != setup.setup_id:
        raise WitnessError("the commitment was made with another setup")
    return w, b


def prove_inference(
    setup: Setup,
    commitment: WeightCommitment,
    weights: npt.NDArray[np.int8],
    biases: npt.NDArray[np.integer],
    statement: InferenceStatement,
    *,
    transcript: Transcript | None = None,
    rng: random.Random | None = None,
) -> bytes:
    """
    Prove that the committed layer maps ``statement.x`` to ``statement.y``, in zero knowledge
    (docs/proof-system-zk.md).

    Parameters
    ----------
    setup :
        The setup the commitment was made with (``D`` points).
    commitment :
        :func:`~sumkzg.registration.commit_weights` of ``weights``, ``biases``.
    weights, biases :
        ``W`` (``int8``, ``(m, n)``) and ``b`` (``(m,)``, int32).
    statement :
        What to prove; its ``h_w`` must be the commitment's.
    transcript :
        For tests (to record challenges): a fresh transcript of the inference domain.
    rng :
        TESTS ONLY (golden vectors): a deterministic source for every mask of the proof; ``None``
        (the only choice for a real proof) draws them from :mod:`secrets`.

    Returns
    -------
    proof : `bytes`
        The Z9 inference proof.

    Raises
    ------
    WitnessError
        If ``y`` is not what the runtime computes, or the inputs disagree with each other.
    """
    _check_setup(setup)
    w, b = _check_inputs(setup, commitment, weights, biases, statement)
    witness = build_inference_witness(w, b, statement)
    return prove_inference_with_witness(
        setup, commitment, w, b, statement, witness, transcript=transcript, rng=rng
    )


def prove_inference_with_witness(
    setup: Setup,
    commitment: WeightCommitment,
    weights: npt.NDArray[np.int64],
    biases: npt.NDArray[np.int64],
    statement: InferenceStatement,
    witness: InferenceWitness,
    *,
    transcript: Transcript | None = None,
    hooks: ProverHooks | None = None,
    rng: random.Random | None = None,
) -> bytes:
    """
    Prove from a given witness without checking it (tests inject malicious witnesses here, and
    transcript/round attacks through ``hooks``, see :class:`ProverHooks`; the honest path is
    :func:`prove_inference`). ``H`` is derived from ``witness.limbs`` and ``α``.

    Every mask (the blinding entries of ``Limb``, ``H``, ``Mu``, the weight mask ``R``, the Libra
    and Gemini masks) is drawn fresh for this proof from :mod:`secrets`; ``rng`` is TESTS ONLY (a
    deterministic source for golden vectors). A degenerate draw (docs/proof-system-zk.md Z10:
    ``ρ_L = 0``, ``u_ℓ(1 − u_ℓ) = 0``) is retried with fresh masks unless a hook forces masks.

    Raises
    ------
    WitnessError
        If ``α`` hits a looked-up value (no inverse), a mask commitment is the point at infinity
        (a zero mask forced by a hook; probability ``~1/r`` otherwise), or a degenerate challenge
        cannot be retried (a caller's transcript or forced masks).
    """
    _check_setup(setup)
    return with_fresh_masks(
        lambda: _prove(
            setup, commitment, weights, biases, statement, witness, transcript, hooks, rng
        ),
        fixed=transcript is not None or (hooks is not None and hooks.masks is not None),
    )


def _prove(
    setup: Setup,
    commitment: WeightCommitment,
    weights: npt.NDArray[np.int64],
    biases: npt.NDArray[np.int64],
    statement: InferenceStatement,
    witness: InferenceWitness,
    transcript: Transcript | None,
    hooks: ProverHooks | None,
    rng: random.Random | None,
) -> bytes:
    layout = statement.layout
    shape = layout.shape
    mp, k = shape.m_pad, layout.k
    hooks = hooks if hooks is not None else ProverHooks()
    statement_bytes = statement.to_bytes(setup.setup_id)
    if hooks.statement_bytes is not None:
        statement_bytes = hooks.statement_bytes(statement_bytes)
    tr = start_transcript(DOMAIN_INFERENCE, statement_bytes, transcript)

    # The masks of this proof (Z0, Z2, Z4, Z5, Z6).
    masks = ZkMasks.draw(shape.ell, rng)
    limb_blind = draw_nonzero(2 * layout.k_l, rng)
    h_blind = draw_nonzero(2 * layout.k_l, rng)
    mu_blind = draw_nonzero(2, rng)
    r_mask = draw_nonzero(D // 2, rng)
    if hooks.masks is not None:
        masks, limb_blind, h_blind, mu_blind, r_mask = hooks.masks(
            masks, limb_blind, h_blind, mu_blind, r_mask
        )
    r_chunk = [*r_mask, *r_mask]
    # Limb column t at posL(t) = t + ⌊t/g⌋; two blinding entries in every chunk κ < K_L, at rows 0
    # and 1 of its free column cpc·κ + g (Z2).
    limb_pos = layout.positions()
    cells = layout.blinding_cells()
    blind_flat = [shape.flat(row, col) for row, col in cells]

    # Round 1: limbs, multiplicities and the mask commitments.
    limbs = np.asarray(witness.limbs, dtype=object)
    limb_data = _zeros_grid(mp, layout.width)
    limb_data[:, limb_pos] = limbs
    limb_grid = limb_data.copy()
    for (row, col), value in zip(cells, limb_blind, strict=True):
        limb_grid[row, col] = value
    limb_flat = grid_flat(limb_grid)
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
    c_r = commit_periodic(setup, r_mask, D // 2)  # = commit(setup, r_chunk)
    if c_r == G1Point.identity():
        raise WitnessError("C_R is the point at infinity: draw fresh masks")
    c_lib, c_mk = masks.commitments(setup)
    libra_sum = masks.libra.total_sum()
    alpha, lam = round1_challenges(tr, [*c_limb, c_mu, c_r, c_lib, c_mk], 2, libra_sum)

    # Round 2: the inverses H = 1/(α − Limb − λ·top) on the limb columns posL(t), blinded at the
    # same cells as Limb (independent values).
    lookups = limbs.copy()
    lookups[:, layout.k_rho - 1] = (lookups[:, layout.k_rho - 1] + lam) % R
    h_inv = inverse_lookup(lookups, alpha).spread(
        np.asarray(limb_pos, dtype=np.int64), layout.width
    )
    h = h_inv.values.copy()
    for (row, col), value in zip(cells, h_blind, strict=True):
        h[row, col] = value
    c_h = add_entries(
        setup, h_inv.commit(setup, layout.k_l), dict(zip(blind_flat, h_blind, strict=True))
    )
    tau, tau2, gamma, rho_l = round2_challenges(tr, c_h, shape)
    if rho_l == 0:
        raise DegenerateDrawError

    # The sumcheck of F + ρ_L·G (+ the weight-mask term). W′: the integer block [W | b] at the
    # layout columns pos(0..n), chunk κ's blinding column at cpc·κ + g.
    ints = np.concatenate([weights, biases.reshape(-1, 1)], axis=1)
    blind = blinding_rows(shape, commitment.blinding)
    w_blind_cols = {int(c): blind[kappa] for kappa, c in enumerate(shape.blinding_columns())}
    x_col = x_column(shape, statement.x_values)
    tau2_j = tau2[shape.mu_i :]
    tables: dict[str, Table] = {
        "eq_tau": Vec("i", eq_table(tau)),
        "e_i": Vec("i", eq_table(tau2[: shape.mu_i])),
        "e2": Vec("j", column_eq_values(tau2_j, limb_pos)),
        "y": Vec("i", y_rows(statement.y_values)),
        "sigma": Vec("i", sigma_rows(shape, statement.y_values, statement.activation)),
        "x": Vec("j", x_col),
        "delta0": Vec("j", delta0_column()),
        "c_rho": Vec("j", c_rho_column(layout)),
        "c_u": Vec("j", c_u_column(layout)),
        "sel": Vec("j", sel_column(layout)),
        "top": Vec("j", top_column(layout)),
        "W": WeightGrid(ints, w_blind_cols, mp, shape.positions()),
        "Limb": Grid(limb_grid),
        "H": Grid(h),
        "Mu": Grid(flat_grid(mu_flat, mp)),
        "T": Grid(flat_grid(t_alpha_values(alpha, ts, lam), mp)),
    }
    g2 = gamma * gamma % R
    two_k = 1 << k
    terms = [
        Term(statement.multiplier, ("eq_tau", "W", "x")),
        Term(1 << (k - 1), ("eq_tau", "delta0")),
        Term(-two_k, ("eq_tau", "y", "delta0")),
        Term(-1, ("eq_tau", "c_rho", "Limb")),
        Term(-two_k, ("eq_tau", "sigma", "c_u", "Limb")),
        Term(gamma, ("sel", "H")),
        Term(-gamma, ("Mu", "T")),
        Term(g2 * alpha, ("e_i", "e2", "H")),
        Term(-g2, ("e_i", "e2", "H", "Limb")),
        Term(-g2 * lam, ("e_i", "e2", "top", "H")),
        Term(-g2, ("e_i", "e2")),
    ]
    prover = SumcheckProver(shape.mu_i, shape.mu_j, tables, terms)
    mask_term = WeightMaskAddend(
        SumcheckProver(
            shape.mu_i,
            shape.mu_j,
            {
                "eq_tau": Vec("i", eq_table(tau)),
                "R": PeriodicGrid(r_mask, mp, shape.n_pad),
                "x": Vec("j", x_col),
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
    if hooks.open_masks is not None:
        masks = hooks.open_masks(masks, point)
    s_g = masks.libra.evaluate(point)
    if hooks.trace is not None:
        challenges = InferenceChallenges(alpha, lam, tau, tau2, gamma, rho_l)
        final_claim = lagrange_eval_0123(rounds[-1], point[0])
        hooks.trace(InferenceTrace(challenges, point, evals, final_claim, s_g))

    # The batched opening (W′'s slot gains u_ℓ(1 − u_ℓ)·R_chunk).
    opened: list[tuple[Flat, int]] = [
        (weight_flat(shape, weights, biases), shape.k_w),
        (limb_flat, layout.k_l),
        (grid_flat(h), layout.k_l),
        (mu_flat, 1),
    ]
    opening, tail = open_batched(
        setup,
        shape,
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
    return proof.to_bytes()


def _zeros_grid(rows: int, cols: int) -> ObjArray:
    out = np.empty((rows, cols), dtype=object)
    out.fill(0)
    return out


class WeightMaskAddend:
    """
    The round addend (:class:`~sumkzg.sumcheck.RoundAddend`) of the weight-mask term
    ``M·eq(τ, i)·X_ℓ(1 − X_ℓ)·R̃(X_1..X_{d−1})·x′(j)`` (docs/proof-system-zk.md Z4), from the
    sumcheck ``inner`` of ``Σ M·eq(τ, i)·R(i, j)·x′(j)`` (``R`` a
    :class:`~sumkzg.sumcheck.PeriodicGrid`): in round 1 (which binds ``X_ℓ``, the top column
    variable) its polynomial is ``X(1 − X)`` times ``inner``'s round polynomial, in every later
    round ``u_ℓ(1 − u_ℓ)`` times it. The term vanishes on the hypercube, so the claimed sum is
    unchanged; after the last round its value is ``M·eq(τ, u_i)·u_ℓ(1−u_ℓ)·R̃(u)·x̃′(u_j)``, the
    difference between ``F`` with ``Ŵ(u)`` and ``F`` with ``W̃′(u)``.
    """

    def __init__(self, inner: SumcheckProver) -> None:
        self.inner = inner
        self.scale: int | None = None
        """``u_ℓ(1 − u_ℓ)`` once round 1 is bound."""

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


def final_sumcheck_value(
    statement: InferenceStatement,
    challenges: InferenceChallenges,
    point: Sequence[int],
    evals: Sequence[int],
) -> int:
    """
    ``F(u)`` from the evaluations ``(Ŵ, Limb, H, Mu)(u)`` (the first four of the proof's) and the
    public columns at ``u`` (docs/proof-system.md §7, docs/proof-system-zk.md Z3): the verifier
    requires ``claim = F(u) + ρ_L·s_G``.
    """
    layout = statement.layout
    ch = challenges
    pub = inference_public_evals(
        layout,
        statement.x_values,
        statement.y_values,
        statement.activation,
        ch.alpha,
        ch.tau,
        ch.tau2,
        point,
        lam=ch.lam,
    )
    w_u, limb_u, h_u, mu_u = evals[:4]
    k = layout.k
    a = (
        statement.multiplier * w_u * pub.x
        + pub.delta0 * ((1 << (k - 1)) - (1 << k) * pub.y)
        - (pub.c_rho + (1 << k) * pub.sigma * pub.c_u) * limb_u
    )
    b1 = pub.sel * h_u - mu_u * pub.t_alpha
    b2 = h_u * (ch.alpha - limb_u - ch.lam * pub.top) - 1
    return (pub.eq_tau * a + ch.gamma * b1 + ch.gamma * ch.gamma * pub.eq_tau2 * b2) % R


def verify_inference(
    setup: Setup,
    statement: InferenceStatement,
    proof_bytes: bytes,
    *,
    transcript: Transcript | None = None,
) -> None:
    """
    Check an inference proof against its statement.

    Parameters
    ----------
    setup :
        The setup (``D`` points).
    statement :
        The job: model, partition, ``H_W``, shape, requant parameters, ``x``, ``y``, ids.
    proof_bytes :
        The Z9 encoding.
    transcript :
        For tests (to record challenges): a fresh transcript of the inference domain.

    Returns
    -------
    None
        If the proof is valid.

    Raises
    ------
    EncodingError
        If the bytes are not a canonical proof of the statement's shape.
    ProofRejected
        If ``C_W`` does not hash to ``H_W``, a degenerate case of docs/proof-system-zk.md Z10
        occurs, or a check fails (:class:`OpeningRejected` for the opening).
    """
    _check_setup(setup)
    layout = statement.layout
    shape = layout.shape
    proof = InferenceProof.from_bytes(proof_bytes, layout)
    if weight_commitment_hash(proof.c_w) != statement.h_w:
        raise ProofRejected("the weight chunks do not hash to H_W")
    reject_masks_at_infinity(
        C_R=proof.c_r,
        C_Lib=proof.c_lib,
        C_Mk=proof.c_mk,
        C_A=proof.opening.c_a,
        C_Q=proof.opening.c_q,
    )
    tr = start_transcript(DOMAIN_INFERENCE, statement.to_bytes(setup.setup_id), transcript)
    alpha, lam = round1_challenges(
        tr, [*proof.c_limb, proof.c_mu, proof.c_r, proof.c_lib, proof.c_mk], 2, proof.libra_sum
    )
    tau, tau2, gamma, rho_l = round2_challenges(tr, proof.c_h, shape)
    if rho_l == 0:
        raise ProofRejected("degenerate: ρ_L = 0")
    challenges = InferenceChallenges(alpha, lam, tau, tau2, gamma, rho_l)

    # Round 1 binds u_ℓ: reject u_ℓ(1 − u_ℓ) = 0 as soon as it is drawn (Z10), then the rest.
    claim, (u_top,) = verify_rounds(proof.rounds[:1], rho_l * proof.libra_sum % R, tr)
    scale = u_top * (1 - u_top) % R
    if scale == 0:
        raise ProofRejected("degenerate: u_ℓ(1 − u_ℓ) = 0")
    claim, rest = verify_rounds(proof.rounds[1:], claim, tr)
    point = [*rest, u_top]
    s_g = proof.evals[-1]
    if (final_sumcheck_value(statement, challenges, point, proof.evals) + rho_l * s_g) % R != claim:
        raise ProofRejected("the final sumcheck claim does not match the evaluations")
    groups = [proof.c_w, proof.c_limb, proof.c_h, (proof.c_mu,)]
    verify_batched(
        setup,
        shape,
        groups,
        point,
        proof.evals,
        proof.opening,
        tr,
        c_lib=proof.c_lib,
        c_mk=proof.c_mk,
        s_g=s_g,
        w_mask_commitment=(proof.c_r, scale),
    )
