"""
The node's proof path without a chain: the watcher records demands, :func:`node.prover.build_job`
rebuilds the statement and the partition I/O from the stored trace and the commitment sidecar
(and refuses, with a clear reason, what it cannot prove), the proof verifies, the cheat modes'
effects. The chain side (sending, outcomes, restarts) runs against Anvil in
``tests/integration/node/test_proof_demands.py``.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from eth_abi.abi import encode

from models.digits import MODEL_PATH
from models.sensitive import make_sensitive, sidecar_path, write_sidecar
from models.store import load_model, save_model
from node.cheats import RECORD_FILE, CheatMode, CheatPlan
from node.claims import build_receipts
from node.events import DisputeOpened, ProofDemanded, ProofResolved
from node.hashing import claim_key
from node.prover import (
    CommitmentCache,
    ProofJob,
    ProofJobError,
    build_job,
    corrupt_proof,
    mark_cheat_effective,
    prove_job,
)
from node.runtime import ModelRuntime, ServedModel, serve_model
from node.store import ProofStatus, Store
from node.watcher import Watcher
from protocol.activations import act_hash
from protocol.disputes import proof_job_id
from protocol.keccak import keccak256
from protocol.merkle import verify_merkle_proof
from protocol.model import forward_trace_batch
from protocol.trace import trace_leaf
from sumkzg import ProofRejected, Setup, load_setup, verify_inference
from tests import factories

NODE = "0x1111111111111111111111111111111111111111"
CLIENT = "0x2222222222222222222222222222222222222222"
CHALLENGER = "0x3333333333333333333333333333333333333333"
GAME = "0x4444444444444444444444444444444444444444"
VERIFIER = "0x5555555555555555555555555555555555555555"
CHAIN_ID = 31337
BATCH_ID = 7
WHERE = {"block": 9, "log_index": 0, "tx_hash": b"\xee" * 32, "address": GAME}


@pytest.fixture(scope="module")
def setup() -> Setup:
    return load_setup()


@pytest.fixture(scope="module")
def private(setup: Setup, tmp_path_factory: pytest.TempPathFactory) -> ServedModel:
    """The digits model with layer 2 private, on disk with its sidecar."""
    model, commitment = make_sensitive(load_model(MODEL_PATH), 2, setup, rng=random.Random(8))
    path = tmp_path_factory.mktemp("models") / "digits-l2.opzkmodel"
    save_model(model, path)
    write_sidecar(path, model, commitment)
    return serve_model(path)


@dataclass
class Env:
    store: Store
    runtime: ModelRuntime
    served: ServedModel
    inputs: np.ndarray  # type: ignore[type-arg]


def _env(tmp_path: Path, served: ServedModel, count: int = 3) -> Env:
    """A store holding ``count`` receipts of ``served`` in committed batch 7."""
    store = Store(f"sqlite:///{tmp_path / 'node.sqlite3'}")
    runtime = ModelRuntime([served], backend="numpy")
    rng = np.random.default_rng(3)
    inputs = rng.integers(-128, 128, (count, served.in_dim)).astype(np.int8)
    trace = forward_trace_batch(served.model, inputs)
    ids = list(range(1, count + 1))
    rows = build_receipts(served, trace, ids, node=NODE, clients=[CLIENT] * count, created_at=1.0)
    store.insert_receipts(rows)
    intent = store.record_batch_intent(
        root=b"r" * 32, request_ids=ids, tx_hash=None, nonce=None, from_block=1
    )
    store.mark_batch_committed(
        intent.row_id, batch_id=BATCH_ID, tx_hash=b"t" * 32, block=3, gas_used=1, gas_price=1,
        committed_at=10,
    )  # fmt: skip
    return Env(store, runtime, served, inputs)


def _key(store: Store, request_id: int) -> bytes:
    receipt = store.receipt(request_id)
    assert receipt is not None
    return claim_key(0, BATCH_ID, receipt.receipt_leaf)


def _apply(store: Store, *events: object) -> int:
    watcher = Watcher(store, SimpleNamespace(address=NODE))  # type: ignore[arg-type]
    with store.writing() as w:
        return sum(watcher.apply(w, e) for e in events)  # type: ignore[arg-type]


def _demand(key: bytes, demand_id: int = 1, partition: int = 1, node: str = NODE) -> ProofDemanded:
    return ProofDemanded(
        **WHERE, demand_id=demand_id, claim_key=key, node=node, challenger=CHALLENGER,
        partition_index=partition, deadline=500,
    )  # fmt: skip


def _opened(key: bytes, source: int = 0, container: int = BATCH_ID) -> DisputeOpened:
    return DisputeOpened(**WHERE, claim_key=key, source=source, container_id=container, game=GAME)


def _demanded(env: Env, request_id: int = 2, partition: int = 1, demand_id: int = 1) -> None:
    key = _key(env.store, request_id)
    assert _apply(env.store, _opened(key), _demand(key, demand_id, partition)) == 2


def _job(env: Env, demand_id: int = 1, cache: CommitmentCache | None = None) -> ProofJob:
    demand = env.store.proof_demand(demand_id)
    assert demand is not None
    return build_job(
        demand,
        store=env.store,
        runtime=env.runtime,
        commitments=cache or CommitmentCache(),
        chain_id=CHAIN_ID,
        verifier=VERIFIER,
    )


# ---- the watcher records demands and their outcomes ----------------------------------------------


def test_watcher_records_a_demand_and_its_outcome(tmp_path: Path, private: ServedModel) -> None:
    env = _env(tmp_path, private)
    _demanded(env)
    (demand,) = env.store.proof_demands()
    assert (demand.demand_id, demand.source, demand.request_id) == (1, 0, 2)
    assert (demand.partition_index, demand.deadline, demand.game) == (1, 500, GAME)
    assert demand.status is ProofStatus.OPEN and demand.challenger == CHALLENGER
    assert env.store.proof_demands(ProofStatus.OPEN) == [demand]
    # Applying the same event again (a replayed chunk) records nothing new.
    _apply(env.store, _demand(demand.claim_key))
    assert len(env.store.proof_demands()) == 1
    resolved = ProofResolved(
        **WHERE, kind="ProofAccepted", demand_id=1, claim_key=demand.claim_key, slashed=0
    )
    assert _apply(env.store, resolved) == 1
    after = env.store.proof_demand(1)
    assert after is not None and after.status is ProofStatus.ACCEPTED
    assert [(d.kind, d.challenge_id) for d in env.store.disputes_of(2)] == [
        ("dispute_opened", None),
        ("proof_demanded", 1),
        ("proof_accepted", 1),
    ]
    assert env.store.row_counts()["proof_demands"] == 1


def test_demands_on_other_nodes_or_unknown_claims(tmp_path: Path, private: ServedModel) -> None:
    env = _env(tmp_path, private)
    key = _key(env.store, 1)
    assert _apply(env.store, _demand(key, node=CHALLENGER)) == 0
    assert env.store.proof_demands() == []
    assert _apply(env.store, _demand(b"\x01" * 32, demand_id=4)) == 1
    (demand,) = env.store.proof_demands()
    assert demand.status is ProofStatus.UNANSWERABLE and demand.source is None
    assert demand.detail == "unknown claim"
    # An outcome for a demand against another node changes nothing.
    other = ProofResolved(**WHERE, kind="ProofRejected", demand_id=99, claim_key=key, slashed=5)
    assert _apply(env.store, other) == 0


def test_a_demand_on_an_onchain_request_is_recognized(tmp_path: Path, private: ServedModel) -> None:
    env = _env(tmp_path, private)
    x = env.inputs[0]
    with env.store.writing() as w:
        w.onchain_requested(
            request_id=3, model_id=private.model_id, client=CLIENT, fee=1, deadline=99,
            input=x.tobytes(), block=4, tx_hash=b"\x01" * 32,
        )  # fmt: skip
    trace = forward_trace_batch(private.model, x[None, :])
    (row,) = build_receipts(private, trace, [3], node=NODE, clients=[CLIENT], created_at=1.0)
    env.store.onchain_set_results([row])
    key = claim_key(1, 3, row.receipt_leaf)
    # Another request's id with this key is not indexed; the right one is.
    _apply(env.store, _opened(key, source=1, container=2))
    assert _apply(env.store, _opened(key, source=1, container=3), _demand(key, 6)) >= 1
    (demand,) = env.store.proof_demands()
    assert (demand.source, demand.request_id, demand.status) == (1, 3, ProofStatus.OPEN)
    job = _job(env, 6)
    assert job.statement.x == trace[1][0].tobytes()
    assert job.source == 1 and job.request_id == 3


# ---- the job -------------------------------------------------------------------------------------


def test_statement_and_io_from_the_stored_trace(
    tmp_path: Path, setup: Setup, private: ServedModel
) -> None:
    env = _env(tmp_path, private)
    _demanded(env, request_id=2)
    job = _job(env)
    receipt = env.store.receipt(2)
    assert receipt is not None
    layer = private.model.layers[1]
    h = forward_trace_batch(private.model, env.inputs[1:2])
    st = job.statement
    assert st.chain_id == CHAIN_ID and st.verifier == VERIFIER
    assert st.model_id == private.model_id and st.partition_index == 1
    assert st.h_w == bytes(private.model.partitions[1].weight_commitment)
    assert (st.m, st.n, st.multiplier, st.shift, st.activation) == (
        32, 64, layer.multiplier, layer.shift, int(layer.activation)
    )  # fmt: skip
    assert st.x == h[1][0].tobytes() and st.y == h[2][0].tobytes()
    expected_job = keccak256(encode(["uint256", "address", "uint256"], [CHAIN_ID, GAME, 1]))
    assert proof_job_id(CHAIN_ID, GAME, 1) == expected_job
    assert st.job_id == int.from_bytes(expected_job, "big")
    x, x_proof, y, y_proof = job.io
    assert (x, y) == (st.x, st.y)
    assert verify_merkle_proof(x_proof, receipt.trace_root, trace_leaf(1, act_hash(h[1][0])))
    assert verify_merkle_proof(y_proof, receipt.trace_root, trace_leaf(2, act_hash(h[2][0])))

    proof = prove_job(setup, job)
    verify_inference(setup, st, proof)
    bad = corrupt_proof(proof, st)
    assert len(bad) == len(proof) and sum(a != b for a, b in zip(bad, proof, strict=True)) == 1
    with pytest.raises(ProofRejected):
        verify_inference(setup, st, bad)


def test_a_model_without_its_sidecar_is_refused_clearly(
    tmp_path: Path, private: ServedModel
) -> None:
    bare = tmp_path / "bare.opzkmodel"
    save_model(private.model, bare)
    env = _env(tmp_path, serve_model(bare))
    _demanded(env)
    with pytest.raises(ProofJobError, match=r"no commitment sidecar .*bare\.opzkmodel\.commitment"):
        _job(env)


def test_a_sidecar_of_another_commitment_is_refused(
    tmp_path: Path, setup: Setup, private: ServedModel
) -> None:
    path = tmp_path / "m.opzkmodel"
    save_model(private.model, path)
    other_model, other = make_sensitive(load_model(MODEL_PATH), 2, setup, rng=random.Random(9))
    write_sidecar(path, other_model, other)
    env = _env(tmp_path, serve_model(path))
    _demanded(env)
    with pytest.raises(ProofJobError, match="is for model 0x"):
        _job(env)
    assert sidecar_path(path).is_file()


@pytest.mark.parametrize(
    ("partition", "match"),
    [(0, "partition 0 is public"), (5, "partition 5 does not exist")],
)
def test_a_partition_that_is_not_provable_is_refused(
    tmp_path: Path, private: ServedModel, partition: int, match: str
) -> None:
    env = _env(tmp_path, private)
    _demanded(env, partition=partition)
    with pytest.raises(ProofJobError, match=match):
        _job(env)


def test_a_two_layer_partition_needs_its_sidecar(tmp_path: Path) -> None:
    """A two-layer partition is proven as a stack (tests/unit/node/test_prover_stack.py): without
    the sidecar that holds its two commitments, the demand is refused with the reason."""
    path = tmp_path / "two.opzkmodel"
    save_model(factories.sensitive_model(), path)
    env = _env(tmp_path, serve_model(path))
    _demanded(env)
    with pytest.raises(ProofJobError, match=r"no commitment sidecar .*two\.opzkmodel"):
        _job(env)


def test_an_output_the_layer_does_not_compute_cannot_be_proven(
    tmp_path: Path, setup: Setup, private: ServedModel
) -> None:
    """A node that lied about the partition's output has no proof to give."""
    env = _env(tmp_path, private)
    _demanded(env)
    job = _job(env)
    st = job.statement
    wrong_y = bytes([(st.y[0] + 1) % 128]) + st.y[1:]
    lie = replace(job, statement=replace(st, y=wrong_y))
    with pytest.raises(ProofJobError, match="cannot prove demand 1"):
        prove_job(setup, lie)


def test_the_commitment_cache_reads_each_sidecar_once(tmp_path: Path, private: ServedModel) -> None:
    cache = CommitmentCache()
    first = cache.get(private)
    assert list(first) == [1]
    assert cache.get(private) is first


# ---- cheat modes -----------------------------------------------------------------------------


def test_a_proof_cheat_is_marked_effective_in_the_record(
    tmp_path: Path, private: ServedModel
) -> None:
    plan = CheatPlan(1.0, [CheatMode.INVALID_PROOF], record_path=tmp_path / RECORD_FILE)
    x = np.zeros((2, private.in_dim), dtype=np.int8)
    plan.build_receipts(
        private, forward_trace_batch(private.model, x), [1, 2], node=NODE,
        clients=[CLIENT, CLIENT], created_at=1.0,
    )  # fmt: skip
    assert [r.effective for r in plan.records()] == [False, False]
    assert plan.proof_action(2) is CheatMode.INVALID_PROOF
    mark_cheat_effective(plan, 2)
    mark_cheat_effective(plan, 2)  # idempotent
    assert [r.effective for r in plan.records()] == [False, True]
    lines = [json.loads(line) for line in (tmp_path / RECORD_FILE).read_text().splitlines()]
    assert [(d["request_id"], d["effective"]) for d in lines] == [(1, False), (2, True)]
    # The record reads back the same after a restart.
    again = CheatPlan(1.0, [CheatMode.INVALID_PROOF], record_path=tmp_path / RECORD_FILE)
    again.load(last_request_id=2)
    assert [r.effective for r in again.records()] == [False, True]
