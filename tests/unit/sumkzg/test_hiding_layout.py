"""
The hiding layout of ``W′`` (docs/proof-system.md §3, §4): every weight chunk holds its own
blinding column, so every chunk commitment ``C_W[κ]`` is perfectly hiding.

A first version put a single blinding column after the bias column. The layout is column-major and
a chunk is ``D`` consecutive flat indices, so that column lay in the last chunk only and every other
chunk commitment was a deterministic commitment of weight data: anyone holding two candidate models
could tell which one a node serves by recomputing ``C_W[0]``. These tests pin the fix: the shape of
the layout (every chunk has a blinding column and no data column is one), fresh blinding in every
chunk, proofs over many chunks, the refusal of ``m > 2048`` and of version 1 commitment documents.
"""

from __future__ import annotations

import dataclasses
import json
import random
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pytest

from protocol.requant import Activation, qlinear
from sumkzg.curve import encode_g1, msm
from sumkzg.errors import EncodingError, ProofRejected
from sumkzg.field import R, scalar_to_bytes
from sumkzg.inference import prove_inference, verify_inference
from sumkzg.layout import (
    Layout,
    LayoutError,
    delta_n_column,
    sel_w_column,
    x_column,
)
from sumkzg.proof import weight_commitment_hash
from sumkzg.registration import (
    WeightCommitment,
    commit_chunks,
    commit_weight_chunks,
    commit_weights,
    draw_blinding,
    prove_registration,
    verify_registration,
    weight_flat,
)
from sumkzg.setup import D, Setup, load_setup
from sumkzg.statement import InferenceStatement, RegistrationStatement, StatementError

VERIFIER = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
MODEL_ID = bytes.fromhex("22" * 32)

HIDING_SHAPES = [(256, 256), (100, 300), (2048, 5), (1, 4000), (3, 3), (64, 200), (1, 65534)]


@pytest.fixture(scope="module")
def setup() -> Setup:
    return load_setup()


def random_layer(m: int, n: int, seed: int) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int64]]:
    rng = np.random.default_rng(seed)
    weights = rng.integers(-128, 128, (m, n)).astype(np.int8)
    biases = rng.integers(-(2**20), 2**20, m).astype(np.int64)
    return weights, biases


@lru_cache(maxsize=8)
def committed(
    m: int, n: int, seed: int = 0
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int64], WeightCommitment]:
    weights, biases = random_layer(m, n, seed)
    return weights, biases, commit_weights(load_setup(), weights, biases, rng=random.Random(seed))


# --------------------------------------------------------------------------------------------------
# (1) The layout: a blinding column in every weight chunk, never on a data column


@pytest.mark.parametrize(("m", "n"), HIDING_SHAPES)
def test_every_weight_chunk_has_a_blinding_column(m: int, n: int) -> None:
    layout = Layout.of(m, n)
    cpc = D // layout.m_pad
    g = cpc - 1
    assert cpc >= 2 and (layout.cpc, layout.g) == (cpc, g)
    assert layout.k_w == -(-(n + 1) // g) == layout.k_hw
    positions = [layout.pos(c) for c in range(n + 1)]
    assert positions == [c + c // g for c in range(n + 1)] == layout.positions().tolist()
    assert positions == sorted(set(positions))
    blinding = [layout.blinding_column(k) for k in range(layout.k_w)]
    assert blinding == layout.blinding_columns().tolist()
    # Chunk κ is the layout columns [cpc·κ, cpc·(κ+1)) (flat indices [κ·D, (κ+1)·D)); its last
    # column is its blinding column and no data column is a blinding column.
    assert not set(positions) & set(blinding)
    for k, column in enumerate(blinding):
        assert column == cpc * (k + 1) - 1
        assert layout.flat(0, column) == (k + 1) * D - layout.m_pad
        assert layout.flat(layout.m_pad - 1, column) == (k + 1) * D - 1
    # Every data column lies in a weight chunk, and every weight chunk holds a data column.
    chunks_of_data = {p // cpc for p in positions}
    assert chunks_of_data == set(range(layout.k_w))
    assert positions[-1] < layout.weight_columns == cpc * layout.k_w <= layout.n_pad
    # The public vectors the prover uses sit at the same columns.
    assert [j for j, v in enumerate(sel_w_column(layout)) if v] == positions[:-1]
    assert [j for j, v in enumerate(delta_n_column(layout)) if v] == [positions[-1]]
    x = list(range(1, n + 1))
    column = x_column(layout, x)
    assert [column[p] for p in positions] == [*x, 1]
    assert all(column[b] == 0 for b in blinding if b < len(column))
    assert sum(1 for v in column if v) == n + 1
    with pytest.raises(LayoutError):
        layout.pos(n + 1)
    with pytest.raises(LayoutError):
        layout.blinding_column(layout.k_w)


@pytest.mark.parametrize(("m", "n"), [(256, 256), (100, 300), (2048, 5), (1, 4000), (3, 3)])
def test_weight_flat_puts_w_and_b_exactly_at_their_columns(m: int, n: int) -> None:
    layout = Layout.of(m, n)
    weights, biases = random_layer(m, n, m + n)
    flat = weight_flat(layout, weights.astype(np.int64), biases)
    assert flat.shape == (layout.k_w * D,)
    grid = flat.reshape(layout.weight_columns, layout.m_pad)  # [j, i]
    expected = np.zeros_like(grid)
    for c in range(n):
        expected[c + c // layout.g, :m] = weights[:, c]
    expected[n + n // layout.g, :m] = biases
    assert np.array_equal(grid, expected)
    # The blinding columns (and the padding rows) of the integer part are 0.
    assert not grid[layout.blinding_columns()].any()
    assert not grid[:, m:].any()


# --------------------------------------------------------------------------------------------------
# (2), (3) Every chunk commitment is blinded


def test_every_chunk_changes_when_recommitted(setup: Setup) -> None:
    weights, biases = random_layer(64, 200, 1)
    layout = Layout.of(64, 200)
    assert layout.k_w == 4
    a = commit_weights(setup, weights, biases)
    b = commit_weights(setup, weights, biases)
    assert len(a.blinding) == len(b.blinding) == layout.k_w * layout.m_pad
    for k in range(layout.k_w):
        assert a.chunks[k] != b.chunks[k], k
        block = slice(k * layout.m_pad, (k + 1) * layout.m_pad)
        assert a.blinding[block] != b.blinding[block]
    assert a.h_w != b.h_w


def test_chunks_differ_only_through_data_under_the_same_blinding(setup: Setup) -> None:
    layout = Layout.of(64, 200)
    w_a, b_a = random_layer(64, 200, 2)
    w_b, b_b = random_layer(64, 200, 3)
    blinding = draw_blinding(layout, rng=random.Random(4))
    flat_a = weight_flat(layout, w_a.astype(np.int64), b_a)
    flat_b = weight_flat(layout, w_b.astype(np.int64), b_b)
    c_a = commit_weight_chunks(setup, layout, flat_a, blinding)
    c_b = commit_weight_chunks(setup, layout, flat_b, blinding)
    difference = commit_chunks(setup, flat_a - flat_b, layout.k_w)
    for k in range(layout.k_w):
        assert c_a[k] != c_b[k]
        assert c_a[k] - c_b[k] == difference[k]
        # Each chunk is its data plus its own blinding column, the chunk's last m' entries.
        block = blinding[k * layout.m_pad : (k + 1) * layout.m_pad]
        bases = list(setup.g1[D - layout.m_pad : D])
        assert c_a[k] == commit_chunks(setup, flat_a, layout.k_w)[k] + msm(bases, block)


@pytest.mark.parametrize(("m", "n"), [(64, 200), (256, 256), (2048, 5)])
def test_no_chunk_is_the_deterministic_data_commitment(setup: Setup, m: int, n: int) -> None:
    # The attack on the first layout: recompute C_W[κ] from a candidate model. With every chunk
    # blinded it matches neither the served model nor another candidate.
    weights, biases = random_layer(m, n, 5)
    other_weights, other_biases = random_layer(m, n, 6)
    layout = Layout.of(m, n)
    commitment = commit_weights(setup, weights, biases)
    unblinded = commit_chunks(
        setup, weight_flat(layout, weights.astype(np.int64), biases), layout.k_w
    )
    other = commit_chunks(
        setup, weight_flat(layout, other_weights.astype(np.int64), other_biases), layout.k_w
    )
    for k in range(layout.k_w):
        assert commitment.chunks[k] != encode_g1(unblinded[k]), k
        assert commitment.chunks[k] != encode_g1(other[k]), k
    assert all(0 < v < R for v in commitment.blinding)


# --------------------------------------------------------------------------------------------------
# (4) m > 2048 is refused


@pytest.mark.parametrize("m", [2049, 4096])
def test_more_than_2048_rows_refused(setup: Setup, m: int) -> None:
    with pytest.raises(LayoutError, match="D/2"):
        Layout.of(m, 1)
    weights, biases = random_layer(m, 2, 7)
    with pytest.raises(LayoutError):
        commit_weights(setup, weights, biases)
    with pytest.raises(StatementError, match="D/2"):
        RegistrationStatement(chain_id=1, verifier=VERIFIER, h_w=bytes(32), m=m, n=2)
    assert Layout.of(2048, 1).cpc == 2


# --------------------------------------------------------------------------------------------------
# (5) Proofs over many chunks


def inference_statement(
    commitment: WeightCommitment,
    weights: npt.NDArray[np.int8],
    biases: npt.NDArray[np.int64],
    seed: int,
) -> InferenceStatement:
    rng = np.random.default_rng(seed)
    n = weights.shape[1]
    x = rng.integers(-128, 128, n).astype(np.int8)
    z = weights.astype(np.int64) @ x.astype(np.int64) + biases
    shift = 16
    multiplier = min(2**31 - 1, int(100 * 2**shift // max(1, int(np.abs(z).max()))) + 1)
    y = qlinear(weights, biases, x, multiplier, shift, Activation.NONE)
    return InferenceStatement.from_values(
        chain_id=31337,
        verifier=VERIFIER,
        model_id=MODEL_ID,
        partition_index=1,
        h_w=commitment.h_w,
        multiplier=multiplier,
        shift=shift,
        activation=int(Activation.NONE),
        x=x,
        y=y,
        job_id=seed,
    )


@pytest.mark.parametrize(("m", "n"), [(64, 200), (256, 256), (300, 40), (2048, 5)])
def test_multi_chunk_proofs_verify_and_tampering_is_rejected(setup: Setup, m: int, n: int) -> None:
    weights, biases, commitment = committed(m, n)
    layout = commitment.layout
    assert layout.k_w > 1
    registration = RegistrationStatement(
        chain_id=31337, verifier=VERIFIER, h_w=commitment.h_w, m=m, n=n
    )
    verify_registration(
        setup,
        registration,
        prove_registration(setup, commitment, weights, biases, registration),
    )
    statement = inference_statement(commitment, weights, biases, seed=m + n)
    proof = prove_inference(setup, commitment, weights, biases, statement)
    verify_inference(setup, statement, proof)
    # Every x_j (in every chunk, on both sides of each chunk boundary) and a spread of y_i.
    for j in range(n):
        x = bytearray(statement.x)
        x[j] = (x[j] + 1) % 256
        with pytest.raises(ProofRejected):
            verify_inference(setup, dataclasses.replace(statement, x=bytes(x)), proof)
    for i in sorted({0, 1, m // 2, m - 1}):
        y = bytearray(statement.y)
        y[i] = (y[i] + 1) % 256
        with pytest.raises(ProofRejected):
            verify_inference(setup, dataclasses.replace(statement, y=bytes(y)), proof)


def test_a_chunk_without_its_blinding_does_not_open(setup: Setup) -> None:
    # The prover needs every chunk's blinding: a commitment with one chunk's blinding replaced
    # (same chunks and H_W) yields a proof the verifier rejects.
    weights, biases, commitment = committed(64, 200)
    layout = commitment.layout
    blinding = list(commitment.blinding)
    blinding[2 * layout.m_pad] = (blinding[2 * layout.m_pad] + 1) % R
    wrong = dataclasses.replace(commitment, blinding=tuple(blinding))
    statement = inference_statement(commitment, weights, biases, seed=9)
    proof = prove_inference(setup, wrong, weights, biases, statement)
    with pytest.raises(ProofRejected):
        verify_inference(setup, statement, proof)


# --------------------------------------------------------------------------------------------------
# The commitment document: version 2, K_W·m' blinding entries; version 1 refused


def test_commitment_documents_are_version_2(setup: Setup) -> None:
    *_, commitment = committed(64, 200)
    layout = commitment.layout
    doc = json.loads(commitment.to_json())
    assert doc["version"] == 2
    assert len(doc["blinding"]) == layout.k_w * layout.m_pad
    assert WeightCommitment.from_json(commitment.to_json()) == commitment
    data = commitment.to_bytes()
    assert data.startswith(b"SUMKZG-ML/v1/weight-commitment/2")
    assert WeightCommitment.from_bytes(data) == commitment
    # A single blinding column is not a valid commitment any more.
    with pytest.raises(EncodingError, match="blinding entries"):
        dataclasses.replace(commitment, blinding=commitment.blinding[: layout.m_pad])


def test_version_1_documents_are_refused_with_a_clear_error(setup: Setup) -> None:
    # A version 1 document of the old layout: one blinding column of m' entries.
    weights, biases = random_layer(5, 7, 8)
    layout = Layout.of(5, 7)
    points = [setup.g1[1]]
    v1 = {
        "version": 1,
        "setup_id": "0x" + setup.setup_id.hex(),
        "m": 5,
        "n": 7,
        "h_w": "0x" + weight_commitment_hash(points).hex(),
        "chunks": ["0x" + encode_g1(p).hex() for p in points],
        "blinding": ["0x" + scalar_to_bytes(3).hex()] * layout.m_pad,
    }
    with pytest.raises(EncodingError, match="re-commit"):
        WeightCommitment.from_json(json.dumps(v1))
    v1_bytes = (
        b"SUMKZG-ML/v1/weight-commitment"
        + setup.setup_id
        + (5).to_bytes(4, "big")
        + (7).to_bytes(4, "big")
        + encode_g1(points[0])
        + scalar_to_bytes(3) * layout.m_pad
    )
    with pytest.raises(EncodingError, match="layout changed"):
        WeightCommitment.from_bytes(v1_bytes)
    # Today's commitment of a layer of that shape: K_W·m' blinding entries, version 2.
    today = commit_weights(setup, weights, biases)
    assert len(today.blinding) == layout.k_w * layout.m_pad
    assert WeightCommitment.from_bytes(today.to_bytes()) == today


@pytest.mark.parametrize(("m", "n"), [(64, 200), (256, 256)])
def test_no_hw_chunk_is_a_deterministic_commitment(setup: Setup, m: int, n: int) -> None:
    """
    No chunk ``C_HW[κ]`` of a registration proof equals the commitment of the bare inverses
    ``1/(α − W′ − 128)`` that anyone holding the weights (a candidate model) computes from the
    proof's own ``α`` (docs/proof-system-zk.md Z2: two fresh ``HW`` entries in every chunk).
    Regression: fresh entries sat in chunk 0 and the bias column's chunk only, so every other
    chunk let a candidate model be tested.
    """
    from sumkzg.proof import RegistrationProof
    from sumkzg.registration import commit_chunks, grid_flat, inverse_lookup
    from sumkzg.transcript import DOMAIN_REGISTRATION, Transcript

    class Recording(Transcript):
        drawn: list[int]

        def challenge(self) -> int:
            value = super().challenge()
            self.drawn = [*getattr(self, "drawn", []), value]
            return value

    weights, biases, commitment = committed(m, n)
    layout = commitment.layout
    assert layout.k_hw > 2
    statement = RegistrationStatement(
        chain_id=31337, verifier=VERIFIER, h_w=commitment.h_w, m=m, n=n
    )
    proof_bytes = prove_registration(setup, commitment, weights, biases, statement)
    tr = Recording(DOMAIN_REGISTRATION)
    verify_registration(setup, statement, proof_bytes, transcript=tr)
    alpha = tr.drawn[0]
    proof = RegistrationProof.from_bytes(proof_bytes, layout)
    w_pad = np.zeros((layout.m_pad, n), dtype=np.int64)
    w_pad[:m] = weights
    bare = np.zeros((layout.m_pad, layout.weight_columns), dtype=object)
    bare[:, layout.positions()[:n]] = inverse_lookup(w_pad + 128, alpha).values
    deterministic = commit_chunks(setup, grid_flat(bare), layout.k_hw)
    same = [k for k, (a, b) in enumerate(zip(proof.c_hw, deterministic, strict=True)) if a == b]
    assert same == [], f"C_HW chunks {same} are deterministic commitments of the weights"
