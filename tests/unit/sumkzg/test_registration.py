"""
Tests for sumkzg.registration: the weight commitment (layout, hiding, serialization), completeness
of the well-formedness proof over shapes and extreme values, statement tampering, every single-field
mutation of a proof, and a registrant who commits out-of-range weights.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pytest

from sumkzg.batch import ZkOpeningProof
from sumkzg.curve import G1_ENCODED_LEN, commit, decode_g1, encode_g1
from sumkzg.errors import EncodingError, ProofRejected, SetupError, WitnessError
from sumkzg.field import R, scalar_to_bytes
from sumkzg.hyperkzg import OpeningProof
from sumkzg.layout import Layout, LayoutError
from sumkzg.proof import RegistrationProof, weight_commitment_hash
from sumkzg.registration import (
    RegistrationWitness,
    WeightCommitment,
    build_registration_witness,
    commit_weight_chunks,
    commit_weights,
    draw_blinding,
    prove_registration,
    prove_registration_with_witness,
    verify_registration,
    weight_flat,
)
from sumkzg.setup import D, Setup, load_setup, toy_setup_for_tests
from sumkzg.statement import RegistrationStatement
from sumkzg.sumcheck import obj_array
from tests.unit.sumkzg.proof_fields import proof_field_offsets

VERIFIER = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
OTHER_VERIFIER = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"


@pytest.fixture(scope="module")
def setup() -> Setup:
    return load_setup()


def random_layer(
    m: int, n: int, seed: int, bias_range: int = 2**31
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int32]]:
    rng = np.random.default_rng(seed)
    weights = rng.integers(-128, 128, (m, n)).astype(np.int8)
    biases = rng.integers(-bias_range, bias_range, m).astype(np.int32)
    return weights, biases


@lru_cache(maxsize=32)
def committed(
    m: int, n: int, seed: int = 0
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int32], WeightCommitment]:
    weights, biases = random_layer(m, n, seed)
    commitment = commit_weights(load_setup(), weights, biases, rng=random.Random(seed))
    return weights, biases, commitment


def statement_for(commitment: WeightCommitment, **changes: object) -> RegistrationStatement:
    fields: dict[str, object] = {
        "chain_id": 31337,
        "verifier": VERIFIER,
        "h_w": commitment.h_w,
        "m": commitment.m,
        "n": commitment.n,
    }
    fields.update(changes)
    return RegistrationStatement(**fields)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------
# The commitment


def naive_w_prime(
    layout: Layout, weights: np.ndarray, biases: np.ndarray, blinding: list[int]
) -> list[int]:
    """
    W′ over the whole domain by the spec's words (§4): data column c (W's columns, then the bias)
    at layout column c + ⌊c/g⌋, chunk κ's blinding column at cpc·κ + g.
    """
    cpc = D // layout.m_pad
    g = cpc - 1

    def pos(c: int) -> int:
        return c + c // g

    table = [0] * layout.domain_size
    for i in range(layout.m):
        for j in range(layout.n):
            table[layout.flat(i, pos(j))] = int(weights[i, j]) % R
        table[layout.flat(i, pos(layout.n))] = int(biases[i]) % R
    for chunk in range(-(-(layout.n + 1) // g)):
        for i in range(layout.m_pad):
            table[layout.flat(i, cpc * chunk + g)] = blinding[chunk * layout.m_pad + i]
    return table


@pytest.mark.parametrize(("m", "n"), [(1, 1), (3, 5), (64, 64), (100, 40), (64, 200), (1000, 5)])
def test_commitment_chunks_are_the_spec_layout(setup: Setup, m: int, n: int) -> None:
    weights, biases, commitment = committed(m, n)
    layout = Layout.of(m, n)
    table = naive_w_prime(layout, weights, biases, list(commitment.blinding))
    assert all(v == 0 for v in table[layout.k_w * D :])
    for c in range(layout.k_w):
        expected = commit(setup, table[c * D : (c + 1) * D])
        assert encode_g1(expected) == commitment.chunks[c]
    assert commitment.h_w == weight_commitment_hash(commitment.chunk_points())
    assert len(commitment.blinding) == layout.k_w * layout.m_pad


def test_commitment_is_deterministic_only_with_a_test_rng(setup: Setup) -> None:
    weights, biases = random_layer(4, 6, 1)
    a = commit_weights(setup, weights, biases, rng=random.Random(7))
    b = commit_weights(setup, weights, biases, rng=random.Random(7))
    assert a == b
    c = commit_weights(setup, weights, biases)
    d = commit_weights(setup, weights, biases)
    # Fresh blinding from secrets: the same weights commit to unrelated chunks.
    assert len({a.h_w, c.h_w, d.h_w}) == 3
    assert all(0 < v < R for v in c.blinding)


def test_commitment_serialization_round_trips(setup: Setup) -> None:
    *_, commitment = committed(10, 32)
    assert WeightCommitment.from_json(commitment.to_json()) == commitment
    assert WeightCommitment.from_bytes(commitment.to_bytes()) == commitment
    data = commitment.to_bytes()
    with pytest.raises(EncodingError):
        WeightCommitment.from_bytes(data[:-1])
    with pytest.raises(EncodingError):
        WeightCommitment.from_bytes(b"x" + data[1:])
    with pytest.raises(EncodingError):
        replace(commitment, h_w=bytes(32))
    with pytest.raises(EncodingError):
        replace(commitment, blinding=(*commitment.blinding[:-1], R))
    with pytest.raises(EncodingError):
        replace(commitment, chunks=commitment.chunks[:-1])
    with pytest.raises(EncodingError):
        WeightCommitment.from_json('{"version": 2}')
    with pytest.raises(EncodingError):
        WeightCommitment.from_json("not json")


def test_commit_refuses_bad_inputs(setup: Setup) -> None:
    weights, biases = random_layer(3, 3, 2)
    with pytest.raises(WitnessError):
        commit_weights(setup, weights.astype(np.int16), biases)
    with pytest.raises(WitnessError):
        commit_weights(setup, weights, biases[:2])
    with pytest.raises(WitnessError):
        commit_weights(setup, weights, np.array([2**31, 0, 0], dtype=np.int64))
    with pytest.raises(SetupError):
        commit_weights(toy_setup_for_tests(5, 64), weights, biases)


# --------------------------------------------------------------------------------------------------
# Completeness

FAST_SHAPES = [(1, 1), (3, 3), (1, 64), (64, 1), (64, 64), (10, 32), (32, 64), (5, 300), (256, 256)]
SLOW_SHAPES = [(255, 255), (257, 257), (2048, 2), (2, 4000), (1000, 3), (100, 300)]


def prove_and_verify(setup: Setup, m: int, n: int, seed: int = 0) -> bytes:
    weights, biases, commitment = committed(m, n, seed)
    statement = statement_for(commitment)
    proof = prove_registration(setup, commitment, weights, biases, statement)
    assert len(proof) == RegistrationProof.byte_len(statement.layout)
    verify_registration(setup, statement, proof)
    return proof


@pytest.mark.parametrize(("m", "n"), FAST_SHAPES)
def test_completeness(setup: Setup, m: int, n: int) -> None:
    prove_and_verify(setup, m, n)


@pytest.mark.slow
@pytest.mark.parametrize(("m", "n"), SLOW_SHAPES)
def test_completeness_large(setup: Setup, m: int, n: int) -> None:
    prove_and_verify(setup, m, n)


@pytest.mark.parametrize(("m", "n"), [(2049, 2), (4096, 2)])
def test_more_than_2048_rows_refused(setup: Setup, m: int, n: int) -> None:
    # m' > D/2: no room for a blinding column in a chunk (docs/proof-system.md §3).
    weights, biases = random_layer(m, n, 0)
    with pytest.raises(LayoutError, match="D/2"):
        commit_weights(setup, weights, biases)


@pytest.mark.parametrize(
    ("weight", "bias"),
    [(-128, -(2**31)), (127, 2**31 - 1), (0, 0), (-1, -1), (-128, 2**31 - 1)],
)
def test_completeness_extreme_values(setup: Setup, weight: int, bias: int) -> None:
    weights = np.full((3, 5), weight, dtype=np.int8)
    weights[1, 2] = -weight - 1
    biases = np.array([bias, -bias - 1, 0], dtype=np.int64)
    commitment = commit_weights(setup, weights, biases, rng=random.Random(1))
    statement = statement_for(commitment)
    verify_registration(
        setup, statement, prove_registration(setup, commitment, weights, biases, statement)
    )


def test_witness_counts_every_lookup() -> None:
    weights, biases = random_layer(5, 7, 3)
    layout = Layout.of(5, 7)
    w = build_registration_witness(layout, weights.astype(np.int64), biases.astype(np.int64))
    assert sum(w.multiplicities) == layout.m_pad * (layout.n + 4)
    for i in range(layout.m_pad):
        b = int(biases[i]) if i < layout.m else 0
        limbs = [int(v) for v in w.bias_limbs[i]]
        assert all(0 <= v < 256 for v in limbs)
        assert sum(v << (8 * t) for t, v in enumerate(limbs)) == b + 2**31


def test_prover_refuses_mismatched_inputs(setup: Setup) -> None:
    weights, biases, commitment = committed(3, 3)
    *_, other = committed(3, 3, seed=1)
    with pytest.raises(WitnessError):
        prove_registration(setup, commitment, weights, biases, statement_for(other))
    with pytest.raises(WitnessError):
        prove_registration(setup, other, weights, biases, statement_for(commitment))
    with pytest.raises(WitnessError):
        prove_registration(setup, commitment, weights[:, :2], biases, statement_for(commitment))


# --------------------------------------------------------------------------------------------------
# Statement tampering


@pytest.fixture(scope="module")
def proof_64(setup: Setup) -> bytes:
    return prove_and_verify(setup, 64, 64)


@pytest.mark.parametrize(
    "changes",
    [
        {"chain_id": 1},
        {"verifier": OTHER_VERIFIER},
        {"m": 63},
        {"n": 63},
        {"m": 64, "n": 65},
    ],
)
def test_statement_tampering_rejected(
    setup: Setup, proof_64: bytes, changes: dict[str, object]
) -> None:
    *_, commitment = committed(64, 64)
    with pytest.raises(ProofRejected):
        verify_registration(setup, statement_for(commitment, **changes), proof_64)


def test_another_models_commitment_rejected(setup: Setup, proof_64: bytes) -> None:
    *_, commitment = committed(64, 64)
    *_, other = committed(64, 64, seed=1)
    # Another model's H_W with this proof: the chunks do not hash to it.
    with pytest.raises(ProofRejected, match="H_W"):
        verify_registration(setup, statement_for(other), proof_64)
    # Another model's H_W with its own C_W substituted into this proof.
    chunk_bytes = 128 * commitment.layout.k_w
    forged = b"".join(other.chunks) + proof_64[chunk_bytes:]
    with pytest.raises(ProofRejected):
        verify_registration(setup, statement_for(other), forged)


def test_swapped_chunks_rejected(setup: Setup, proof_64: bytes) -> None:
    *_, commitment = committed(64, 64)
    assert commitment.layout.k_w == 2
    swapped = commitment.chunks[1] + commitment.chunks[0] + proof_64[256:]
    with pytest.raises(ProofRejected, match="H_W"):
        verify_registration(setup, statement_for(commitment), swapped)
    # Even with an H_W that matches the swapped order.
    points = [decode_g1(commitment.chunks[1]), decode_g1(commitment.chunks[0])]
    statement = statement_for(commitment, h_w=weight_commitment_hash(points))
    with pytest.raises(ProofRejected):
        verify_registration(setup, statement, swapped)


# --------------------------------------------------------------------------------------------------
# Proof mutation


def field_offsets(layout: Layout) -> Iterator[tuple[str, int]]:
    """Every ("point" | "scalar", offset) of a registration proof of this shape."""
    round1 = layout.k_w + layout.k_b + 3  # C_W, C_BL, C_Mu, C_Lib, C_Mk
    scalars = 4 * layout.ell + 7
    return proof_field_offsets(
        round1, layout.k_hw + layout.k_b, scalars, RegistrationProof.byte_len(layout)
    )


def scalar_mutations(value: int) -> list[bytes]:
    out = [scalar_to_bytes((value + 1) % R), R.to_bytes(32, "big"), b"\xff" * 32]
    if value != 0:
        out.append(bytes(32))
    return out


def point_mutations(encoded: bytes, other: bytes) -> list[bytes]:
    out = []
    if encoded != bytes(G1_ENCODED_LEN):
        out.append(bytes(G1_ENCODED_LEN))
        bad_pad = bytearray(encoded)
        bad_pad[3] = 1
        out.append(bytes(bad_pad))
        off_curve = bytearray(encoded)
        off_curve[-1] ^= 1
        out.append(bytes(off_curve))
    if encoded != other:
        out.append(other)
    return out


def test_every_field_mutation_rejected(setup: Setup) -> None:
    proof = prove_and_verify(setup, 3, 5)
    *_, commitment = committed(3, 5)
    statement = statement_for(commitment)
    layout = statement.layout
    other = encode_g1(setup.g1[7])
    count = 0
    for kind, offset in field_offsets(layout):
        if kind == "scalar":
            value = int.from_bytes(proof[offset : offset + 32], "big")
            replacements = scalar_mutations(value)
            width = 32
        else:
            replacements = point_mutations(proof[offset : offset + G1_ENCODED_LEN], other)
            width = G1_ENCODED_LEN
        for new in replacements:
            mutated = proof[:offset] + new + proof[offset + width :]
            with pytest.raises(ProofRejected):
                verify_registration(setup, statement, mutated)
            count += 1
    assert count > 300


def test_truncated_and_extended_rejected(setup: Setup) -> None:
    proof = prove_and_verify(setup, 3, 3)
    *_, commitment = committed(3, 3)
    statement = statement_for(commitment)
    for bad in (proof[:-1], proof[:-32], proof[:-128], proof + b"\x00", proof + bytes(32), b""):
        with pytest.raises(EncodingError):
            verify_registration(setup, statement, bad)


def test_decoded_proof_round_trips(setup: Setup) -> None:
    proof = prove_and_verify(setup, 3, 3)
    layout = Layout.of(3, 3)
    decoded = RegistrationProof.from_bytes(proof, layout)
    decoded.check_shape(layout)
    assert decoded.to_bytes() == proof
    assert len(decoded.opening.to_bytes()) == ZkOpeningProof.BYTE_LEN
    assert len(decoded.opening.opening.to_bytes()) == OpeningProof.BYTE_LEN


# --------------------------------------------------------------------------------------------------
# A registrant who commits an out-of-range weight or bias cannot prove well-formedness


@pytest.mark.parametrize(("where", "value"), [("weight", 128), ("weight", -129), ("bias", 2**31)])
def test_out_of_range_commitment_rejected(setup: Setup, where: str, value: int) -> None:
    weights, biases = random_layer(3, 4, 9, bias_range=1000)
    w = weights.astype(np.int64)
    b = biases.astype(np.int64)
    if where == "weight":
        w[1, 2] = value
    else:
        b[2] = value
    layout = Layout.of(3, 4)
    rng = random.Random(3)
    blinding = draw_blinding(layout, rng=rng)
    chunks = commit_weight_chunks(setup, layout, weight_flat(layout, w, b), blinding)
    commitment = WeightCommitment(
        m=3,
        n=4,
        chunks=tuple(encode_g1(c) for c in chunks),
        h_w=weight_commitment_hash(chunks),
        blinding=tuple(blinding),
        setup_id=setup.setup_id,
    )
    # The best the cheater can do: bytes of the in-range part, multiplicities of what it can count.
    padded = np.zeros(layout.m_pad, dtype=np.int64)
    padded[:3] = b
    shifted = (padded + 2**31) % 2**32
    limbs = np.stack([(shifted >> (8 * t)) & 0xFF for t in range(4)], axis=1)
    counts = np.bincount(limbs.reshape(-1), minlength=256)
    values = np.zeros((layout.m_pad, 4), dtype=np.int64)
    values[:3] = w + 128
    in_range = values[(values >= 0) & (values < 256)]
    counts = counts + np.bincount(in_range, minlength=256)
    witness = RegistrationWitness(
        bias_limbs=obj_array(limbs), multiplicities=tuple(int(c) for c in counts)
    )
    statement = statement_for(commitment)
    proof = prove_registration_with_witness(setup, commitment, w, b, statement, witness)
    with pytest.raises(ProofRejected):
        verify_registration(setup, statement, proof)
