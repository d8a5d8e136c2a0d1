"""
The malicious-prover battery (proof-design §8.5, adapted to SumKZG-ML v1, which has no masks yet).

Every adversarial prover here must be REJECTED by :func:`sumkzg.inference.verify_inference` or
:func:`sumkzg.registration.verify_registration` with a :class:`~sumkzg.errors.ProofRejected`.

How the attacks are built
-------------------------
The layers are **engineered**: with ``M = 1`` and a chosen shift ``k`` the bias of row ``i`` is
solved so that ``t_i = M·z_i + 2^{k−1} = 2^k·q_i + ρ_i`` for chosen ``(q_i, ρ_i)``; every case then
knows exactly which remainder, quotient and slack it is tampering with (m = 7 rows, so ``m' = 8``
has one padded row; n = 6; ℓ = 12, the smallest domain).

Witness attacks (a–f, i) go through the provers' own "prove from a given witness" entry points
(:func:`~sumkzg.inference.prove_inference_with_witness`,
:func:`~sumkzg.registration.prove_registration_with_witness`), which prove whatever witness they
are given. Each forged witness is checked to satisfy the *arithmetic* of the relation over the
field (the row identity of §5), so the only thing left to catch it is the range checks (lookups);
its multiplicities are the best the prover can do: every looked-up value that is in the table is
counted.

Transcript and round attacks (g, h) go through the real inference prover's hook points
(:class:`~sumkzg.inference.ProverHooks`: the statement bytes absorbed, each sumcheck round's
message, and a trace of the run); :func:`adversarial_prove` drives them, and a control test checks
that identity hooks leave the reference prover's bytes unchanged.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest

from protocol.requant import Activation, requant_array
from protocol.types import to_address
from sumkzg.curve import encode_g1
from sumkzg.errors import EncodingError, ProofRejected, WitnessError
from sumkzg.field import R, lagrange_eval_0123
from sumkzg.inference import (
    InferenceTrace,
    InferenceWitness,
    ProverHooks,
    build_inference_witness,
    final_sumcheck_value,
    prove_inference,
    prove_inference_with_witness,
    verify_inference,
)
from sumkzg.layout import (
    BIAS_LIMBS,
    BIAS_OFFSET,
    BYTE_TABLE_SIZE,
    WEIGHT_OFFSET,
    Layout,
    LimbLayout,
    c_rho_column,
    c_u_column,
    sigma_rows,
)
from sumkzg.proof import InferenceProof, points_bytes, scalars_bytes, weight_commitment_hash
from sumkzg.registration import (
    RegistrationWitness,
    WeightCommitment,
    commit_weight_chunks,
    commit_weights,
    draw_blinding,
    prove_registration_with_witness,
    verify_registration,
    weight_flat,
)
from sumkzg.setup import Setup, load_setup
from sumkzg.statement import InferenceStatement, RegistrationStatement

CHAIN_ID = 31337
VERIFIER = to_address("0x" + "ab" * 20)
MODEL_ID = bytes.fromhex("77" * 32)
JOB_ID = 0xC0FFEE
M = 1
N = 6

# (q, ρ) per row; every row's purpose is named. With relu: y = clamp(q, 0, 127).
ROW_MID = 0  # q = 64, ρ = 10: σ = 0, the workhorse
ROW_RHO0 = 1  # q = 64, ρ = 0: ρ' = 2^k exactly after moving one 2^k from q
ROW_RHOMAX = 2  # q = 64, ρ = 2^k − 1 (ρ' = −1 after moving 2^k the other way)
ROW_126 = 3  # q = 126: y + 1 = 127 crosses into σ = +1
ROW_ZERO = 4  # q = 0: y = 0, σ = −1, u = 0
ROW_CLAMP_HI = 5  # q = 130: y = 127, σ = +1, u = 3
ROW_CLAMP_LO = 6  # q = −3: y = 0, σ = −1, u = 3


def row_targets(k: int) -> list[tuple[int, int]]:
    """The (q, ρ) of the 7 rows for shift ``k``."""
    top = (1 << k) - 1
    return [(64, 10), (64, 0), (64, top), (126, 3 % (1 << k)), (0, 7 % (1 << k)), (130, 5), (-3, 9)]


@dataclass(frozen=True)
class Layer:
    """An engineered relu layer and its commitment (``M = 1``)."""

    k: int
    weights: npt.NDArray[np.int8]
    biases: npt.NDArray[np.int64]
    x: npt.NDArray[np.int8]
    commitment: WeightCommitment

    @property
    def m(self) -> int:
        return int(self.weights.shape[0])

    @property
    def t(self) -> list[int]:
        """``M·z_i + 2^{k−1}`` per row (``m'`` rows, padded rows ``z = 0``)."""
        z = self.weights.astype(np.int64) @ self.x.astype(np.int64) + self.biases
        out = [M * int(v) + (1 << (self.k - 1)) for v in z]
        mp = Layout.of(self.m, N).m_pad
        return out + [1 << (self.k - 1)] * (mp - self.m)

    @property
    def y(self) -> npt.NDArray[np.int8]:
        z = self.weights.astype(np.int64) @ self.x.astype(np.int64) + self.biases
        return requant_array(z, M, self.k, Activation.RELU)

    def statement(
        self, y: Sequence[int] | npt.NDArray[np.integer] | None = None
    ) -> InferenceStatement:
        return InferenceStatement.from_values(
            chain_id=CHAIN_ID,
            verifier=VERIFIER,
            model_id=MODEL_ID,
            partition_index=1,
            h_w=self.commitment.h_w,
            multiplier=M,
            shift=self.k,
            activation=int(Activation.RELU),
            x=self.x,
            y=self.y if y is None else np.asarray(y, dtype=np.int64).astype(np.int8),
            job_id=JOB_ID,
        )


def engineer(setup: Setup, k: int, seed: int = 7) -> Layer:
    """The layer whose rows have exactly :func:`row_targets` ``(k)``."""
    rng = np.random.default_rng(seed)
    targets = row_targets(k)
    weights = rng.integers(-128, 128, size=(len(targets), N), dtype=np.int64).astype(np.int8)
    x = rng.integers(-128, 128, size=N, dtype=np.int64).astype(np.int8)
    wx = weights.astype(np.int64) @ x.astype(np.int64)
    biases = np.array(
        [(q << k) + rho - (1 << (k - 1)) - int(v) for (q, rho), v in zip(targets, wx, strict=True)],
        dtype=np.int64,
    )
    assert np.all(np.abs(biases) < 2**31)
    commitment = commit_weights(setup, weights, biases.astype(np.int32), rng=random.Random(seed))
    return Layer(k=k, weights=weights, biases=biases, x=x, commitment=commitment)


@pytest.fixture(scope="module")
def setup() -> Setup:
    return load_setup()


@pytest.fixture(scope="module")
def layers(setup: Setup) -> dict[int, Layer]:
    return {k: engineer(setup, k) for k in (8, 12, 16)}


# --------------------------------------------------------------------------------------------------
# Witness helpers


def canonical_limbs(layout: LimbLayout, rho: int, u: int) -> list[int]:
    """The honest limbs of one row: the bytes of ρ (``Kρ``) then of u (``Ku``)."""
    return [(rho >> (8 * t)) & 0xFF for t in range(layout.k_rho)] + [
        (u >> (8 * t)) & 0xFF for t in range(layout.k_u)
    ]


def table_index(layout: LimbLayout, column: int, value: int) -> int | None:
    """
    The table entry limb ``value`` of ``column`` hits, if any (§3): the top remainder limb is
    looked up as ``value + λ`` among ``λ + 0..2^{k'}−1`` (entries ``256..TS−1``), every other limb
    as itself among ``0..255``.
    """
    value %= R
    if column == layout.k_rho - 1:
        return BYTE_TABLE_SIZE + value if value < 1 << layout.k_top else None
    return value if value < BYTE_TABLE_SIZE else None


def best_multiplicities(layout: LimbLayout, limbs: Sequence[Sequence[int]]) -> tuple[int, ...]:
    """Count every lookup that hits a table entry (a cheat cannot count the others)."""
    counts = [0] * layout.table_size
    for row in limbs:
        for j, v in enumerate(row):
            index = table_index(layout, j, v)
            if index is not None:
                counts[index] += 1
    return tuple(counts)


def fits_a_shared_table(layout: LimbLayout, limbs: Sequence[Sequence[int]]) -> bool:
    """
    Whether every lookup would hit a table entry in the draft design that tagged the top limb with
    ``+256`` in one shared table ``0..TS−1`` (no ``λ``): the attacks below passed it.
    """
    return all(
        (v + (BYTE_TABLE_SIZE if j == layout.k_rho - 1 else 0)) % R < layout.table_size
        for row in limbs
        for j, v in enumerate(row)
    )


def row_identity_holds(
    layer: Layer, statement: InferenceStatement, limbs: Sequence[Sequence[int]]
) -> bool:
    """§5 per row, over F: ``t_i − 2^k·y′_i − Σ cρ·Limb − 2^k·σ_i·Σ cu·Limb = 0`` for every row."""
    layout = statement.layout
    k = layout.k
    y = list(statement.y_values) + [0] * (layout.shape.m_pad - layout.shape.m)
    sigma = sigma_rows(layout.shape, statement.y_values, statement.activation)
    c_rho, c_u = c_rho_column(layout), c_u_column(layout)
    for i, row in enumerate(limbs):
        rho = sum(c * v for c, v in zip(c_rho, row, strict=False))
        u = sum(c * v for c, v in zip(c_u, row, strict=True))
        if (layer.t[i] - (y[i] << k) - rho - (sigma[i] << k) * u) % R:
            return False
    return True


def honest_rows(layer: Layer) -> list[list[int]]:
    witness = build_inference_witness(
        layer.weights.astype(np.int64), layer.biases, layer.statement()
    )
    return [[int(v) for v in row] for row in witness.limbs]


def forged_witness(
    layer: Layer, statement: InferenceStatement, rows: dict[int, Sequence[int]]
) -> InferenceWitness:
    """The honest limbs with ``rows`` replaced (field elements), and the best multiplicities."""
    limbs = honest_rows(layer)
    for i, row in rows.items():
        limbs[i] = [v % R for v in row]
    assert row_identity_holds(layer, statement, limbs), "the forgery must satisfy the arithmetic"
    array = np.empty((len(limbs), len(limbs[0])), dtype=object)
    array[:] = limbs
    layout = statement.layout
    return InferenceWitness(
        limbs=array,
        multiplicities=best_multiplicities(layout, limbs),
        remainders=(),
        slacks=(),
    )


def prove_with(
    setup: Setup, layer: Layer, statement: InferenceStatement, witness: InferenceWitness
) -> bytes:
    return prove_inference_with_witness(
        setup,
        layer.commitment,
        layer.weights.astype(np.int64),
        layer.biases,
        statement,
        witness,
    )


def claim(layer: Layer, row: int, delta: int) -> InferenceStatement:
    """The statement with ``y[row] += delta``."""
    y = layer.y.astype(np.int64)
    y[row] += delta
    return layer.statement(y)


def assert_rejected(setup: Setup, statement: InferenceStatement, proof: bytes) -> None:
    with pytest.raises(ProofRejected):
        verify_inference(setup, statement, proof)


def forge_and_check(setup: Setup, layer: Layer, row: int, delta: int, limbs: Sequence[int]) -> None:
    """Claim ``y[row] + delta`` with ``limbs`` in that row; the verifier must reject."""
    statement = claim(layer, row, delta)
    witness = forged_witness(layer, statement, {row: limbs})
    assert_rejected(setup, statement, prove_with(setup, layer, statement, witness))


# --------------------------------------------------------------------------------------------------
# Controls: the harness itself is sound


@pytest.mark.parametrize("k", [8, 12, 16])
def test_engineered_rows_and_honest_proof(setup: Setup, layers: dict[int, Layer], k: int) -> None:
    layer = layers[k]
    assert [int(v) for v in layer.y] == [max(0, min(127, q)) for q, _ in row_targets(k)]
    statement = layer.statement()
    witness = build_inference_witness(layer.weights.astype(np.int64), layer.biases, statement)
    assert list(witness.remainders[: layer.m]) == [rho for _, rho in row_targets(k)]
    assert row_identity_holds(layer, statement, honest_rows(layer))
    verify_inference(setup, statement, prove_with(setup, layer, statement, witness))


# --------------------------------------------------------------------------------------------------
# (a) ρ_i = 2^k, compensated in q


@pytest.mark.parametrize("k", [8, 16])
def test_a_remainder_equal_to_2k(setup: Setup, layers: dict[int, Layer], k: int) -> None:
    """Row with ρ = 0: claim y − 1 with ρ' = 2^k (top limb = 2^{k'}, one past its sub-table)."""
    layer = layers[k]
    layout = layer.statement().layout
    limbs = canonical_limbs(layout, 0, 0)
    limbs[layout.k_rho - 1] = 1 << layout.k_top  # ρ' = 2^k
    forge_and_check(setup, layer, ROW_RHO0, -1, limbs)


# --------------------------------------------------------------------------------------------------
# (b) k not a multiple of 8: move 2^k (or more) from q into ρ, ρ ∈ [2^k, 2^{8⌈k/8⌉})


@pytest.mark.parametrize("moved", [1, 15])
def test_b_top_limb_exactness(setup: Setup, layers: dict[int, Layer], moved: int) -> None:
    """k = 12: claim y − moved with ρ' = ρ + moved·2^12 < 2^16, i.e. two honest-looking bytes."""
    layer = layers[12]
    layout = layer.statement().layout
    rho = row_targets(12)[ROW_MID][1] + (moved << 12)
    assert rho < 1 << 16
    limbs = canonical_limbs(layout, rho, 0)
    assert all(
        0 <= v < 256 for v in limbs
    )  # both bytes; only the top limb's sub-table can catch it
    forge_and_check(setup, layer, ROW_MID, -moved, limbs)


# --------------------------------------------------------------------------------------------------
# (c) q off by one, compensated by a field-wrapping limb


def test_c_wrapping_remainder_limb(setup: Setup, layers: dict[int, Layer]) -> None:
    """k = 16: claim y + 1 with ρ' = ρ − 2^16 < 0 held in limb 0 as a huge field element."""
    layer = layers[16]
    layout = layer.statement().layout
    limbs = canonical_limbs(layout, 0, 0)
    limbs[0] = row_targets(16)[ROW_MID][1] - (1 << 16)  # ≡ r − 65526
    forge_and_check(setup, layer, ROW_MID, +1, limbs)


def test_c_wrapping_slack_limb(setup: Setup, layers: dict[int, Layer]) -> None:
    """Row q = 126 (σ = 0): claim 127 (σ = +1) with slack u = q − 127 = −1, i.e. r − 1."""
    layer = layers[8]
    layout = layer.statement().layout
    rho = row_targets(8)[ROW_126][1]
    limbs = canonical_limbs(layout, rho, 0)
    limbs[layout.k_rho] = -1
    forge_and_check(setup, layer, ROW_126, +1, limbs)


# --------------------------------------------------------------------------------------------------
# (d) limb 256 or −1


def test_d_slack_limb_256_and_minus_one(setup: Setup, layers: dict[int, Layer]) -> None:
    """Row q = 130 (y = 127, u = 3): u written as (259, −1) = 259 − 256 = 3 (honest value)."""
    layer = layers[8]
    layout = layer.statement().layout
    rho = row_targets(8)[ROW_CLAMP_HI][1]
    limbs = canonical_limbs(layout, rho, 3)
    limbs[layout.k_rho], limbs[layout.k_rho + 1] = 259, -1
    forge_and_check(setup, layer, ROW_CLAMP_HI, 0, limbs)


# --------------------------------------------------------------------------------------------------
# (b)/(c)/(d) done cleverly: limbs that land in the *other* sub-table
#
# Regression tests of a soundness bug of the first v1 draft: its table was 0..255 (bytes) then
# 256..256+2^{k'}−1 (the top limb, tagged by +256), one shared table. A top limb in [−256, −1] was
# looked up as 256 + limb ∈ [0, 255], a byte; a lower limb in [256, 256 + 2^{k'}) as itself, a
# tagged value; both hit the table, so a prover could claim y ± 1 in any row, and both verifiers
# (Python and Solidity) accepted it. The fix separates the top-limb sub-table by a challenge λ
# drawn after the limbs are committed (docs/proof-system.md §3).


@pytest.mark.parametrize("k", [8, 12, 16])
def test_negative_top_limb_claims_y_plus_one(
    setup: Setup, layers: dict[int, Layer], k: int
) -> None:
    """
    Claim y + 1 in a σ = 0 row: ρ' = ρ − 2^k with the top limb ρ_top − 2^{k'} ∈ [−256, 0)
    (a byte under the draft's +256 tag) and the lower limbs unchanged.
    """
    layer = layers[k]
    layout = layer.statement().layout
    rho = row_targets(k)[ROW_MID][1]
    limbs = canonical_limbs(layout, rho, 0)
    limbs[layout.k_rho - 1] -= 1 << layout.k_top  # ρ' = ρ − 2^k
    assert fits_a_shared_table(layout, [limbs])
    forge_and_check(setup, layer, ROW_MID, +1, limbs)


def test_limb_minus_one_claims_y_plus_one(setup: Setup, layers: dict[int, Layer]) -> None:
    """k = 8, row ρ = 255: claim y + 1 with the single remainder limb −1 (looked up as 255)."""
    layer = layers[8]
    layout = layer.statement().layout
    limbs = canonical_limbs(layout, 0, 0)
    limbs[0] = -1  # ρ' = 255 − 256
    forge_and_check(setup, layer, ROW_RHOMAX, +1, limbs)


@pytest.mark.parametrize("k", [12, 16])
def test_low_limb_in_top_range_claims_y_minus_one(
    setup: Setup, layers: dict[int, Layer], k: int
) -> None:
    """
    Row ρ = 0: claim y − 1 with ρ' = 2^k = 256 + 256·(2^{k'} − 1): limb 0 = 256 (a top-limb value
    in the draft's shared table) and a top limb inside its range (k = 16: 256 + 256·255; k = 12:
    256 + 256·15).
    """
    layer = layers[k]
    layout = layer.statement().layout
    limbs = canonical_limbs(layout, 0, 0)
    limbs[0], limbs[layout.k_rho - 1] = 256, (1 << layout.k_top) - 1
    assert fits_a_shared_table(layout, [limbs])
    forge_and_check(setup, layer, ROW_RHO0, -1, limbs)


# --------------------------------------------------------------------------------------------------
# (e) multiplicities


@pytest.mark.parametrize("how", ["omit", "extra", "zero", "moved"])
def test_e_wrong_multiplicities(setup: Setup, layers: dict[int, Layer], how: str) -> None:
    """The honest statement and limbs with a wrong ``Mu``."""
    layer = layers[12]
    statement = layer.statement()
    honest = build_inference_witness(layer.weights.astype(np.int64), layer.biases, statement)
    counts = list(honest.multiplicities)
    used = max(range(len(counts)), key=lambda f: counts[f])
    unused = counts.index(0)
    if how == "omit":
        counts[used] -= 1
    elif how == "extra":
        counts[unused] += 1
    elif how == "zero":
        counts = [0] * len(counts)
    else:
        counts[used] -= 1
        counts[unused] += 1
    witness = InferenceWitness(
        limbs=honest.limbs,
        multiplicities=tuple(c % R for c in counts),
        remainders=honest.remainders,
        slacks=honest.slacks,
    )
    assert_rejected(setup, statement, prove_with(setup, layer, statement, witness))


# --------------------------------------------------------------------------------------------------
# (f) registration of non-int8 weights or a non-int32 bias


def forged_registration(
    setup: Setup, weights: npt.NDArray[np.int64], biases: npt.NDArray[np.int64]
) -> tuple[RegistrationStatement, bytes]:
    """Commit ``weights``/``biases`` as they are and prove with the best witness a cheat has."""
    m, n = weights.shape
    layout = Layout.of(m, n)
    rng = random.Random(3)
    blinding = draw_blinding(layout, rng=rng)
    chunks = commit_weight_chunks(setup, layout, weight_flat(layout, weights, biases), blinding)
    commitment = WeightCommitment(
        m=m,
        n=n,
        chunks=tuple(encode_g1(c) for c in chunks),
        h_w=weight_commitment_hash(chunks),
        blinding=tuple(blinding),
        setup_id=setup.setup_id,
    )
    # Bias limbs: four bytes of b + 2^31 where that works; else keep the arithmetic right with
    # the fewest out-of-range limbs (the top limb absorbs the rest: 2^32 → (0, 0, 0, 256),
    # −1 → (255, 255, 255, −1)).
    bias_rows: list[list[int]] = []
    padded = [int(v) for v in biases] + [0] * (layout.m_pad - m)
    for b in padded:
        shifted = b + BIAS_OFFSET
        low = [(shifted >> (8 * t)) & 0xFF for t in range(BIAS_LIMBS - 1)]
        top = (shifted - sum(v << (8 * t) for t, v in enumerate(low))) >> 24
        bias_rows.append([*low, top])
    counts = [0] * BYTE_TABLE_SIZE
    looked = [int(w) + WEIGHT_OFFSET for w in weights.reshape(-1)]
    looked += [WEIGHT_OFFSET] * ((layout.m_pad - m) * n) + [v for row in bias_rows for v in row]
    for v in looked:
        if 0 <= v < BYTE_TABLE_SIZE:
            counts[v] += 1
    limbs = np.empty((layout.m_pad, BIAS_LIMBS), dtype=object)
    limbs[:] = [[v % R for v in row] for row in bias_rows]
    witness = RegistrationWitness(bias_limbs=limbs, multiplicities=tuple(counts))
    statement = RegistrationStatement(
        chain_id=CHAIN_ID, verifier=VERIFIER, h_w=commitment.h_w, m=m, n=n
    )
    proof = prove_registration_with_witness(setup, commitment, weights, biases, statement, witness)
    return statement, proof


def registration_layer() -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    rng = np.random.default_rng(11)
    weights = rng.integers(-128, 128, size=(7, N), dtype=np.int64)
    biases = rng.integers(-(2**31), 2**31, size=7, dtype=np.int64)
    return weights, biases


def test_f_registration_harness_accepts_honest_weights(setup: Setup) -> None:
    weights, biases = registration_layer()
    statement, proof = forged_registration(setup, weights, biases)
    verify_registration(setup, statement, proof)


@pytest.mark.parametrize(
    ("where", "value"),
    # (−2^31 − 1 cannot be committed through the registration prover: |entry| ≤ 2^31.)
    [("weight", 128), ("weight", -129), ("weight", 255), ("bias", 2**31)],
)
def test_f_registration_out_of_range(setup: Setup, where: str, value: int) -> None:
    weights, biases = registration_layer()
    if where == "weight":
        weights[2, 3] = value
    else:
        biases[4] = value
    statement, proof = forged_registration(setup, weights, biases)
    with pytest.raises(ProofRejected):
        verify_registration(setup, statement, proof)


def test_f_honest_entry_points_refuse_out_of_range(setup: Setup) -> None:
    weights, biases = registration_layer()
    wide = weights.astype(np.int16)
    wide[0, 0] = 128
    with pytest.raises(WitnessError):
        commit_weights(setup, wide, biases)  # type: ignore[arg-type]  # deliberately not int8
    with pytest.raises(WitnessError):
        commit_weights(setup, weights.astype(np.int8), np.array([2**31] * 7, dtype=np.int64))


# --------------------------------------------------------------------------------------------------
# The real inference prover driven through its hook points (g, h)

RoundHook = Callable[[int, list[int], int], Sequence[int]]
"""``(round t, honest s_t(0..3), the verifier's current claim) -> the four scalars to send``."""


@dataclass
class Adversary:
    """What an adversarial run exposes besides the proof."""

    proof: bytes
    trace: InferenceTrace


def adversarial_prove(
    setup: Setup,
    layer: Layer,
    statement: InferenceStatement,
    witness: InferenceWitness,
    *,
    statement_bytes: bytes | None = None,
    round_hook: RoundHook | None = None,
    rng: random.Random | None = None,
) -> Adversary:
    """
    :func:`sumkzg.inference.prove_inference_with_witness` with its :class:`ProverHooks`: the
    statement bytes absorbed (tag 0x00) and each sumcheck round's message; the run's challenges,
    point, evaluations and final claim are recorded.
    """
    traces: list[InferenceTrace] = []
    hooks = ProverHooks(
        statement_bytes=None if statement_bytes is None else (lambda _honest: statement_bytes),
        round_message=round_hook,
        trace=traces.append,
    )
    proof = prove_inference_with_witness(
        setup,
        layer.commitment,
        layer.weights.astype(np.int64),
        layer.biases,
        statement,
        witness,
        hooks=hooks,
        rng=rng,
    )
    (trace,) = traces
    return Adversary(proof=proof, trace=trace)


def honest_witness(layer: Layer) -> InferenceWitness:
    return build_inference_witness(layer.weights.astype(np.int64), layer.biases, layer.statement())


def test_adversarial_prover_without_hooks_is_the_reference(
    setup: Setup, layers: dict[int, Layer]
) -> None:
    layer = layers[8]
    statement = layer.statement()
    run = adversarial_prove(
        setup,
        layer,
        statement,
        honest_witness(layer),
        statement_bytes=statement.to_bytes(setup.setup_id),
        round_hook=lambda _t, honest, _claim: honest,
        rng=random.Random(21),  # TESTS ONLY: the same masks as the reference run below
    )
    mine = run.proof
    assert final_check_passes(layer.statement(), run)
    assert mine == prove_inference(
        setup,
        layer.commitment,
        layer.weights,
        layer.biases.astype(np.int32),
        statement,
        rng=random.Random(21),
    )
    verify_inference(setup, statement, mine)


# --------------------------------------------------------------------------------------------------
# (g) round messages inconsistent with a degree-3 polynomial


def test_g_five_evaluations_per_round(setup: Setup, layers: dict[int, Layer]) -> None:
    """A degree-4 round polynomial sent as five values: the proof has the wrong length."""
    layer = layers[8]
    statement = layer.statement()
    proof = InferenceProof.from_bytes(
        prove_with(setup, layer, statement, honest_witness(layer)), statement.layout
    )
    rounds = b"".join(scalars_bytes([*r, lagrange_eval_0123(r, 4)]) for r in proof.rounds)
    longer = (
        points_bytes([*proof.c_w, *proof.c_limb, proof.c_mu, *proof.c_h])
        + rounds
        + scalars_bytes(proof.evals)
        + proof.opening.to_bytes()
    )
    with pytest.raises(EncodingError):
        verify_inference(setup, statement, longer)


def test_g_fits_evals_to_a_degree_four_truth(setup: Setup, layers: dict[int, Layer]) -> None:
    """
    A false claim (y + 1, honest limbs) makes the true sum Δ ≠ 0. In every round the cheat's
    "truth" is the degree-4 ``g = s + e`` with ``e(X) = −Δ_t·X(X−2)(X−3)(X−4)/(−6)`` (so
    ``g(0) + g(1)`` is the verifier's claim); it sends ``g(0..3)``, which the verifier reads as a
    cubic. The final check must fail.
    """
    layer = layers[8]
    statement = claim(layer, ROW_MID, +1)
    witness = honest_witness(layer)
    inv6 = pow(-6, -1, R)

    def hook(t: int, honest: list[int], verifier_claim: int) -> list[int]:
        delta = (honest[0] + honest[1] - verifier_claim) % R

        def e(x: int) -> int:
            return -delta * x * (x - 2) * (x - 3) * (x - 4) * inv6 % R

        sent = [(honest[x] + e(x)) % R for x in range(4)]
        assert (sent[0] + sent[1]) % R == verifier_claim % R
        return sent

    run = adversarial_prove(setup, layer, statement, witness, round_hook=hook)
    assert_rejected(setup, statement, run.proof)


# --------------------------------------------------------------------------------------------------
# (h) Frozen Heart: statement parts left out of the transcript


def statement_bytes_without(statement: InferenceStatement, setup: Setup, part: str) -> bytes:
    full = statement.to_bytes(setup.setup_id)
    n, m = statement.layout.shape.n, statement.layout.shape.m
    head = len(full) - 32 - m - n  # everything before x
    if part == "x":
        return full[:head] + full[head + n :]
    return full[: head + n] + full[head + n + m :]


def final_check_passes(statement: InferenceStatement, run: Adversary) -> bool:
    """The verifier's final sumcheck check at ``run``'s point, for ``statement``."""
    trace = run.trace
    value = final_sumcheck_value(statement, trace.challenges, trace.point, trace.evals)
    return (value + trace.challenges.rho_l * trace.s_g) % R == trace.final_claim


@pytest.mark.parametrize("part", ["x", "y"])
def test_h_transcript_without_x_or_y(setup: Setup, layers: dict[int, Layer], part: str) -> None:
    """A proof whose transcript left out x (or y) is rejected, even for the true statement."""
    layer = layers[8]
    statement = layer.statement()
    run = adversarial_prove(
        setup,
        layer,
        statement,
        honest_witness(layer),
        statement_bytes=statement_bytes_without(statement, setup, part),
    )
    assert final_check_passes(statement, run)  # honest w.r.t. its challenges
    assert_rejected(setup, statement, run.proof)


def test_h_search_for_a_wrong_y_under_a_y_free_transcript(
    setup: Setup, layers: dict[int, Layer]
) -> None:
    """
    With y left out, the challenges do not depend on y: the cheat proves the true y once, then
    searches for another int8 ``y'`` that passes the final check at the same point (every ±1,
    ±2 change of one row, and 300 random relu vectors). None may pass, and the real verifier must
    reject the proof for every candidate.
    """
    layer = layers[8]
    statement = layer.statement()
    run = adversarial_prove(
        setup,
        layer,
        statement,
        honest_witness(layer),
        statement_bytes=statement_bytes_without(statement, setup, "y"),
    )
    y = list(statement.y_values)
    candidates: list[list[int]] = []
    for i in range(len(y)):
        for d in (-2, -1, 1, 2):
            if 0 <= y[i] + d <= 127:
                candidates.append([*y[:i], y[i] + d, *y[i + 1 :]])
    rng = random.Random(5)
    candidates += [[rng.randrange(128) for _ in y] for _ in range(300)]
    passing = [c for c in candidates if c != y and final_check_passes(layer.statement(c), run)]
    assert passing == []
    for candidate in candidates[:3]:
        assert_rejected(setup, layer.statement(candidate), run.proof)


# --------------------------------------------------------------------------------------------------
# (i) an output off by one in one row, the witness otherwise honest


@pytest.mark.parametrize(
    ("row", "delta"),
    [
        (ROW_MID, +1),
        (ROW_MID, -1),
        (ROW_126, +1),  # 126 → 127
        (ROW_CLAMP_HI, -1),  # 127 → 126
        (ROW_ZERO, +1),  # 0 → 1
        (ROW_CLAMP_LO, +1),  # 0 → 1 on a clamped row
    ],
)
def test_i_output_off_by_one(setup: Setup, layers: dict[int, Layer], row: int, delta: int) -> None:
    layer = layers[12]
    statement = claim(layer, row, delta)
    with pytest.raises(WitnessError):
        prove_inference(
            setup, layer.commitment, layer.weights, layer.biases.astype(np.int32), statement
        )
    assert_rejected(setup, statement, prove_with(setup, layer, statement, honest_witness(layer)))
