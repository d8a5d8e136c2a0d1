"""
Tests for sumkzg.batched (docs/proof-system-batch.md): completeness over batch sizes, shapes,
activations and shifts; the statement's refusals and byte layout; statement tampering (every
instance's input, output and job id, reordering, dropping and adding instances, the shared
fields); every single-field mutation of a proof; malicious witnesses (one instance's output off by
one, one instance's limbs taken from another, a round message changed); zero-knowledge hygiene (two
proofs share nothing but ``C_W``, every ``Limb``/``H`` chunk is blinded, no raw witness value
appears); and domain separation from the single-instance inference proof.
"""

from __future__ import annotations

import random
from dataclasses import replace
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pytest

from protocol.requant import Activation, qlinear
from sumkzg.batch import ZkMasks
from sumkzg.batched import (
    DOMAIN_BATCH,
    MAX_BATCH,
    BatchLayout,
    BatchProverHooks,
    BatchStatement,
    BatchTrace,
    BatchWitness,
    batch_proof_len,
    build_batch_witness,
    decode_batch_proof,
    limb_grid,
    prove_batch,
    prove_batch_with_witness,
    verify_batch,
)
from sumkzg.curve import G1_ENCODED_LEN, encode_g1
from sumkzg.errors import EncodingError, ProofRejected, WitnessError
from sumkzg.field import R, mle_eval, scalar_to_bytes
from sumkzg.inference import prove_inference, verify_inference
from sumkzg.layout import LayoutError
from sumkzg.registration import (
    WeightCommitment,
    commit_chunks,
    commit_weights,
    grid_flat,
    inverse_lookup,
    weight_flat,
)
from sumkzg.setup import SETUP_ID, Setup, load_setup
from sumkzg.statement import InferenceStatement, StatementError
from tests.unit.sumkzg.proof_fields import proof_field_offsets

VERIFIER = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
OTHER_VERIFIER = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
MODEL_ID = bytes.fromhex("11" * 32)
MULTIPLIER = 1 << 14
SHIFT = 24

Layer = tuple[npt.NDArray[np.int8], npt.NDArray[np.int32], WeightCommitment]


@pytest.fixture(scope="module")
def setup() -> Setup:
    return load_setup()


@lru_cache(maxsize=16)
def layer(m: int, n: int, seed: int = 0) -> Layer:
    rng = np.random.default_rng(seed)
    weights = rng.integers(-128, 128, (m, n)).astype(np.int8)
    biases = rng.integers(-(2**16), 2**16, m).astype(np.int32)
    commitment = commit_weights(load_setup(), weights, biases, rng=random.Random(seed))
    return weights, biases, commitment


def inputs(n: int, count: int, seed: int) -> list[npt.NDArray[np.int8]]:
    rng = np.random.default_rng(1000 + seed)
    return [rng.integers(-128, 128, n).astype(np.int8) for _ in range(count)]


def statement_for(
    lay: Layer,
    count: int,
    *,
    multiplier: int = MULTIPLIER,
    shift: int = SHIFT,
    activation: Activation = Activation.RELU,
    seed: int = 0,
) -> BatchStatement:
    weights, biases, commitment = lay
    xs = inputs(weights.shape[1], count, seed)
    ys = [qlinear(weights, biases, x, multiplier, shift, activation) for x in xs]
    return BatchStatement.from_values(
        chain_id=31337,
        verifier=VERIFIER,
        model_id=MODEL_ID,
        partition_index=3,
        h_w=commitment.h_w,
        multiplier=multiplier,
        shift=shift,
        activation=int(activation),
        xs=xs,
        ys=ys,
        job_ids=[7 + 11 * b for b in range(count)],
    )


def prove_and_verify(setup: Setup, lay: Layer, statement: BatchStatement) -> bytes:
    weights, biases, commitment = lay
    proof = prove_batch(setup, commitment, weights, biases, statement, rng=random.Random(5))
    assert len(proof) == batch_proof_len(statement)
    verify_batch(setup, statement, proof)
    return proof


@lru_cache(maxsize=4)
def proven(count: int) -> tuple[BatchStatement, bytes]:
    """A verified proof of ``count`` inferences of the 32×64 relu layer (shared by the tests)."""
    lay = layer(32, 64)
    statement = statement_for(lay, count, seed=count)
    return statement, prove_and_verify(load_setup(), lay, statement)


# --------------------------------------------------------------------------------------------------
# Completeness


@pytest.mark.parametrize("count", [1, 2, 3, 5, 16])
def test_completeness_32x64_relu(setup: Setup, count: int) -> None:
    statement, proof = proven(count)
    assert statement.batch == count
    assert len(proof) == batch_proof_len(statement)
    flat = [v for y in statement.y_values for v in y]
    assert any(0 < v < 127 for v in flat) and 0 in flat


def test_completeness_activation_none(setup: Setup) -> None:
    lay = layer(32, 64)
    statement = statement_for(lay, 3, activation=Activation.NONE, seed=9)
    assert any(v < 0 for y in statement.y_values for v in y)
    prove_and_verify(setup, lay, statement)


@pytest.mark.parametrize(("shift", "multiplier"), [(1, 1), (62, 2**31 - 1)])
def test_completeness_extreme_shifts(setup: Setup, shift: int, multiplier: int) -> None:
    lay = layer(32, 64)
    statement = statement_for(lay, 3, shift=shift, multiplier=multiplier, seed=shift)
    prove_and_verify(setup, lay, statement)


def test_completeness_clamped_both_ways(setup: Setup) -> None:
    """Large ``M``, small ``k``: most outputs clamp at 127 or at −128 (``σ = ±1``)."""
    lay = layer(32, 64)
    statement = statement_for(lay, 2, shift=8, multiplier=1 << 10, activation=Activation.NONE)
    flat = [v for y in statement.y_values for v in y]
    assert 127 in flat and -128 in flat
    prove_and_verify(setup, lay, statement)


def test_completeness_multi_weight_chunk(setup: Setup) -> None:
    """64×200: ``K_W = 4`` weight chunks; ``B = 5`` spans ``K_L = 2`` limb chunks."""
    lay = layer(64, 200, seed=1)
    statement = statement_for(lay, 5, seed=3)
    assert statement.layout.shape.k_w > 1 and statement.layout.k_l == 2
    prove_and_verify(setup, lay, statement)


def test_completeness_one_instance_per_chunk(setup: Setup) -> None:
    """``m' = 256``: ``cpc = L₂ = 16``, every limb chunk holds exactly one instance block."""
    lay = layer(200, 20, seed=2)
    statement = statement_for(lay, 3, seed=4)
    layout = statement.layout
    assert layout.shape.cpc == layout.l2 and layout.k_l == 3
    prove_and_verify(setup, lay, statement)


@pytest.mark.parametrize(("m", "n", "count"), [(1, 1, 2), (3, 5, 7), (2, 17, 64)])
def test_completeness_tiny_shapes(setup: Setup, m: int, n: int, count: int) -> None:
    """``m' = 2`` or 4 (``cpc`` of 2048 or 1024: every instance block in one limb chunk)."""
    lay = layer(m, n, seed=m + n)
    statement = statement_for(lay, count, seed=count, activation=Activation.NONE)
    assert statement.layout.k_l == 1
    prove_and_verify(setup, lay, statement)


def test_witness_against_the_runtime() -> None:
    """Random layers and requant parameters: every instance's limbs recombine to the ρ and u of
    docs/proof-system.md §5 for the runtime's y, and Mu counts every lookup of every instance."""
    rng = random.Random(2026)
    checked = 0
    for case in range(150):
        m, n, count = rng.randint(1, 9), rng.randint(1, 9), rng.randint(1, 5)
        gen = np.random.default_rng(case)
        weights = gen.integers(-128, 128, (m, n)).astype(np.int64)
        biases = gen.integers(-(2**31), 2**31, m).astype(np.int64)
        shift = rng.randint(1, 62)
        multiplier = rng.choice([0, 1, rng.randrange(2**31)])
        activation = rng.choice([Activation.NONE, Activation.RELU])
        xs = [gen.integers(-128, 128, n).astype(np.int8) for _ in range(count)]
        if any(np.any(np.abs(weights @ x.astype(np.int64) + biases) >= 2**31) for x in xs):
            continue
        ys = [
            qlinear(
                weights.astype(np.int8), biases.astype(np.int32), x, multiplier, shift, activation
            )
            for x in xs
        ]
        statement = BatchStatement.from_values(
            chain_id=1,
            verifier=VERIFIER,
            model_id=MODEL_ID,
            partition_index=0,
            h_w=bytes(32),
            multiplier=multiplier,
            shift=shift,
            activation=int(activation),
            xs=xs,
            ys=ys,
            job_ids=list(range(count)),
        )
        witness = build_batch_witness(weights, biases, statement)
        layout = statement.layout
        lo = 0 if activation == Activation.RELU else -128
        for b in range(count):
            z = weights @ xs[b].astype(np.int64) + biases
            for i in range(layout.shape.m_pad):
                zi = int(z[i]) if i < m else 0
                y = statement.y_values[b][i] if i < m else 0
                sigma = -1 if y == lo else 1 if y == 127 else 0
                rho, u = witness.remainders[b][i], witness.slacks[b][i]
                assert multiplier * zi + 2 ** (shift - 1) == 2**shift * (y + sigma * u) + rho
                limbs = [int(v) for v in witness.limbs[b][i]]
                assert all(0 <= v < 256 for v in limbs)
                assert limbs[layout.k_rho - 1] < 2**layout.k_top
                assert sum(v << (8 * t) for t, v in enumerate(limbs[: layout.k_rho])) == rho
                assert sum(v << (8 * t) for t, v in enumerate(limbs[layout.k_rho :])) == u
        assert sum(witness.multiplicities) == count * layout.shape.m_pad * layout.limbs
        checked += 1
    assert checked > 100


def test_completeness_max_batch(setup: Setup) -> None:
    lay = layer(32, 64)
    statement = statement_for(lay, MAX_BATCH, seed=64)
    prove_and_verify(setup, lay, statement)


@pytest.mark.slow
def test_completeness_max_batch_256_rows(setup: Setup) -> None:
    """64 blocks of ``m' = 256`` rows: 64 limb chunks (about 10 s, more on a loaded machine)."""
    lay = layer(256, 48, seed=6)
    statement = statement_for(lay, MAX_BATCH, seed=65)
    assert statement.layout.k_l == MAX_BATCH
    prove_and_verify(setup, lay, statement)


# --------------------------------------------------------------------------------------------------
# Layout and statement


def test_layout_sizes() -> None:
    layout = BatchLayout.of(32, 64, 24, 16)
    assert (layout.limbs, layout.l2, layout.shape.cpc) == (9, 16, 128)
    assert layout.batch_pad == 16 and layout.mu_b == 4
    assert layout.k_l == (15 * 16 + 9 - 1) // 128 + 1 == 2
    assert layout.domain.n_pad == 256 and layout.domain.ell == 13
    assert layout.limb_columns()[:10] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 16]
    assert layout.blinding_cells() == [(0, 9), (1, 9), (0, 137), (1, 137)]
    # B = 3: B′ = 4; the registration n′ = 128 already covers B′·L₂ = 64 columns.
    small = BatchLayout.of(32, 64, 24, 3)
    assert (small.batch_pad, small.mu_b, small.k_l, small.domain.ell) == (4, 2, 1, 12)
    assert small.domain.n_pad == small.shape.n_pad == 128


def test_layout_refusals() -> None:
    with pytest.raises(LayoutError, match="cpc"):
        BatchLayout.of(300, 8, 24, 1)  # m' = 512: cpc = 8 < L₂ = 16
    for count in (0, MAX_BATCH + 1):
        with pytest.raises(LayoutError):
            BatchLayout.of(32, 64, 24, count)
    with pytest.raises(LayoutError):
        BatchLayout.of(32, 64, 63, 1)


def test_statement_bytes_layout() -> None:
    statement, _ = proven(2)
    data = statement.to_bytes()
    head = (
        (31337).to_bytes(32, "big")
        + bytes.fromhex(VERIFIER[2:])
        + SETUP_ID
        + MODEL_ID
        + (3).to_bytes(32, "big")
        + statement.h_w
        + (32).to_bytes(4, "big")
        + (64).to_bytes(4, "big")
        + MULTIPLIER.to_bytes(4, "big")
        + bytes([SHIFT, 1])
        + (2).to_bytes(4, "big")
    )
    tail = (
        statement.xs[0]
        + statement.xs[1]
        + statement.ys[0]
        + statement.ys[1]
        + (7).to_bytes(32, "big")
        + (18).to_bytes(32, "big")
    )
    assert data == head + tail
    assert DOMAIN_BATCH == b"SUMKZG-ML/v2/batch"


def _fields(statement: BatchStatement) -> dict[str, object]:
    return {
        "chain_id": statement.chain_id,
        "verifier": statement.verifier,
        "model_id": statement.model_id,
        "partition_index": statement.partition_index,
        "h_w": statement.h_w,
        "multiplier": statement.multiplier,
        "shift": statement.shift,
        "activation": statement.activation,
        "xs": statement.xs,
        "ys": statement.ys,
        "job_ids": statement.job_ids,
    }


def test_statement_refusals() -> None:
    statement, _ = proven(3)
    base = _fields(statement)
    bad_cases: list[dict[str, object]] = [
        {"xs": (), "ys": (), "job_ids": ()},  # B = 0
        {
            "xs": statement.xs * 22,
            "ys": statement.ys * 22,
            "job_ids": tuple(range(MAX_BATCH + 1)),
        },
        {"ys": statement.ys[:2]},
        {"job_ids": statement.job_ids[:2]},
        {"xs": statement.xs[:2]},
        {"job_ids": (1, 2, 1)},
        {"job_ids": (1, 2, 2**256)},
        {"ys": (statement.ys[0], bytes([255]) + statement.ys[1][1:], statement.ys[2])},  # relu
        {"xs": (statement.xs[0], statement.xs[1][:-1], statement.xs[2])},
        {"shift": 0},
        {"activation": 2},
        {"multiplier": 2**31},
    ]
    for changes in bad_cases:
        with pytest.raises(StatementError):
            BatchStatement(m=statement.m, n=statement.n, **{**base, **changes})  # type: ignore[arg-type]
    with pytest.raises(StatementError):
        BatchStatement(
            m=statement.m,
            n=statement.n,
            **{  # type: ignore[arg-type]
                **base,
                "xs": (statement.xs[0],) * 65,
                "ys": (statement.ys[0],) * 65,
                "job_ids": tuple(range(65)),
            },
        )
    with pytest.raises(StatementError, match="cpc"):  # m' = 512 rows: cpc = 8 < L₂
        BatchStatement.from_values(
            **{**base, "xs": [[0] * 8], "ys": [[0] * 300], "job_ids": [1]}  # type: ignore[arg-type]
        )
    with pytest.raises(StatementError):
        BatchStatement.from_values(**{**base, "xs": [], "ys": [], "job_ids": []})  # type: ignore[arg-type]
    # from_values and the raw constructor agree.
    again = BatchStatement.from_values(
        **{  # type: ignore[arg-type]
            **base,
            "xs": [list(x) for x in statement.x_values],
            "ys": [np.array(y, dtype=np.int8) for y in statement.y_values],
        }
    )
    assert again == statement and again.to_bytes() == statement.to_bytes()


def test_prover_refuses_one_wrong_output(setup: Setup) -> None:
    weights, biases, commitment = lay = layer(32, 64)
    statement = statement_for(lay, 3, seed=3)
    for b in range(3):
        y = bytearray(statement.ys[b])
        y[5] = (y[5] + 1) % 128
        ys = tuple(bytes(y) if c == b else statement.ys[c] for c in range(3))
        with pytest.raises(WitnessError, match=f"instance {b}"):
            prove_batch(setup, commitment, weights, biases, replace(statement, ys=ys))


def test_prover_refuses_another_commitment(setup: Setup) -> None:
    weights, biases, _ = layer(32, 64)
    _, _, other = layer(32, 64, seed=9)
    statement, _ = proven(2)
    with pytest.raises(WitnessError):
        prove_batch(setup, other, weights, biases, statement)


# --------------------------------------------------------------------------------------------------
# Statement tampering


def _bump(raw: bytes, index: int) -> bytes:
    out = bytearray(raw)
    out[index] = (out[index] + 1) % 128
    return bytes(out)


def tampered(statement: BatchStatement) -> list[tuple[str, BatchStatement]]:
    count = statement.batch
    cases: list[tuple[str, BatchStatement]] = []
    for b in range(count):
        xs = tuple(_bump(x, 1) if c == b else x for c, x in enumerate(statement.xs))
        ys = tuple(_bump(y, 2) if c == b else y for c, y in enumerate(statement.ys))
        ids = tuple(j + 1000 if c == b else j for c, j in enumerate(statement.job_ids))
        cases += [
            (f"x_{b}", replace(statement, xs=xs)),
            (f"y_{b}", replace(statement, ys=ys)),
            (f"job_{b}", replace(statement, job_ids=ids)),
        ]
    swapped_ys = (statement.ys[1], statement.ys[0], *statement.ys[2:])
    swapped_ids = (statement.job_ids[1], statement.job_ids[0], *statement.job_ids[2:])
    swapped_all = (statement.xs[1], statement.xs[0], *statement.xs[2:])
    cases += [
        ("swap outputs", replace(statement, ys=swapped_ys)),
        ("swap job ids", replace(statement, job_ids=swapped_ids)),
        ("swap inputs", replace(statement, xs=swapped_all)),
        (
            "drop last",
            replace(
                statement,
                xs=statement.xs[:-1],
                ys=statement.ys[:-1],
                job_ids=statement.job_ids[:-1],
            ),
        ),
        (
            "drop first",
            replace(
                statement, xs=statement.xs[1:], ys=statement.ys[1:], job_ids=statement.job_ids[1:]
            ),
        ),
        (
            "add one",
            replace(
                statement,
                xs=(*statement.xs, statement.xs[0]),
                ys=(*statement.ys, statement.ys[0]),
                job_ids=(*statement.job_ids, 999),
            ),
        ),
        ("H_W", replace(statement, h_w=layer(32, 64, seed=9)[2].h_w)),
        ("M", replace(statement, multiplier=statement.multiplier + 1)),
        ("k+1", replace(statement, shift=statement.shift + 1)),
        ("k-1", replace(statement, shift=statement.shift - 1)),
        ("activation", replace(statement, activation=0)),
        ("chain", replace(statement, chain_id=1)),
        ("verifier", replace(statement, verifier=OTHER_VERIFIER)),
        ("model", replace(statement, model_id=bytes(32))),
        ("partition", replace(statement, partition_index=4)),
    ]
    return cases


@pytest.mark.parametrize("count", [3, 16])
def test_tampered_statement_rejected(setup: Setup, count: int) -> None:
    statement, proof = proven(count)
    assert len(set(statement.ys[:2])) == 2
    for name, other in tampered(statement):
        with pytest.raises(ProofRejected):
            verify_batch(setup, other, proof)
            pytest.fail(f"accepted after tampering {name}")


# --------------------------------------------------------------------------------------------------
# Byte mutations


def field_offsets(statement: BatchStatement) -> list[tuple[str, int]]:
    layout = statement.layout
    round1 = layout.shape.k_w + layout.k_l + 4  # C_W, C_Limb, C_Mu, C_R, C_Lib, C_Mk
    scalars = 4 * layout.domain.ell + 6
    return list(proof_field_offsets(round1, layout.k_l, scalars, batch_proof_len(statement)))


def test_every_field_mutation_rejected(setup: Setup) -> None:
    statement, proof = proven(16)
    other = encode_g1(setup.g1[7])
    count = 0
    for kind, offset in field_offsets(statement):
        width = 32 if kind == "scalar" else G1_ENCODED_LEN
        old = proof[offset : offset + width]
        if kind == "scalar":
            value = int.from_bytes(old, "big")
            replacements = [scalar_to_bytes((value + 1) % R), R.to_bytes(32, "big"), b"\xff" * 32]
            if value:
                replacements.append(bytes(32))
        else:
            replacements = [other] if old != other else []
            bad_pad, off_curve = bytearray(old), bytearray(old)
            bad_pad[70] = 1
            off_curve[-1] ^= 1
            replacements += [bytes(G1_ENCODED_LEN), bytes(bad_pad), bytes(off_curve)]
        for new in replacements:
            with pytest.raises(ProofRejected):
                verify_batch(setup, statement, proof[:offset] + new + proof[offset + width :])
            count += 1
    assert count > 300


def test_truncated_and_extended_rejected(setup: Setup) -> None:
    statement, proof = proven(3)
    for bad in (proof[:-1], proof[:-32], proof[:-128], proof + b"\x00", proof + bytes(128), b""):
        with pytest.raises(EncodingError):
            verify_batch(setup, statement, bad)


def test_decoded_proof_round_trips() -> None:
    statement, proof = proven(16)
    decoded = decode_batch_proof(proof, statement)
    assert len(decoded.c_limb) == len(decoded.c_h) == statement.layout.k_l == 2
    assert len(decoded.rounds) == statement.layout.domain.ell
    assert decoded.to_bytes() == proof


# --------------------------------------------------------------------------------------------------
# Malicious witnesses


def forced_proof(
    setup: Setup,
    statement: BatchStatement,
    witness: BatchWitness,
    hooks: BatchProverHooks | None = None,
) -> bytes:
    weights, biases, commitment = layer(32, 64)
    return prove_batch_with_witness(
        setup,
        commitment,
        weights.astype(np.int64),
        biases.astype(np.int64),
        statement,
        witness,
        hooks=hooks,
        rng=random.Random(8),
    )


def recount(statement: BatchStatement, limbs: npt.NDArray[np.object_]) -> tuple[int, ...]:
    """The multiplicities of ``limbs`` (bytes; top remainder limbs in the shifted sub-table)."""
    layout = statement.layout
    counts = [0] * layout.table_size
    for b in range(layout.batch):
        for row in limbs[b]:
            for t, v in enumerate(row):
                counts[int(v) + (256 if t == layout.k_rho - 1 else 0)] += 1
    return tuple(counts)


def test_one_wrong_output_forced_proof_rejected(setup: Setup) -> None:
    """One output of instance 1 off by one, the others honest: the honest witness, and one whose
    remainder absorbs the change (a top limb out of range), are both rejected."""
    statement, _ = proven(3)
    weights, biases, _ = layer(32, 64)
    witness = build_batch_witness(weights.astype(np.int64), biases.astype(np.int64), statement)
    y = bytearray(statement.ys[1])
    row = next(i for i, v in enumerate(y) if 0 < v < 126)  # σ = 0 before and after
    y[row] += 1
    false = replace(statement, ys=(statement.ys[0], bytes(y), statement.ys[2]))
    with pytest.raises(ProofRejected):
        verify_batch(setup, false, forced_proof(setup, false, witness))
    # ρ' = ρ − 2^k keeps the row identity exact in F; its top limb is no longer in range.
    layout = statement.layout
    limbs = np.array(witness.limbs, dtype=object)
    top = layout.k_rho - 1
    limbs[1, row, top] = (int(limbs[1, row, top]) - (1 << layout.k_top)) % R
    counts = list(recount(statement, np.array(witness.limbs, dtype=object)))
    adjusted = replace(witness, limbs=limbs, multiplicities=tuple(counts))
    with pytest.raises(ProofRejected):
        verify_batch(setup, false, forced_proof(setup, false, adjusted))


def test_limbs_of_another_instance_rejected(setup: Setup) -> None:
    statement, _ = proven(3)
    weights, biases, _ = layer(32, 64)
    witness = build_batch_witness(weights.astype(np.int64), biases.astype(np.int64), statement)
    for source, target in ((0, 1), (2, 0)):
        limbs = np.array(witness.limbs, dtype=object)
        limbs[target] = limbs[source]
        assert not np.array_equal(limbs, witness.limbs)
        forged = replace(witness, limbs=limbs, multiplicities=recount(statement, limbs))
        with pytest.raises(ProofRejected):
            verify_batch(setup, statement, forced_proof(setup, statement, forged))
    # The honest witness through the same path verifies.
    verify_batch(setup, statement, forced_proof(setup, statement, witness))


def test_changed_round_message_rejected(setup: Setup) -> None:
    statement, _ = proven(3)
    weights, biases, _ = layer(32, 64)
    witness = build_batch_witness(weights.astype(np.int64), biases.astype(np.int64), statement)

    def message(t: int, evals: list[int], claim: int) -> list[int]:
        if t != 4:
            return evals
        # Keep s(0) + s(1) = claim, change the polynomial.
        return [(evals[0] + 1) % R, (evals[1] - 1) % R, evals[2], evals[3]]

    proof = forced_proof(setup, statement, witness, BatchProverHooks(round_message=message))
    with pytest.raises(ProofRejected):
        verify_batch(setup, statement, proof)


def test_zero_mask_refused_by_the_prover(setup: Setup) -> None:
    statement, _ = proven(2)
    weights, biases, _ = layer(32, 64)
    witness = build_batch_witness(weights.astype(np.int64), biases.astype(np.int64), statement)

    def zero_r(
        masks: ZkMasks, limb: list[int], h: list[int], mu: list[int], r: list[int]
    ) -> tuple[ZkMasks, list[int], list[int], list[int], list[int]]:
        return masks, limb, h, mu, [0] * len(r)

    with pytest.raises(WitnessError, match="C_R"):
        forced_proof(setup, statement, witness, BatchProverHooks(masks=zero_r))


# --------------------------------------------------------------------------------------------------
# Zero-knowledge hygiene


def _sections(statement: BatchStatement, proof: bytes) -> list[bytes]:
    """Every field of the proof except ``C_W``, as bytes."""
    k_w = statement.layout.shape.k_w
    out = []
    for kind, offset in field_offsets(statement):
        width = 32 if kind == "scalar" else G1_ENCODED_LEN
        if offset >= k_w * G1_ENCODED_LEN:
            out.append(proof[offset : offset + width])
    return out


def test_two_proofs_of_one_statement_share_only_c_w(setup: Setup) -> None:
    weights, biases, commitment = lay = layer(32, 64)
    statement = statement_for(lay, 3, seed=3)
    a = prove_batch(setup, commitment, weights, biases, statement)
    b = prove_batch(setup, commitment, weights, biases, statement)
    verify_batch(setup, statement, a)
    verify_batch(setup, statement, b)
    k_w = statement.layout.shape.k_w * G1_ENCODED_LEN
    assert a[:k_w] == b[:k_w]
    shared = set(_sections(statement, a)) & set(_sections(statement, b))
    assert not shared


def test_every_limb_and_inverse_chunk_is_blinded(setup: Setup) -> None:
    """Each chunk of ``C_Limb``/``C_H`` differs from the commitment of the bare grid (no blinding
    entries) recomputed with the proof's own ``α``, ``λ``: a candidate witness cannot be tested
    against any chunk."""
    statement, _ = proven(16)
    layout = statement.layout
    weights, biases, _ = layer(32, 64)
    witness = build_batch_witness(weights.astype(np.int64), biases.astype(np.int64), statement)
    traces: list[BatchTrace] = []
    proof = forced_proof(setup, statement, witness, BatchProverHooks(trace=traces.append))
    verify_batch(setup, statement, proof)
    decoded = decode_batch_proof(proof, statement)
    alpha, lam = traces[0].challenges.alpha, traces[0].challenges.lam
    bare = limb_grid(layout, witness.limbs)
    bare_limb = commit_chunks(setup, grid_flat(bare), layout.k_l)
    lookups = bare.copy()
    for b in range(layout.batch):
        col = layout.limb_column(b, layout.k_rho - 1)
        lookups[:, col] = (lookups[:, col] + lam) % R
    h = inverse_lookup(lookups, alpha).values
    free = [c for c in range(layout.width) if c not in set(layout.limb_columns())]
    h[:, free] = 0
    bare_h = commit_chunks(setup, grid_flat(h), layout.k_l)
    assert layout.k_l == 2
    for kappa in range(layout.k_l):
        assert decoded.c_limb[kappa] != bare_limb[kappa]
        assert decoded.c_h[kappa] != bare_h[kappa]


def test_proof_bytes_hold_no_raw_witness(setup: Setup) -> None:
    statement, _ = proven(3)
    layout = statement.layout
    shape = layout.shape
    weights, biases, commitment = layer(32, 64)
    witness = build_batch_witness(weights.astype(np.int64), biases.astype(np.int64), statement)
    traces: list[BatchTrace] = []
    proof = forced_proof(setup, statement, witness, BatchProverHooks(trace=traces.append))
    values: set[int] = set()
    for b, x in enumerate(statement.x_values):
        z = weights.astype(np.int64) @ np.array(x, dtype=np.int64) + biases
        for z_i in z:
            t = int(z_i) * statement.multiplier + (1 << (statement.shift - 1))
            values |= {int(z_i), t >> statement.shift}
        values |= set(witness.remainders[b]) | set(witness.slacks[b])
    values |= set(witness.multiplicities)
    values |= {int(v) for v in np.asarray(witness.limbs).reshape(-1)}
    # The true W̃′(u) (blinding columns included) and its unblinded part.
    point = traces[0].point
    flat = [
        int(v) % R for v in weight_flat(shape, weights.astype(np.int64), biases.astype(np.int64))
    ]
    flat += [0] * (layout.domain.domain_size - len(flat))
    unblinded = mle_eval(flat, point)
    for kappa, col in enumerate(shape.blinding_columns()):
        for i in range(shape.m_pad):
            flat[shape.flat(i, int(col))] = commitment.blinding[kappa * shape.m_pad + i]
    values |= {unblinded, mle_eval(flat, point)}
    assert len(values) > 100
    for value in values:
        assert scalar_to_bytes(value % R) not in proof, value
    assert traces[0].evals[0] != mle_eval(flat, point)


def test_batch_and_inference_proofs_are_domain_separated(setup: Setup) -> None:
    """A B = 1 batch proof verifies; a single-instance v2 inference proof of the same job does not
    verify as a batch (another domain and statement), nor the batch proof as an inference proof."""
    weights, biases, commitment = layer(32, 64)
    statement, batch_proof = proven(1)
    single = InferenceStatement.from_values(
        chain_id=statement.chain_id,
        verifier=statement.verifier,
        model_id=statement.model_id,
        partition_index=statement.partition_index,
        h_w=statement.h_w,
        multiplier=statement.multiplier,
        shift=statement.shift,
        activation=statement.activation,
        x=statement.x_values[0],
        y=statement.y_values[0],
        job_id=statement.job_ids[0],
    )
    assert single == statement.instances[0]
    inference_proof = prove_inference(setup, commitment, weights, biases, single)
    verify_inference(setup, single, inference_proof)
    verify_batch(setup, statement, batch_proof)
    with pytest.raises(ProofRejected):
        verify_batch(setup, statement, inference_proof)
    with pytest.raises(ProofRejected):
        verify_inference(setup, single, batch_proof)
