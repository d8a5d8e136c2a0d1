"""
Tests for sumkzg.inference: completeness over shapes and requant parameters, the prover's refusal of
a false statement, statement tampering, every single-field mutation of a proof, the witness against
the runtime's requant on random layers, and the regression of a top-limb range check that a first
version of the spec got wrong (one table with a constant +256 tag admitted out-of-range limbs).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pytest

from protocol.requant import Activation, qlinear, requant
from sumkzg.curve import G1_ENCODED_LEN, decode_g1, encode_g1
from sumkzg.errors import EncodingError, ProofRejected, SetupError, WitnessError
from sumkzg.field import R, scalar_to_bytes
from sumkzg.inference import (
    InferenceWitness,
    build_inference_witness,
    prove_inference,
    prove_inference_with_witness,
    verify_inference,
)
from sumkzg.layout import LayoutError, LimbLayout
from sumkzg.proof import InferenceProof, weight_commitment_hash
from sumkzg.registration import WeightCommitment, commit_weights
from sumkzg.setup import Setup, load_setup, toy_setup_for_tests
from sumkzg.statement import InferenceStatement
from tests.unit.sumkzg.proof_fields import proof_field_offsets

VERIFIER = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
OTHER_VERIFIER = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
MODEL_ID = bytes.fromhex("11" * 32)
M_MAX = 2**31 - 1


@pytest.fixture(scope="module")
def setup() -> Setup:
    return load_setup()


@lru_cache(maxsize=64)
def layer(
    m: int, n: int, seed: int = 0, bias_range: int = 2**20
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int32], WeightCommitment]:
    rng = np.random.default_rng(seed)
    weights = rng.integers(-128, 128, (m, n)).astype(np.int8)
    biases = rng.integers(-bias_range, bias_range, m).astype(np.int32)
    commitment = commit_weights(load_setup(), weights, biases, rng=random.Random(seed))
    return weights, biases, commitment


def statement_for(
    commitment: WeightCommitment,
    weights: npt.NDArray[np.int8],
    biases: npt.NDArray[np.integer],
    x: npt.NDArray[np.int8],
    multiplier: int,
    shift: int,
    activation: Activation,
    **changes: object,
) -> InferenceStatement:
    y = qlinear(weights, biases, x, multiplier, shift, activation)
    statement = InferenceStatement.from_values(
        chain_id=31337,
        verifier=VERIFIER,
        model_id=MODEL_ID,
        partition_index=3,
        h_w=commitment.h_w,
        multiplier=multiplier,
        shift=shift,
        activation=int(activation),
        x=x,
        y=y,
        job_id=42,
    )
    return replace(statement, **changes) if changes else statement  # type: ignore[arg-type]


def auto_multiplier(
    weights: npt.NDArray[np.int8], biases: npt.NDArray[np.integer], x: npt.NDArray[np.int8], k: int
) -> int:
    """A multiplier that spreads the outputs over the int8 range (some clamp, most do not)."""
    z = weights.astype(np.int64) @ x.astype(np.int64) + biases.astype(np.int64)
    top = max(1, int(np.abs(z).max()))
    return max(1, min(M_MAX, (100 << k) // top))


def prove_and_verify(
    setup: Setup, m: int, n: int, k: int, multiplier: int | None, activation: Activation, seed: int
) -> tuple[InferenceStatement, bytes]:
    weights, biases, commitment = layer(m, n)
    x = np.random.default_rng(seed).integers(-128, 128, n).astype(np.int8)
    if multiplier is None:
        multiplier = auto_multiplier(weights, biases, x, k)
    statement = statement_for(commitment, weights, biases, x, multiplier, k, activation)
    proof = prove_inference(setup, commitment, weights, biases, statement)
    assert len(proof) == InferenceProof.byte_len(statement.layout)
    verify_inference(setup, statement, proof)
    return statement, proof


# --------------------------------------------------------------------------------------------------
# Completeness

SHAPES = [(1, 1), (3, 3), (1, 64), (64, 1), (64, 64), (10, 32), (32, 64), (64, 200)]
SHIFTS = [1, 8, 9, 16, 31, 62]
MULTIPLIERS: list[int | None] = [0, 1, M_MAX, None]  # None: auto_multiplier
ACTIVATIONS = [Activation.RELU, Activation.NONE]


def fast_cases() -> Iterator[tuple[int, int, int, int | None, Activation]]:
    """Every shape with every shift; multipliers and activations rotate so each pair appears."""
    for s, (m, n) in enumerate(SHAPES):
        for t, k in enumerate(SHIFTS):
            yield m, n, k, MULTIPLIERS[(s + t) % 4], ACTIVATIONS[(s + t // 2) % 2]


def slow_cases() -> Iterator[tuple[int, int, int, int | None, Activation]]:
    fast = set(fast_cases())
    for m, n in SHAPES:
        for k in SHIFTS:
            for multiplier in MULTIPLIERS:
                for activation in ACTIVATIONS:
                    case = (m, n, k, multiplier, activation)
                    if case not in fast:
                        yield case


@pytest.mark.parametrize(("m", "n", "k", "multiplier", "activation"), list(fast_cases()))
def test_completeness(
    setup: Setup, m: int, n: int, k: int, multiplier: int | None, activation: Activation
) -> None:
    prove_and_verify(setup, m, n, k, multiplier, activation, seed=m * 131 + n * 7 + k)


@pytest.mark.slow
@pytest.mark.parametrize(("m", "n", "k", "multiplier", "activation"), list(slow_cases()))
def test_completeness_full_grid(
    setup: Setup, m: int, n: int, k: int, multiplier: int | None, activation: Activation
) -> None:
    prove_and_verify(setup, m, n, k, multiplier, activation, seed=m * 131 + n * 7 + k)


def test_completeness_256(setup: Setup) -> None:
    prove_and_verify(setup, 256, 256, 20, None, Activation.NONE, seed=1)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("m", "n"), [(255, 255), (256, 256), (257, 257), (2048, 3), (1, 4000), (1000, 100)]
)
def test_completeness_large(setup: Setup, m: int, n: int) -> None:
    for k, activation in ((9, Activation.RELU), (31, Activation.NONE)):
        prove_and_verify(setup, m, n, k, None, activation, seed=m + n + k)


def test_more_than_2048_rows_refused() -> None:
    # m' > D/2 leaves no room for a blinding column in a weight chunk (docs/proof-system.md §3).
    with pytest.raises(LayoutError, match="D/2"):
        LimbLayout.of(4096, 3, 16)
    with pytest.raises(LayoutError, match="D/2"):
        layer(2049, 3)


def targeted_layer(
    setup: Setup, targets: list[int], n: int = 4, seed: int = 5
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int64], WeightCommitment, npt.NDArray[np.int8]]:
    """A layer with M = 1, k = 1 and biases so that q_i = targets[i] exactly (z_i = 2·t_i)."""
    rng = np.random.default_rng(seed)
    weights = rng.integers(-128, 128, (len(targets), n)).astype(np.int8)
    x = rng.integers(-128, 128, n).astype(np.int8)
    dot = weights.astype(np.int64) @ x.astype(np.int64)
    biases = np.array([2 * t for t in targets], dtype=np.int64) - dot
    commitment = commit_weights(setup, weights, biases, rng=random.Random(seed))
    return weights, biases, commitment, x


@pytest.mark.parametrize(
    ("targets", "activation", "expected"),
    [
        ([0] * 6, Activation.RELU, [0] * 6),
        ([-50, -1, 0, -(2**20), -3, 0], Activation.RELU, [0] * 6),
        ([127, 500, 2**20, 128, 127, 1000], Activation.RELU, [127] * 6),
        ([127, 500, 2**20, 128, 127, 1000], Activation.NONE, [127] * 6),
        ([-128, -500, -(2**20), -129, -128, -1000], Activation.NONE, [-128] * 6),
        ([-200, -128, -127, 0, 126, 300], Activation.NONE, [-128, -128, -127, 0, 126, 127]),
    ],
)
def test_all_clamped_outputs(
    setup: Setup, targets: list[int], activation: Activation, expected: list[int]
) -> None:
    weights, biases, commitment, x = targeted_layer(setup, targets)
    statement = statement_for(commitment, weights, biases, x, 1, 1, activation)
    assert list(statement.y_values) == expected
    verify_inference(
        setup, statement, prove_inference(setup, commitment, weights, biases, statement)
    )


@pytest.mark.parametrize("z", [8, -8, 24, -24, 0, 2**31 - 8])
def test_rounding_boundary(setup: Setup, z: int) -> None:
    # k = 4, M = 1: z ≡ 8 (mod 16) is exactly half-way; the rule rounds up, ρ = 0.
    rng = np.random.default_rng(3)
    weights = rng.integers(-128, 128, (2, 3)).astype(np.int8)
    x = np.array([0, 0, 0], dtype=np.int8)
    biases = np.array([z, z - 1], dtype=np.int64)
    commitment = commit_weights(setup, weights, biases, rng=random.Random(1))
    statement = statement_for(commitment, weights, biases, x, 1, 4, Activation.NONE)
    witness = build_inference_witness(weights.astype(np.int64), biases, statement)
    if z % 16 == 8:
        assert witness.remainders[0] == 0
    assert statement.y_values[0] == max(-128, min(127, (z + 8) >> 4))
    verify_inference(
        setup, statement, prove_inference(setup, commitment, weights, biases, statement)
    )


# --------------------------------------------------------------------------------------------------
# The prover refuses false statements


def test_prover_refuses_wrong_outputs(setup: Setup) -> None:
    weights, biases, commitment = layer(10, 32)
    x = np.random.default_rng(1).integers(-128, 128, 32).astype(np.int8)
    multiplier = auto_multiplier(weights, biases, x, 12)
    honest = statement_for(commitment, weights, biases, x, multiplier, 12, Activation.NONE)
    for i in range(10):
        for delta in (1, -1):
            y = list(honest.y_values)
            if not -128 <= y[i] + delta <= 127:
                continue
            y[i] += delta
            false = replace(honest, y=np.array(y, dtype=np.int8).tobytes())
            with pytest.raises(WitnessError, match="runtime"):
                prove_inference(setup, commitment, weights, biases, false)
    other_x = replace(honest, x=(-x.astype(np.int16) - 1).astype(np.int8).tobytes())
    with pytest.raises(WitnessError):
        prove_inference(setup, commitment, weights, biases, other_x)


def test_prover_refuses_accumulator_overflow(setup: Setup) -> None:
    weights = np.full((1, 2), 127, dtype=np.int8)
    biases = np.array([2**31 - 1], dtype=np.int64)
    commitment = commit_weights(setup, weights, biases, rng=random.Random(1))
    statement = InferenceStatement.from_values(
        chain_id=1,
        verifier=VERIFIER,
        model_id=MODEL_ID,
        partition_index=0,
        h_w=commitment.h_w,
        multiplier=1,
        shift=1,
        activation=1,
        x=[127, 127],
        y=[127],
        job_id=0,
    )
    with pytest.raises(WitnessError, match="runtime refuses"):
        prove_inference(setup, commitment, weights, biases, statement)


def test_prover_refuses_mismatched_inputs(setup: Setup) -> None:
    weights, biases, commitment = layer(3, 3)
    *_, other = layer(3, 3, seed=1)
    x = np.array([1, 2, 3], dtype=np.int8)
    statement = statement_for(commitment, weights, biases, x, 5, 3, Activation.RELU)
    with pytest.raises(WitnessError, match="H_W"):
        prove_inference(setup, other, weights, biases, statement)
    with pytest.raises(WitnessError, match="shape"):
        prove_inference(setup, commitment, weights[:2], biases[:2], statement)
    with pytest.raises(WitnessError):
        prove_inference(setup, commitment, weights.astype(np.int32), biases, statement)
    with pytest.raises(SetupError):
        prove_inference(toy_setup_for_tests(3, 64), commitment, weights, biases, statement)


# --------------------------------------------------------------------------------------------------
# Statement tampering

TamperCase = tuple[InferenceStatement, bytes, WeightCommitment]
TAMPER_TARGETS = [0, 1, 126, 127, 60, -9, 400]  # relu outputs 0, 1, 126, 127, 60, 0, 127


@pytest.fixture(scope="module")
def tamper_case(
    setup: Setup,
) -> TamperCase:
    weights, biases, commitment, x = targeted_layer(setup, TAMPER_TARGETS)
    statement = statement_for(commitment, weights, biases, x, 1, 1, Activation.RELU)
    assert list(statement.y_values) == [0, 1, 126, 127, 60, 0, 127]
    proof = prove_inference(setup, commitment, weights, biases, statement)
    verify_inference(setup, statement, proof)
    return statement, proof, commitment


def with_y(statement: InferenceStatement, index: int, value: int) -> InferenceStatement:
    y = list(statement.y_values)
    y[index] = value
    return replace(statement, y=np.array(y, dtype=np.int8).tobytes())


@pytest.mark.parametrize(
    ("index", "value"),
    [(0, 1), (1, 0), (1, 2), (2, 127), (2, 125), (3, 126), (4, 61), (4, 59), (5, 1), (6, 126)],
)
def test_tampered_output_rejected(
    setup: Setup,
    tamper_case: TamperCase,
    index: int,
    value: int,
) -> None:
    statement, proof, _ = tamper_case
    with pytest.raises(ProofRejected):
        verify_inference(setup, with_y(statement, index, value), proof)


@pytest.mark.parametrize(
    "changes",
    [
        {"multiplier": 2},
        {"multiplier": 0},
        {"shift": 2},
        {"activation": 0},
        {"job_id": 43},
        {"chain_id": 1},
        {"verifier": OTHER_VERIFIER},
        {"model_id": bytes(32)},
        {"partition_index": 4},
    ],
)
def test_tampered_statement_rejected(
    setup: Setup,
    tamper_case: TamperCase,
    changes: dict[str, object],
) -> None:
    statement, proof, _ = tamper_case
    with pytest.raises(ProofRejected):
        verify_inference(setup, replace(statement, **changes), proof)  # type: ignore[arg-type]


def test_tampered_input_rejected(setup: Setup, tamper_case: TamperCase) -> None:
    statement, proof, _ = tamper_case
    for j in range(statement.n):
        x = bytearray(statement.x)
        x[j] = (x[j] + 1) % 256
        with pytest.raises(ProofRejected):
            verify_inference(setup, replace(statement, x=bytes(x)), proof)


def test_another_models_commitment_rejected(setup: Setup) -> None:
    statement, proof = prove_and_verify(setup, 64, 64, 9, None, Activation.RELU, seed=11)
    *_, other = layer(64, 64, seed=1)
    assert other.h_w != statement.h_w
    with pytest.raises(ProofRejected, match="H_W"):
        verify_inference(setup, replace(statement, h_w=other.h_w), proof)
    chunk_bytes = 128 * statement.layout.shape.k_w
    forged = b"".join(other.chunks) + proof[chunk_bytes:]
    with pytest.raises(ProofRejected):
        verify_inference(setup, replace(statement, h_w=other.h_w), forged)


def test_swapped_chunks_rejected(setup: Setup) -> None:
    statement, proof = prove_and_verify(setup, 64, 64, 16, None, Activation.NONE, seed=12)
    assert statement.layout.shape.k_w == 2
    swapped = proof[128:256] + proof[:128] + proof[256:]
    with pytest.raises(ProofRejected, match="H_W"):
        verify_inference(setup, statement, swapped)
    points = [decode_g1(proof[128:256]), decode_g1(proof[:128])]
    with pytest.raises(ProofRejected):
        verify_inference(setup, replace(statement, h_w=weight_commitment_hash(points)), swapped)


# --------------------------------------------------------------------------------------------------
# Proof mutation


def field_offsets(layout: LimbLayout) -> Iterator[tuple[str, int]]:
    """Every ("point" | "scalar", offset) of an inference proof of this shape."""
    round1 = layout.shape.k_w + layout.k_l + 4  # C_W, C_Limb, C_Mu, C_R, C_Lib, C_Mk
    scalars = 4 * layout.shape.ell + 6
    return proof_field_offsets(round1, layout.k_l, scalars, InferenceProof.byte_len(layout))


def test_every_field_mutation_rejected(setup: Setup) -> None:
    statement, proof = prove_and_verify(setup, 3, 5, 9, None, Activation.RELU, seed=2)
    other = encode_g1(setup.g1[7])
    count = 0
    for kind, offset in field_offsets(statement.layout):
        width = 32 if kind == "scalar" else G1_ENCODED_LEN
        old = proof[offset : offset + width]
        if kind == "scalar":
            value = int.from_bytes(old, "big")
            replacements = [scalar_to_bytes((value + 1) % R), R.to_bytes(32, "big"), b"\xff" * 32]
            if value:
                replacements.append(bytes(32))
        else:
            replacements = [other] if old != other else []
            if old != bytes(G1_ENCODED_LEN):
                bad_pad, off_curve = bytearray(old), bytearray(old)
                bad_pad[70] = 1
                off_curve[-1] ^= 1
                replacements += [bytes(G1_ENCODED_LEN), bytes(bad_pad), bytes(off_curve)]
        for new in replacements:
            with pytest.raises(ProofRejected):
                verify_inference(setup, statement, proof[:offset] + new + proof[offset + width :])
            count += 1
    assert count > 300


def test_truncated_and_extended_rejected(setup: Setup) -> None:
    statement, proof = prove_and_verify(setup, 1, 1, 8, 3, Activation.NONE, seed=3)
    for bad in (proof[:-1], proof[:-32], proof[:-128], proof + b"\x00", proof + bytes(128), b""):
        with pytest.raises(EncodingError):
            verify_inference(setup, statement, bad)


def test_decoded_proof_round_trips(setup: Setup) -> None:
    statement, proof = prove_and_verify(setup, 3, 3, 31, 77, Activation.RELU, seed=4)
    decoded = InferenceProof.from_bytes(proof, statement.layout)
    decoded.check_shape(statement.layout)
    assert decoded.to_bytes() == proof


# --------------------------------------------------------------------------------------------------
# Differential: the witness against the runtime's requant


def check_witness(statement: InferenceStatement, witness: InferenceWitness, z: list[int]) -> None:
    layout = statement.layout
    k, multiplier = layout.k, statement.multiplier
    lo = 0 if statement.activation == 1 else -128
    m_pad = layout.shape.m_pad
    assert len(witness.remainders) == len(witness.slacks) == m_pad
    for i in range(m_pad):
        zi = z[i] if i < statement.m else 0
        y = statement.y_values[i] if i < statement.m else 0
        sigma = -1 if y == lo else 1 if y == 127 else 0
        rho, u = witness.remainders[i], witness.slacks[i]
        assert multiplier * zi + 2 ** (k - 1) == 2**k * (y + sigma * u) + rho
        assert 0 <= rho < 2**k and 0 <= u < 2 ** (8 * layout.k_u)
        limbs = [int(v) for v in witness.limbs[i]]
        assert all(0 <= v < 256 for v in limbs)
        assert limbs[layout.k_rho - 1] < 2**layout.k_top
        assert sum(v << (8 * t) for t, v in enumerate(limbs[: layout.k_rho])) == rho
        assert sum(v << (8 * t) for t, v in enumerate(limbs[layout.k_rho :])) == u
    assert sum(witness.multiplicities) == m_pad * layout.limbs
    assert len(witness.multiplicities) == layout.table_size


def test_differential_against_requant() -> None:
    rng = random.Random(2024)
    for case in range(2000):
        m, n = rng.randint(1, 9), rng.randint(1, 9)
        k = rng.choice([1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 61, 62, rng.randint(1, 62)])
        multiplier = rng.choice([0, 1, M_MAX, rng.randrange(2**31), rng.randrange(2**16)])
        activation = rng.choice([Activation.RELU, Activation.NONE])
        weights = np.array(
            [[rng.randrange(-128, 128) for _ in range(n)] for _ in range(m)], dtype=np.int8
        )
        x = np.array([rng.randrange(-128, 128) for _ in range(n)], dtype=np.int8)
        dot = weights.astype(np.int64) @ x.astype(np.int64)
        if case % 4 == 0:  # accumulators at the edge of the accepted range
            biases = np.array(
                [rng.choice([2**31 - 1, -(2**31) + 1]) - int(d) for d in dot], dtype=np.int64
            )
        else:
            biases = np.array([rng.randrange(-(2**30), 2**30) for _ in range(m)], dtype=np.int64)
        z = [int(d) + int(b) for d, b in zip(dot, biases, strict=True)]
        y = [requant(zi, multiplier, k, activation) for zi in z]
        statement = InferenceStatement.from_values(
            chain_id=1,
            verifier=VERIFIER,
            model_id=MODEL_ID,
            partition_index=0,
            h_w=bytes(32),
            multiplier=multiplier,
            shift=k,
            activation=int(activation),
            x=x,
            y=y,
            job_id=case,
        )
        witness = build_inference_witness(weights.astype(np.int64), biases, statement)
        check_witness(statement, witness, z)


# --------------------------------------------------------------------------------------------------
# The spec's tagged lookup table does not bound the remainder exactly (see the module docstring)


def attack_witness(
    statement: InferenceStatement, honest: InferenceWitness, limbs_row0: list[int]
) -> InferenceWitness:
    """The honest witness with row 0's limbs replaced, multiplicities recounted for the table."""
    layout = statement.layout
    limbs = honest.limbs.copy()
    limbs[0, :] = [v % R for v in limbs_row0]
    counts = [0] * layout.table_size
    for i in range(layout.shape.m_pad):
        for t in range(layout.limbs):
            value = int(limbs[i, t])
            value = value - R if value > R // 2 else value
            counts[value + (256 if t == layout.k_rho - 1 else 0)] += 1
    return InferenceWitness(limbs, tuple(counts), (), ())


@pytest.mark.parametrize(
    ("x", "multiplier", "k", "claimed", "row"),
    [
        # These three were accepted by the first spec (one table 0..TS−1, top limb tagged +256).
        # z = 15, k = 4: t = 23 = 16·1 + 7, honest y = 1. Claim 2: ρ' = 7 − 16 = −9 (top limb −9,
        # looked up as 247, a byte).
        (5, 1, 4, 2, [-9] + [0] * 9),
        # z = 3, k = 16: t = 3·10923 + 2^15 = 65537 = 2^16·1 + 1, honest y = 1. Claim 0:
        # ρ' = 65537 = 257 + 256·255 (a "byte" limb 257, looked up as a tagged value).
        (1, 10923, 16, 0, [257, 255] + [0] * 7),
        # Same layer, claim 2: ρ' = 1 − 2^16 = 1 + 256·(−256) (top limb −256, looked up as 0).
        (1, 10923, 16, 2, [1, -256] + [0] * 7),
    ],
)
def test_remainder_out_of_range_rejected(
    setup: Setup, x: int, multiplier: int, k: int, claimed: int, row: list[int]
) -> None:
    weights = np.array([[3]], dtype=np.int8)
    biases = np.array([0], dtype=np.int64)
    commitment = commit_weights(setup, weights, biases, rng=random.Random(1))
    inputs = np.array([x], dtype=np.int8)
    honest_statement = statement_for(
        commitment, weights, biases, inputs, multiplier, k, Activation.NONE
    )
    assert honest_statement.y_values == (1,)
    honest = build_inference_witness(weights.astype(np.int64), biases, honest_statement)
    statement = with_y(honest_statement, 0, claimed)
    witness = attack_witness(statement, honest, row)
    proof = prove_inference_with_witness(
        setup, commitment, weights.astype(np.int64), biases, statement, witness
    )
    with pytest.raises(ProofRejected):
        verify_inference(setup, statement, proof)
