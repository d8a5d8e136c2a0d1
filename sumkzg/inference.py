"""
The inference proof: the committed layer maps the public ``x`` to the public ``y``
(docs/proof-system.md §5, §7).

Introduction
------------
The prover first computes ``z = W·x + b`` and ``y`` with the runtime's own requant
(:func:`protocol.requant.requant_array`) and refuses (:class:`~sumkzg.errors.WitnessError`) if
``y`` is not the statement's. Per row ``i < m'`` (``z_i = 0`` on padded rows) the witness is

    M·z_i + 2^{k−1} = 2^k·(y′_i + σ_i·u_i) + ρ_i,   0 <= ρ_i < 2^k,   u_i >= 0,

with ``ρ`` in ``Kρ`` byte limbs and ``u`` in ``Ku`` byte limbs (``Limb``), each looked up in the
table of docs/proof-system.md §3: the bytes, and for the top remainder limb the ``2^{k'}`` values
``λ + t`` (``λ`` drawn after the limbs are committed). The relation::

    A   = M·W′·x′(j) + δ0(j)·(2^{k−1} − 2^k·y′(i)) − (cρ(j) + 2^k·σ(i)·cu(j))·Limb
    B1  = sel(j)·H − Mu·Tα
    B2  = H·(α − Limb − λ·top(j)) − sel(j)
    F   = eq(τ, i)·A + γ·B1 + γ²·eq(τ″, (i,j))·B2,     Σ F = 0

:func:`build_inference_witness` and :func:`prove_inference_with_witness` are separate so that tests
can prove from a malicious witness; :func:`prove_inference` is the honest composition.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from protocol.exceptions import ProtocolError
from protocol.requant import Activation, requant_array

from .accel import int_gemv
from .batch import (
    Flat,
    open_batched,
    round1_challenges,
    round2_challenges,
    start_transcript,
    verify_batched,
)
from .errors import ProofRejected, WitnessError
from .field import R, eq_table, lagrange_eval_0123
from .layout import (
    BYTE_TABLE_SIZE,
    c_rho_column,
    c_u_column,
    delta0_column,
    inference_public_evals,
    sel_column,
    sigma_rows,
    t_alpha_values,
    top_column,
    x_column,
    y_rows,
)
from .proof import InferenceProof, weight_commitment_hash
from .registration import (
    WeightCommitment,
    _check_setup,
    blinding_rows,
    check_weights,
    commit_chunks,
    flat_grid,
    grid_flat,
    inverse_lookup,
    weight_flat,
)
from .setup import Setup
from .statement import InferenceStatement
from .sumcheck import (
    Grid,
    ObjArray,
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
    """The challenges drawn before the sumcheck: ``α``, ``λ`` (round 1), ``τ``, ``τ″``, ``γ``."""

    alpha: int
    lam: int
    tau: list[int]
    tau2: list[int]
    gamma: int


@dataclass(frozen=True)
class InferenceTrace:
    """What a prover run exposes besides the proof (for :attr:`ProverHooks.trace`)."""

    challenges: InferenceChallenges
    point: list[int]
    evals: list[int]
    final_claim: int
    """The verifier's claim after the last round, ``s_ℓ(u_ℓ)`` of the rounds as sent."""


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
        Per sumcheck round: see :data:`sumkzg.sumcheck.RoundMessage` (the claimed sum is 0).
    trace :
        Called once, before the opening, with the run's :class:`InferenceTrace`.
    """

    statement_bytes: Callable[[bytes], bytes] | None = None
    round_message: RoundMessage | None = None
    trace: Callable[[InferenceTrace], None] | None = None


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
) -> bytes:
    """
    Prove that the committed layer maps ``statement.x`` to ``statement.y``.

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

    Returns
    -------
    proof : `bytes`
        The §9 inference proof.

    Raises
    ------
    WitnessError
        If ``y`` is not what the runtime computes, or the inputs disagree with each other.
    """
    _check_setup(setup)
    w, b = _check_inputs(setup, commitment, weights, biases, statement)
    witness = build_inference_witness(w, b, statement)
    return prove_inference_with_witness(
        setup, commitment, w, b, statement, witness, transcript=transcript
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
) -> bytes:
    """
    Prove from a given witness without checking it (tests inject malicious witnesses here, and
    transcript/round attacks through ``hooks``, see :class:`ProverHooks`; the honest path is
    :func:`prove_inference`). ``H`` is derived from ``witness.limbs`` and ``α``.

    Raises
    ------
    WitnessError
        If ``α`` hits a looked-up value (no inverse).
    """
    _check_setup(setup)
    layout = statement.layout
    shape = layout.shape
    mp, k = shape.m_pad, layout.k
    hooks = hooks if hooks is not None else ProverHooks()
    statement_bytes = statement.to_bytes(setup.setup_id)
    if hooks.statement_bytes is not None:
        statement_bytes = hooks.statement_bytes(statement_bytes)
    tr = start_transcript(DOMAIN_INFERENCE, statement_bytes, transcript)

    # Round 1: limbs and multiplicities.
    limbs = np.asarray(witness.limbs, dtype=object)
    limb_flat = grid_flat(limbs)
    c_limb = commit_chunks(setup, limb_flat, layout.k_l)
    mu_flat = obj_array(list(witness.multiplicities))
    c_mu = commit_chunks(setup, mu_flat, 1)[0]
    alpha, lam = round1_challenges(tr, [*c_limb, c_mu], 2)

    # Round 2: the inverses H = 1/(α − Limb − λ·top).
    lookups = limbs.copy()
    lookups[:, layout.k_rho - 1] = (lookups[:, layout.k_rho - 1] + lam) % R
    h_inv = inverse_lookup(lookups, alpha)
    h = h_inv.values
    c_h = h_inv.commit(setup, layout.k_l)
    tau, tau2, gamma = round2_challenges(tr, c_h, shape)

    # The sumcheck. W′: the integer block [W | b] at the layout columns pos(0..n), chunk κ's
    # blinding column at cpc·κ + g.
    ints = np.concatenate([weights, biases.reshape(-1, 1)], axis=1)
    blind = blinding_rows(shape, commitment.blinding)
    blind_cols = {int(c): blind[kappa] for kappa, c in enumerate(shape.blinding_columns())}
    tables: dict[str, Table] = {
        "eq_tau": Vec("i", eq_table(tau)),
        "e_i": Vec("i", eq_table(tau2[: shape.mu_i])),
        "e_j": Vec("j", eq_table(tau2[shape.mu_i :])),
        "y": Vec("i", y_rows(statement.y_values)),
        "sigma": Vec("i", sigma_rows(shape, statement.y_values, statement.activation)),
        "x": Vec("j", x_column(shape, statement.x_values)),
        "delta0": Vec("j", delta0_column()),
        "c_rho": Vec("j", c_rho_column(layout)),
        "c_u": Vec("j", c_u_column(layout)),
        "sel": Vec("j", sel_column(layout)),
        "top": Vec("j", top_column(layout)),
        "W": WeightGrid(ints, blind_cols, mp, shape.positions()),
        "Limb": Grid(limbs),
        "H": Grid(h),
        "Mu": Grid(flat_grid(mu_flat, mp)),
        "T": Grid(flat_grid(t_alpha_values(alpha, layout.table_size, lam), mp)),
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
        Term(g2 * alpha, ("e_i", "e_j", "H")),
        Term(-g2, ("e_i", "e_j", "H", "Limb")),
        Term(-g2 * lam, ("e_i", "e_j", "top", "H")),
        Term(-g2, ("e_i", "e_j", "sel")),
    ]
    prover = SumcheckProver(shape.mu_i, shape.mu_j, tables, terms)
    rounds = prove_rounds(prover, tr, message=hooks.round_message)
    point = prover.point()
    evals = [prover.final_value(name) for name in OPENED]
    if hooks.trace is not None:
        challenges = InferenceChallenges(alpha, lam, tau, tau2, gamma)
        final_claim = lagrange_eval_0123(rounds[-1], point[0])
        hooks.trace(InferenceTrace(challenges, point, evals, final_claim))

    # The batched opening.
    opened: list[tuple[Flat, int]] = [
        (weight_flat(shape, weights, biases), shape.k_w),
        (limb_flat, layout.k_l),
        (grid_flat(h), layout.k_l),
        (mu_flat, 1),
    ]
    opening = open_batched(setup, shape, opened, blind, point, evals, tr)

    proof = InferenceProof(
        c_w=tuple(commitment.chunk_points()),
        c_limb=tuple(c_limb),
        c_mu=c_mu,
        c_h=tuple(c_h),
        rounds=tuple((a, b_, c, d) for a, b_, c, d in rounds),
        evals=tuple(evals),
        opening=opening,
    )
    return proof.to_bytes()


def final_sumcheck_value(
    statement: InferenceStatement,
    challenges: InferenceChallenges,
    point: Sequence[int],
    evals: Sequence[int],
) -> int:
    """
    ``F(u)`` from the opened evaluations ``(W, Limb, H, Mu)(u)`` and the public columns at ``u``:
    what the verifier compares with the sumcheck's final claim (docs/proof-system.md §7).
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
    w_u, limb_u, h_u, mu_u = evals
    k = layout.k
    a = (
        statement.multiplier * w_u * pub.x
        + pub.delta0 * ((1 << (k - 1)) - (1 << k) * pub.y)
        - (pub.c_rho + (1 << k) * pub.sigma * pub.c_u) * limb_u
    )
    b1 = pub.sel * h_u - mu_u * pub.t_alpha
    b2 = h_u * (ch.alpha - limb_u - ch.lam * pub.top) - pub.sel
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
        The §9 encoding.
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
        If ``C_W`` does not hash to ``H_W`` or a check fails (:class:`OpeningRejected` for the
        opening).
    """
    _check_setup(setup)
    layout = statement.layout
    shape = layout.shape
    proof = InferenceProof.from_bytes(proof_bytes, layout)
    if weight_commitment_hash(proof.c_w) != statement.h_w:
        raise ProofRejected("the weight chunks do not hash to H_W")
    tr = start_transcript(DOMAIN_INFERENCE, statement.to_bytes(setup.setup_id), transcript)
    alpha, lam = round1_challenges(tr, [*proof.c_limb, proof.c_mu], 2)
    tau, tau2, gamma = round2_challenges(tr, proof.c_h, shape)
    challenges = InferenceChallenges(alpha, lam, tau, tau2, gamma)

    claim, point = verify_rounds(proof.rounds, 0, tr)
    if final_sumcheck_value(statement, challenges, point, proof.evals) != claim:
        raise ProofRejected("the final sumcheck claim does not match the evaluations")
    groups = [proof.c_w, proof.c_limb, proof.c_h, (proof.c_mu,)]
    verify_batched(setup, shape, groups, point, proof.evals, proof.opening, tr)
