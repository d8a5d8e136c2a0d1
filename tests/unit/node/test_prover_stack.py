"""
The node's proof path for a two-layer sensitive partition, without a chain: digits layers 1–2 as
one stack (partition 0, h_1 hidden). :func:`node.prover.build_job` builds a ``StackStatement`` from
the stored trace and the sidecar's two commitments, the stack proof verifies, the cheat mode's
corrupted proof is well-encoded and rejected, and a lie about the partition's output cannot be
proven. On-chain: ``tests/integration/node/test_proof_demands_stack.py``.
"""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from models.digits import MODEL_PATH
from models.sensitive import StackCommitment, make_sensitive_stack, stack_layer, write_sidecar
from models.store import load_model, save_model
from node.prover import ProofJobError, corrupt_proof, prove_job
from node.runtime import ServedModel, serve_model
from protocol.activations import act_hash
from protocol.merkle import verify_merkle_proof
from protocol.model import QuantizedModel, forward_trace_batch
from protocol.model_id import PartitionSpec
from protocol.trace import trace_leaf
from sumkzg import SETUP_ID, EncodingError, ProofRejected, Setup, load_setup
from sumkzg.stack import StackStatement, stack_proof_len, verify_stack
from tests.unit.node.test_prover import CHAIN_ID, VERIFIER, _demanded, _env, _job

PARTITION = 0


@pytest.fixture(scope="module")
def setup() -> Setup:
    return load_setup()


@pytest.fixture(scope="module")
def stacked(
    setup: Setup, tmp_path_factory: pytest.TempPathFactory
) -> tuple[ServedModel, StackCommitment]:
    """The digits model with layers 1–2 one private partition, on disk with its sidecar."""
    model, commitment = make_sensitive_stack(
        load_model(MODEL_PATH), 1, setup, rng=random.Random(21)
    )
    path = tmp_path_factory.mktemp("models") / "digits-l12.opzkmodel"
    save_model(model, path)
    write_sidecar(path, model, commitment)
    return serve_model(path), commitment


def test_a_stack_statement_and_io_from_the_stored_trace(
    tmp_path: Path, setup: Setup, stacked: tuple[ServedModel, StackCommitment]
) -> None:
    served, commitment = stacked
    env = _env(tmp_path, served)
    _demanded(env, request_id=2, partition=PARTITION)
    job = _job(env)
    receipt = env.store.receipt(2)
    assert receipt is not None
    first, second = served.model.layers[:2]
    h = forward_trace_batch(served.model, env.inputs[1:2])
    st = job.statement
    assert isinstance(st, StackStatement) and job.commitment == commitment
    assert job.layers == (first, second)
    assert st.chain_id == CHAIN_ID and st.verifier == VERIFIER
    assert st.model_id == served.model_id and st.partition_index == PARTITION
    assert (st.h_p, st.h_v) == (commitment.p.h_w, commitment.v.h_w)
    assert st.layer1 == stack_layer(first) and st.layer2 == stack_layer(second)
    assert st.x == h[0][0].tobytes() and st.y == h[2][0].tobytes()
    x, x_proof, y, y_proof = job.io
    assert (x, y) == (st.x, st.y)
    assert verify_merkle_proof(x_proof, receipt.trace_root, trace_leaf(0, act_hash(h[0][0])))
    assert verify_merkle_proof(y_proof, receipt.trace_root, trace_leaf(2, act_hash(h[2][0])))
    # The hidden activation h_1 is not stored.
    assert served.model.hidden_indices() == frozenset({1})

    proof = prove_job(setup, job)
    assert len(proof) == stack_proof_len(st)
    verify_stack(setup, st, proof)
    # The cheat mode's proof: one bit of the first sumcheck scalar, still well-encoded, rejected.
    bad = corrupt_proof(proof, st)
    diff = [i for i, (a, b) in enumerate(zip(bad, proof, strict=True)) if a != b]
    assert len(bad) == len(proof) and diff == [st.layout.sumcheck_offset + 31]
    # S7: the sumcheck rounds follow every round-1 and round-2 commitment and the scalar Γ.
    lay = st.layout
    points = lay.lp.k_w + lay.lv.k_w + 2 * lay.k_l1 + 2 * lay.k_l2 + 7
    assert lay.sumcheck_offset == points * 128 + 32
    with pytest.raises(ProofRejected) as rejected:
        verify_stack(setup, st, bad)
    assert not isinstance(rejected.value, EncodingError)


def test_a_stack_output_the_layers_do_not_compute_cannot_be_proven(
    tmp_path: Path, setup: Setup, stacked: tuple[ServedModel, StackCommitment]
) -> None:
    served, _ = stacked
    env = _env(tmp_path, served)
    _demanded(env, partition=PARTITION)
    job = _job(env)
    st = job.statement
    assert isinstance(st, StackStatement)
    wrong_y = bytes([(st.y[0] + 1) % 128]) + st.y[1:]
    lie = replace(job, statement=replace(st, y=wrong_y))
    with pytest.raises(ProofJobError, match="cannot prove demand 1"):
        prove_job(setup, lie)


def test_a_partition_of_three_layers_is_refused(
    tmp_path: Path, stacked: tuple[ServedModel, StackCommitment]
) -> None:
    served, commitment = stacked
    three = QuantizedModel(
        layers=served.model.layers,
        partitions=(PartitionSpec(1, 3, True, commitment.h_s, SETUP_ID),),  # type: ignore[arg-type]
    )
    path = tmp_path / "three.opzkmodel"
    save_model(three, path)
    env = _env(tmp_path, serve_model(path))
    _demanded(env, partition=0)
    with pytest.raises(ProofJobError, match=r"covers layers 1\.\.3: sensitive partitions of one"):
        _job(env)
