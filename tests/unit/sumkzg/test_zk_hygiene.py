"""
Zero-knowledge hygiene of SumKZG-ML v2 (docs/proof-system-zk.md; proof-design.md §8.7).

(a) two proofs of one statement share no mask value and no revealed scalar or mask-dependent
    point; (b) every mask is non-zero and no mask commitment is the point at infinity; (c) the
    proof bytes contain no raw witness encoding (``z_i``, ``q_i``, ``ρ_i``, ``u_i``, the limbs, the
    true ``W̃′(u)``); (d) two models ``W_A ≠ W_B`` with the same ``(x, y)``: the revealed scalars do
    not tell them apart (a two-sample chi-square test, slow) and knowing ``W_A`` does not let one
    recompute any revealed commitment or evaluation of a proof made with it (the "candidate test");
    (e) the verifiers reject each degenerate case of Z10 by that check (patched commitments, a
    patched transcript challenge for ``ρ_L``, ``u_ℓ``, ``β``); (f) a prover that changes its masks
    after seeing ``u`` is rejected, and one that reuses masks across proofs is caught by (a)'s
    check (:func:`shared_revealed` is non-empty, see
    :func:`test_f_mask_reuse_is_detected_by_the_freshness_check`).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pytest

from protocol.requant import Activation, qlinear
from sumkzg.batch import ZkMasks, ZkOpeningProof
from sumkzg.curve import encode_g1, g1_mul
from sumkzg.errors import OpeningRejected, ProofRejected, WitnessError
from sumkzg.field import R, inv, mle_eval, scalar_to_bytes
from sumkzg.inference import (
    InferenceTrace,
    InferenceWitness,
    ProverHooks,
    build_inference_witness,
    prove_inference,
    prove_inference_with_witness,
    runtime_output,
    verify_inference,
)
from sumkzg.layout import Layout, eq_at
from sumkzg.libra import OMEGA, LibraMasks
from sumkzg.proof import InferenceProof, RegistrationProof
from sumkzg.registration import (
    WeightCommitment,
    build_registration_witness,
    commit_chunks,
    commit_weights,
    grid_flat,
    inverse_lookup,
    prove_registration,
    prove_registration_with_witness,
    verify_registration,
)
from sumkzg.setup import D, Setup, load_setup
from sumkzg.statement import InferenceStatement, RegistrationStatement
from sumkzg.transcript import DOMAIN_INFERENCE, DOMAIN_REGISTRATION, Transcript

VERIFIER = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
MODEL_ID = bytes.fromhex("22" * 32)
M_ROWS, N_COLS, SHIFT, MULTIPLIER = 4, 6, 12, 2900
ZERO_COLUMN = 2
"""``x`` is 0 in this column, so the two models of (d) differ there and agree on ``y``."""


@pytest.fixture(scope="module")
def setup() -> Setup:
    return load_setup()


@dataclass(frozen=True)
class Model:
    weights: npt.NDArray[np.int8]
    biases: npt.NDArray[np.int32]
    commitment: WeightCommitment


@lru_cache(maxsize=4)
def models() -> tuple[Model, Model, npt.NDArray[np.int8]]:
    """``(A, B, x)``: ``W_A ≠ W_B`` only in column :data:`ZERO_COLUMN`, where ``x`` is 0."""
    rng = np.random.default_rng(2024)
    w_a = rng.integers(-128, 128, (M_ROWS, N_COLS)).astype(np.int8)
    w_b = w_a.copy()
    w_b[:, ZERO_COLUMN] = rng.integers(-128, 128, M_ROWS).astype(np.int8)
    w_b[0, ZERO_COLUMN] = w_a[0, ZERO_COLUMN] ^ 0x55  # certainly different
    biases = rng.integers(-5000, 5000, M_ROWS).astype(np.int32)
    x = rng.integers(-128, 128, N_COLS).astype(np.int8)
    x[ZERO_COLUMN] = 0
    setup = load_setup()
    a = Model(w_a, biases, commit_weights(setup, w_a, biases, rng=random.Random(1)))
    b = Model(w_b, biases, commit_weights(setup, w_b, biases, rng=random.Random(2)))
    return a, b, x


def statement_of(model: Model, x: npt.NDArray[np.int8]) -> InferenceStatement:
    y = qlinear(model.weights, model.biases, x, MULTIPLIER, SHIFT, Activation.RELU)
    return InferenceStatement.from_values(
        chain_id=31337,
        verifier=VERIFIER,
        model_id=MODEL_ID,
        partition_index=0,
        h_w=model.commitment.h_w,
        multiplier=MULTIPLIER,
        shift=SHIFT,
        activation=int(Activation.RELU),
        x=x,
        y=y,
        job_id=9,
    )


@dataclass(frozen=True)
class Run:
    """One inference proof with everything its prover drew and exposed."""

    proof: bytes
    statement: InferenceStatement
    masks: ZkMasks
    blinds: list[int]
    """The blinding entries of ``Limb``, ``H``, ``Mu`` (two each) and ``R``."""
    trace: InferenceTrace
    witness: InferenceWitness

    def mask_values(self) -> list[int]:
        libra = self.masks.libra
        sum_blind = list(libra.sum_blind) if libra.sum_blind is not None else []
        coeffs = [c for row in libra.coeffs for c in row]
        return [*coeffs, *libra.lib_blind, *sum_blind, *self.masks.gemini, *self.blinds]


def prove_recorded(
    setup: Setup,
    model: Model,
    x: npt.NDArray[np.int8],
    *,
    rng: random.Random | None = None,
    hooks: ProverHooks | None = None,
) -> Run:
    """Prove (honestly unless ``hooks`` say otherwise) and record the masks and the trace."""
    statement = statement_of(model, x)
    w = model.weights.astype(np.int64)
    b = model.biases.astype(np.int64)
    witness = build_inference_witness(w, b, statement)
    seen: list[tuple[ZkMasks, list[int]]] = []
    traces: list[InferenceTrace] = []
    base = hooks if hooks is not None else ProverHooks()

    def record(
        masks: ZkMasks, limb: list[int], h: list[int], mu: list[int], r: list[int]
    ) -> tuple[ZkMasks, list[int], list[int], list[int], list[int]]:
        if base.masks is not None:
            masks, limb, h, mu, r = base.masks(masks, limb, h, mu, r)
        seen.append((masks, [*limb, *h, *mu, *r]))
        return masks, limb, h, mu, r

    recording = ProverHooks(masks=record, trace=traces.append, open_masks=base.open_masks)
    proof = prove_inference_with_witness(
        setup, model.commitment, w, b, statement, witness, hooks=recording, rng=rng
    )
    ((masks, blinds),) = seen
    (trace,) = traces
    return Run(proof, statement, masks, blinds, trace, witness)


def revealed_scalars(proof: InferenceProof | RegistrationProof) -> list[int]:
    """Every scalar a proof reveals: ``Γ``, the rounds, the evaluations, the opening's scalars."""
    opening = proof.opening.opening
    return [
        proof.libra_sum,
        *(v for r in proof.rounds for v in r),
        *proof.evals,
        *(v for row in opening.evals for v in row),
        *opening.libra_evals,
    ]


def revealed_points(proof: InferenceProof) -> list[bytes]:
    """Every point of a proof except ``C_W`` (the weight commitment, the same for every proof)."""
    opening = proof.opening
    points = [
        *proof.c_limb,
        proof.c_mu,
        proof.c_r,
        proof.c_lib,
        proof.c_mk,
        *proof.c_h,
        opening.c_a,
        opening.c_q,
        *opening.opening.folds,
        *opening.opening.witnesses,
    ]
    return [encode_g1(p) for p in points]


def shared_revealed(first: Run, second: Run) -> set[int | bytes]:
    """
    What two proofs of one statement have in common that they should not: a mask value, a
    revealed scalar, a mask-dependent point. Empty for fresh masks; a prover that reuses masks
    across proofs makes it non-empty.
    """
    layout = first.statement.layout
    p1 = InferenceProof.from_bytes(first.proof, layout)
    p2 = InferenceProof.from_bytes(second.proof, layout)
    shared: set[int | bytes] = set()
    shared |= set(first.mask_values()) & set(second.mask_values())
    shared |= set(revealed_scalars(p1)) & set(revealed_scalars(p2))
    shared |= set(revealed_points(p1)) & set(revealed_points(p2))
    return shared


# --------------------------------------------------------------------------------------------------
# (a) freshness, (b) non-zero masks


def test_a_two_proofs_of_one_statement_share_nothing(setup: Setup) -> None:
    a, _, x = models()
    first = prove_recorded(setup, a, x)
    second = prove_recorded(setup, a, x)
    assert first.statement == second.statement
    for run in (first, second):
        verify_inference(setup, run.statement, run.proof)
    assert shared_revealed(first, second) == set()
    # Within one proof, too, no mask value is used twice.
    values = first.mask_values()
    assert len(set(values)) == len(values)


def test_a_two_registration_proofs_share_no_revealed_scalar(setup: Setup) -> None:
    a, _, _ = models()
    statement = RegistrationStatement(
        chain_id=31337, verifier=VERIFIER, h_w=a.commitment.h_w, m=M_ROWS, n=N_COLS
    )
    proofs = [
        prove_registration(setup, a.commitment, a.weights, a.biases, statement) for _ in range(2)
    ]
    decoded = [RegistrationProof.from_bytes(p, statement.layout) for p in proofs]
    for proof in proofs:
        verify_registration(setup, statement, proof)
    assert set(revealed_scalars(decoded[0])) & set(revealed_scalars(decoded[1])) == set()
    mask_points = [
        {encode_g1(p) for p in (*d.c_bl, d.c_mu, d.c_lib, d.c_mk, *d.c_hw, *d.c_hb)}
        for d in decoded
    ]
    assert mask_points[0] & mask_points[1] == set()


def test_b_every_mask_nonzero_and_no_mask_commitment_at_infinity(setup: Setup) -> None:
    a, _, x = models()
    run = prove_recorded(setup, a, x)
    assert all(0 < v < R for v in run.mask_values())
    assert len(run.blinds) == 6 + D // 2
    proof = InferenceProof.from_bytes(run.proof, run.statement.layout)
    infinity = bytes(128)
    for point in (proof.c_r, proof.c_lib, proof.c_mk, proof.opening.c_a, proof.opening.c_q):
        assert encode_g1(point) != infinity
    assert infinity not in revealed_points(proof)


def test_b_registration_blinding_entries_nonzero(setup: Setup) -> None:
    a, _, _ = models()
    statement = RegistrationStatement(
        chain_id=31337, verifier=VERIFIER, h_w=a.commitment.h_w, m=M_ROWS, n=N_COLS
    )
    seen: list[tuple[ZkMasks, list[int]]] = []

    def record(masks: ZkMasks, blinds: list[int]) -> tuple[ZkMasks, list[int]]:
        seen.append((masks, blinds))
        return masks, blinds

    w, b = a.weights.astype(np.int64), a.biases.astype(np.int64)
    witness = build_registration_witness(statement.layout, w, b)
    proof = prove_registration_with_witness(
        setup, a.commitment, w, b, statement, witness, masks_hook=record
    )
    verify_registration(setup, statement, proof)
    ((masks, blinds),) = seen
    layout = statement.layout
    assert len(blinds) == 4 * layout.k_b + 2 * layout.k_hw + 2 and all(0 < v < R for v in blinds)
    assert all(0 < v < R for v in masks.gemini)
    decoded = RegistrationProof.from_bytes(proof, statement.layout)
    for point in (decoded.c_lib, decoded.c_mk, decoded.opening.c_a, decoded.opening.c_q):
        assert encode_g1(point) != bytes(128)


# --------------------------------------------------------------------------------------------------
# (c) no raw witness in the bytes


def true_weight_mle(model: Model, point: list[int], *, blinded: bool = True) -> int:
    """``W̃′(u)`` of the true ``W′`` (data at ``pos(c)``, the commitment's blinding columns)."""
    shape = Layout.of(M_ROWS, N_COLS)
    values = [0] * shape.domain_size
    for c, pos in enumerate(shape.positions()):
        for i in range(M_ROWS):
            v = int(model.biases[i]) if c == N_COLS else int(model.weights[i, c])
            values[shape.flat(i, int(pos))] = v % R
    if blinded:
        for kappa, col in enumerate(shape.blinding_columns()):
            for i in range(shape.m_pad):
                values[shape.flat(i, int(col))] = model.commitment.blinding[kappa * shape.m_pad + i]
    return mle_eval(values, point)


def witness_values(run: Run, model: Model) -> Iterator[int]:
    """``z_i``, ``q_i``, ``ρ_i``, ``u_i``, every limb and multiplicity, the true ``W̃′(u)``."""
    statement = run.statement
    z, _ = runtime_output(model.weights.astype(np.int64), model.biases.astype(np.int64), statement)
    for z_i in z:
        t = int(z_i) * statement.multiplier + (1 << (statement.shift - 1))
        yield int(z_i)
        yield t >> statement.shift
    yield from run.witness.remainders
    yield from run.witness.slacks
    yield from (int(v) for v in np.asarray(run.witness.limbs).reshape(-1))
    yield from run.witness.multiplicities
    yield true_weight_mle(model, run.trace.point)
    yield true_weight_mle(model, run.trace.point, blinded=False)


def test_c_proof_bytes_hold_no_raw_witness(setup: Setup) -> None:
    a, _, x = models()
    run = prove_recorded(setup, a, x)
    values = set(witness_values(run, a))
    assert len(values) > 3 * M_ROWS
    for value in values:
        assert scalar_to_bytes(value % R) not in run.proof, value
    # The evaluation sent for W′ is Ŵ(u), not W̃′(u).
    assert run.trace.evals[0] != true_weight_mle(a, run.trace.point)


# --------------------------------------------------------------------------------------------------
# (d) two models with the same (x, y)


def test_d_two_models_have_the_same_statement_but_h_w() -> None:
    a, b, x = models()
    assert not np.array_equal(a.weights, b.weights)
    sa, sb = statement_of(a, x), statement_of(b, x)
    assert sa.y == sb.y and sa.x == sb.x and sa.h_w != sb.h_w


def low_nibbles(runs: list[Run]) -> list[int]:
    counts = [0] * 16
    for run in runs:
        proof = InferenceProof.from_bytes(run.proof, run.statement.layout)
        for v in revealed_scalars(proof):
            counts[v & 0xF] += 1
    return counts


CHI2_15_P001 = 37.697
"""The chi-square critical value for 15 degrees of freedom at ``p = 0.001``."""


def chi_square_two_sample(a: list[int], b: list[int]) -> float:
    n_a, n_b = sum(a), sum(b)
    stat = 0.0
    for x, y in zip(a, b, strict=True):
        if x + y:
            stat += (x * (n_b / n_a) ** 0.5 - y * (n_a / n_b) ** 0.5) ** 2 / (x + y)
    return stat


def chi_square_uniform(counts: list[int]) -> float:
    expected = sum(counts) / len(counts)
    return sum((c - expected) ** 2 / expected for c in counts)


@pytest.mark.slow
def test_d_revealed_scalars_do_not_tell_the_models_apart(setup: Setup) -> None:
    """
    20 proofs with each model (masks from a fixed TESTS ONLY source, so the test is
    deterministic): the low nibbles of every revealed scalar are uniform for each model and the
    two samples are indistinguishable (two-sample chi-square, 15 degrees of freedom, p = 0.001).
    """
    a, b, x = models()
    runs_a = [prove_recorded(setup, a, x, rng=random.Random(1000 + s)) for s in range(20)]
    runs_b = [prove_recorded(setup, b, x, rng=random.Random(2000 + s)) for s in range(20)]
    hist_a, hist_b = low_nibbles(runs_a), low_nibbles(runs_b)
    assert chi_square_uniform(hist_a) < CHI2_15_P001
    assert chi_square_uniform(hist_b) < CHI2_15_P001
    assert chi_square_two_sample(hist_a, hist_b) < CHI2_15_P001


def test_d_knowing_w_a_does_not_recompute_anything_revealed(setup: Setup) -> None:
    """
    The candidate test: an adversary who holds ``W_A`` (and even the commitment's blinding) and the
    per-proof witness it implies (the same for ``A`` and ``B``: it depends on ``x, y, z`` only)
    recomputes each per-proof commitment without blinding, and solves for a single blinding entry
    the way the v1 leak allowed (``C − (v − ṽ₀)/eq(u, f)·G[f]``): nothing matches; nor does
    ``W̃′_A(u)`` match the revealed ``Ŵ(u)``.
    """
    a, b, x = models()
    run = prove_recorded(setup, a, x)
    layout = run.statement.layout
    shape = layout.shape
    proof = InferenceProof.from_bytes(run.proof, layout)
    point = run.trace.point
    ch = run.trace.challenges

    limbs = np.asarray(run.witness.limbs, dtype=object)
    bare = np.zeros((shape.m_pad, layout.width), dtype=object)
    bare[:, layout.positions()] = limbs
    limb_flat = grid_flat(bare)
    plain_limb = commit_chunks(setup, limb_flat, layout.k_l)
    assert plain_limb != list(proof.c_limb)
    mu_plain = commit_chunks(setup, np.asarray(run.witness.multiplicities, dtype=object), 1)[0]
    assert mu_plain != proof.c_mu
    lookups = limbs.copy()
    lookups[:, layout.k_rho - 1] = (lookups[:, layout.k_rho - 1] + ch.lam) % R
    h_bare = np.zeros((shape.m_pad, layout.width), dtype=object)
    h_bare[:, layout.positions()] = inverse_lookup(lookups, ch.alpha).values
    h_plain = commit_chunks(setup, grid_flat(h_bare), layout.k_l)
    assert h_plain != list(proof.c_h)

    # The v1 leak, one blinding entry at a time: solve the revealed evaluation for the entry at f.
    padded = [0] * shape.domain_size
    padded[: len(limb_flat)] = [int(v) for v in limb_flat]
    v0 = mle_eval(padded, point)
    for f in (shape.flat(row, col) for row, col in layout.blinding_cells()):
        guess = (proof.evals[1] - v0) * inv(eq_at(point, f)) % R
        chunk = f // D
        recomputed = plain_limb[chunk] + g1_mul(setup.g1[f % D], guess)
        assert recomputed != proof.c_limb[chunk]

    revealed_w = proof.evals[0]
    for model in (a, b):
        assert revealed_w != true_weight_mle(model, point)
        assert revealed_w != true_weight_mle(model, point, blinded=False)


# --------------------------------------------------------------------------------------------------
# (e) the degenerate cases of Z10


class PatchedTranscript(Transcript):
    """TESTS ONLY: a transcript whose ``index``-th challenge is replaced by ``value``."""

    def __init__(self, domain: bytes, index: int, value: int) -> None:
        super().__init__(domain)
        self.index, self.value, self.count = index, value, 0

    def challenge(self) -> int:
        real = super().challenge()
        self.count += 1
        return self.value if self.count - 1 == self.index else real


def challenge_index(shape: Layout, name: str, *, inference: bool) -> int:
    """The draw index of ``ρ_L``, ``u_ℓ`` (the first sumcheck challenge) or ``β``."""
    rho = (2 if inference else 1) + shape.mu_i + shape.ell + 1
    return {"rho_l": rho, "u_top": rho + 1, "beta": rho + shape.ell + 3}[name]


@pytest.fixture(scope="module")
def honest_inference() -> tuple[InferenceStatement, bytes]:
    a, _, x = models()
    statement = statement_of(a, x)
    return statement, prove_inference(load_setup(), a.commitment, a.weights, a.biases, statement)


@pytest.fixture(scope="module")
def honest_registration() -> tuple[RegistrationStatement, bytes]:
    a, _, _ = models()
    statement = RegistrationStatement(
        chain_id=31337, verifier=VERIFIER, h_w=a.commitment.h_w, m=M_ROWS, n=N_COLS
    )
    proof = prove_registration(load_setup(), a.commitment, a.weights, a.biases, statement)
    return statement, proof


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("rho_l", 0, "ρ_L = 0"),
        ("u_top", 0, "u_ℓ"),
        ("u_top", 1, "u_ℓ"),
        ("beta", OMEGA, "β\\^N = 1"),
        ("beta", 1, "β\\^N = 1"),
        ("beta", 0, "β = 0"),
    ],
)
def test_e_degenerate_challenge_rejected_by_its_check(
    setup: Setup,
    honest_inference: tuple[InferenceStatement, bytes],
    name: str,
    value: int,
    reason: str,
) -> None:
    statement, proof = honest_inference
    shape = statement.layout.shape
    index = challenge_index(shape, name, inference=True)
    # The patched transcript at the same index with the real value accepts (nothing else changes).
    replay = Transcript(DOMAIN_INFERENCE)
    verify_inference(setup, statement, proof, transcript=replay)
    with pytest.raises(ProofRejected, match=reason):
        verify_inference(
            setup, statement, proof, transcript=PatchedTranscript(DOMAIN_INFERENCE, index, value)
        )


@pytest.mark.parametrize(
    ("name", "value", "reason"), [("rho_l", 0, "ρ_L = 0"), ("beta", OMEGA, "β")]
)
def test_e_registration_degenerate_challenge_rejected(
    setup: Setup,
    honest_registration: tuple[RegistrationStatement, bytes],
    name: str,
    value: int,
    reason: str,
) -> None:
    statement, proof = honest_registration
    index = challenge_index(statement.layout, name, inference=False)
    with pytest.raises(ProofRejected, match=reason):
        verify_registration(
            setup,
            statement,
            proof,
            transcript=PatchedTranscript(DOMAIN_REGISTRATION, index, value),
        )


def inference_point_offsets(statement: InferenceStatement, proof: bytes) -> dict[str, int]:
    layout = statement.layout
    base = 128 * (layout.shape.k_w + layout.k_l + 1)
    tail = len(proof) - ZkOpeningProof.BYTE_LEN
    return {"C_R": base, "C_Lib": base + 128, "C_Mk": base + 256, "C_A": tail, "C_Q": tail + 128}


@pytest.mark.parametrize("name", ["C_R", "C_Lib", "C_Mk", "C_A", "C_Q"])
def test_e_mask_commitment_at_infinity_rejected(
    setup: Setup, honest_inference: tuple[InferenceStatement, bytes], name: str
) -> None:
    statement, proof = honest_inference
    offset = inference_point_offsets(statement, proof)[name]
    patched = proof[:offset] + bytes(128) + proof[offset + 128 :]
    with pytest.raises(ProofRejected, match=f"degenerate: {name} is the point at infinity"):
        verify_inference(setup, statement, patched)


@pytest.mark.parametrize("name", ["C_Lib", "C_Mk", "C_A", "C_Q"])
def test_e_registration_mask_commitment_at_infinity_rejected(
    setup: Setup, honest_registration: tuple[RegistrationStatement, bytes], name: str
) -> None:
    statement, proof = honest_registration
    layout = statement.layout
    base = 128 * (layout.k_w + layout.k_b + 1)
    tail = len(proof) - ZkOpeningProof.BYTE_LEN
    offset = {"C_Lib": base, "C_Mk": base + 128, "C_A": tail, "C_Q": tail + 128}[name]
    patched = proof[:offset] + bytes(128) + proof[offset + 128 :]
    with pytest.raises(ProofRejected, match=f"degenerate: {name} is the point at infinity"):
        verify_registration(setup, statement, patched)


def test_e_prover_refuses_a_zero_mask(setup: Setup) -> None:
    """A zero ``R`` or ``Mk`` commits to infinity: the prover refuses (an honest one redraws)."""
    a, _, x = models()

    def zero_r(
        masks: ZkMasks, limb: list[int], h: list[int], mu: list[int], r: list[int]
    ) -> tuple[ZkMasks, list[int], list[int], list[int], list[int]]:
        return masks, limb, h, mu, [0] * len(r)

    def zero_mk(
        masks: ZkMasks, limb: list[int], h: list[int], mu: list[int], r: list[int]
    ) -> tuple[ZkMasks, list[int], list[int], list[int], list[int]]:
        return ZkMasks(masks.libra, [0] * D), limb, h, mu, r

    for hook in (zero_r, zero_mk):
        with pytest.raises(WitnessError, match="infinity"):
            prove_recorded(setup, a, x, hooks=ProverHooks(masks=hook))


# --------------------------------------------------------------------------------------------------
# (f) masks changed after u, masks reused


def test_f_gemini_mask_drawn_after_u_rejected(setup: Setup) -> None:
    a, _, x = models()

    def swap(masks: ZkMasks, _point: list[int]) -> ZkMasks:
        return ZkMasks(masks.libra, [(v + 1) % R or 1 for v in masks.gemini])

    run = prove_recorded(setup, a, x, hooks=ProverHooks(open_masks=swap))
    with pytest.raises(OpeningRejected):
        verify_inference(setup, run.statement, run.proof)


def test_f_libra_mask_drawn_after_u_rejected(setup: Setup) -> None:
    a, _, x = models()

    def swap(masks: ZkMasks, _point: list[int]) -> ZkMasks:
        return ZkMasks(LibraMasks.draw(masks.libra.ell), masks.gemini)

    run = prove_recorded(setup, a, x, hooks=ProverHooks(open_masks=swap))
    with pytest.raises(ProofRejected):
        verify_inference(setup, run.statement, run.proof)


def test_f_mask_reuse_is_detected_by_the_freshness_check(setup: Setup) -> None:
    """
    A prover that reuses its masks across two proofs makes valid proofs, but (a)'s check
    (:func:`shared_revealed`) flags them: the mask values, ``C_R``, ``C_Lib``, ``C_Mk`` and ``Γ``
    coincide.
    """
    a, _, x = models()
    first = prove_recorded(setup, a, x)

    def reuse(
        _masks: ZkMasks, _l: list[int], _h: list[int], _mu: list[int], _r: list[int]
    ) -> tuple[ZkMasks, list[int], list[int], list[int], list[int]]:
        blinds, k = first.blinds, 2 * first.statement.layout.k_l
        return (
            first.masks,
            blinds[:k],
            blinds[k : 2 * k],
            blinds[2 * k : 2 * k + 2],
            blinds[2 * k + 2 :],
        )

    second = prove_recorded(setup, a, x, hooks=ProverHooks(masks=reuse))
    verify_inference(setup, second.statement, second.proof)
    shared = shared_revealed(first, second)
    proof = InferenceProof.from_bytes(first.proof, first.statement.layout)
    assert proof.libra_sum in shared
    assert encode_g1(proof.c_r) in shared and encode_g1(proof.c_lib) in shared


# --------------------------------------------------------------------------------------------------
# Z2: the blinding entries sit exactly at the listed positions


def test_z2_inference_blinding_positions(setup: Setup) -> None:
    """
    ``Limb``, ``H`` at rows 0, 1 of the free column ``cpc·κ + g`` of every chunk (the limbs at
    ``posL(t) = t + ⌊t/g⌋``); ``Mu`` at ``TS, TS+1``; ``C_R = commit(R‖R)``.
    """
    a, _, x = models()
    run = prove_recorded(setup, a, x)
    layout = run.statement.layout
    shape = layout.shape
    proof = InferenceProof.from_bytes(run.proof, layout)
    ch = run.trace.challenges
    k = 2 * layout.k_l
    limb_b, h_b = run.blinds[:k], run.blinds[k : 2 * k]
    mu_b, r = run.blinds[2 * k : 2 * k + 2], run.blinds[2 * k + 2 :]
    cpc, g = shape.cpc, shape.g
    pos = [t + t // g for t in range(layout.limbs)]
    cells = [(row, cpc * kappa + g) for kappa in range(layout.k_l) for row in (0, 1)]
    assert layout.positions() == pos and layout.blinding_cells() == cells
    width = cpc * layout.k_l
    limbs = np.zeros((shape.m_pad, width), dtype=object)
    limbs[:, pos] = np.asarray(run.witness.limbs, dtype=object)
    lookups = limbs[:, pos].copy()
    lookups[:, layout.k_rho - 1] = (lookups[:, layout.k_rho - 1] + ch.lam) % R
    h = np.zeros((shape.m_pad, width), dtype=object)
    h[:, pos] = inverse_lookup(lookups, ch.alpha).values
    for (row, col), lv, hv in zip(cells, limb_b, h_b, strict=True):
        limbs[row, col], h[row, col] = lv, hv
    assert commit_chunks(setup, grid_flat(limbs), layout.k_l) == list(proof.c_limb)
    assert commit_chunks(setup, grid_flat(h), layout.k_l) == list(proof.c_h)
    mu = np.asarray([*run.witness.multiplicities, *mu_b], dtype=object)
    assert len(run.witness.multiplicities) == layout.table_size
    assert commit_chunks(setup, mu, 1) == [proof.c_mu]
    assert len(r) == D // 2
    assert commit_chunks(setup, np.asarray([*r, *r], dtype=object), 1) == [proof.c_r]


def test_z2_registration_blinding_positions(setup: Setup) -> None:
    """``BL``, ``HB`` at rows 0, 1 of the free column ``cpc·κ + g`` of every chunk (the bias limbs
    at ``posB(t) = t + ⌊t/g⌋``); ``HW`` at rows 0, 1 of every chunk's blinding column; ``Mu`` at
    256, 257."""
    a, _, _ = models()
    statement = RegistrationStatement(
        chain_id=31337, verifier=VERIFIER, h_w=a.commitment.h_w, m=M_ROWS, n=N_COLS
    )
    layout = statement.layout
    seen: list[list[int]] = []

    def record(masks: ZkMasks, blinds: list[int]) -> tuple[ZkMasks, list[int]]:
        seen.append(blinds)
        return masks, blinds

    class First(Transcript):
        alpha: int | None = None

        def challenge(self) -> int:
            value = super().challenge()
            if self.alpha is None:
                self.alpha = value
            return value

    w, b = a.weights.astype(np.int64), a.biases.astype(np.int64)
    witness = build_registration_witness(layout, w, b)
    tr = First(DOMAIN_REGISTRATION)
    proof_bytes = prove_registration_with_witness(
        setup, a.commitment, w, b, statement, witness, transcript=tr, masks_hook=record
    )
    verify_registration(setup, statement, proof_bytes)
    proof = RegistrationProof.from_bytes(proof_bytes, layout)
    (blinds,) = seen
    assert tr.alpha is not None
    cpc, g, kb2 = layout.cpc, layout.g, 2 * layout.k_b
    pos_b = [t + t // g for t in range(4)]
    b_cells = [(row, cpc * kappa + g) for kappa in range(layout.k_b) for row in (0, 1)]
    assert layout.bias_positions() == pos_b and layout.free_cells(layout.k_b) == b_cells
    bl = np.zeros((layout.m_pad, cpc * layout.k_b), dtype=object)
    bl[:, pos_b] = np.asarray(witness.bias_limbs, dtype=object)
    hb = np.zeros((layout.m_pad, cpc * layout.k_b), dtype=object)
    hb[:, pos_b] = inverse_lookup(np.asarray(witness.bias_limbs, dtype=object), tr.alpha).values
    hw_end = kb2 + 2 * layout.k_hw
    for (row, col), bv, hv in zip(
        b_cells, blinds[:kb2], blinds[hw_end : hw_end + kb2], strict=True
    ):
        bl[row, col], hb[row, col] = bv, hv
    width = layout.weight_columns
    hw = np.zeros((layout.m_pad, width), dtype=object)
    positions = layout.positions()[:N_COLS]
    w_pad = np.zeros((layout.m_pad, N_COLS), dtype=np.int64)
    w_pad[:M_ROWS] = w
    hw[:, positions] = inverse_lookup(w_pad + 128, tr.alpha).values
    cells = [(row, int(col)) for col in layout.blinding_columns() for row in (0, 1)]
    for (row, col), value in zip(cells, blinds[kb2:hw_end], strict=True):
        hw[row, col] = value
    assert commit_chunks(setup, grid_flat(bl), layout.k_b) == list(proof.c_bl)
    assert commit_chunks(setup, grid_flat(hb), layout.k_b) == list(proof.c_hb)
    assert commit_chunks(setup, grid_flat(hw), layout.k_hw) == list(proof.c_hw)
    mu = np.asarray([*witness.multiplicities, *blinds[hw_end + kb2 :]], dtype=object)
    assert commit_chunks(setup, mu, 1) == [proof.c_mu]
