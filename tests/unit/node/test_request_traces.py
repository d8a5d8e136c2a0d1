"""
The public traces of on-chain requests (``GET /v1/requests/{id}/trace``), the watcher's handling
of disputes on on-chain request claims, and the responder's answer to a data challenge on one
(real app, real store, real runtime; the chain is a recording stand-in for the responder only).

On-chain request ids collide with off-chain receipt ids on purpose here: the two must never be
mixed up (not by the trace route, the watcher, the responder or the cheat plan).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from fastapi.testclient import TestClient

from challenger.service import check_trace
from challenger.source import receipt_from_api, trace_from_api
from node.cheats import CheatMode, CheatPlan
from node.claims import build_receipts
from node.events import (
    ChainEvent,
    ClaimSlashed,
    DataChallenged,
    DataChallengeTimedOut,
    DataPublished,
    DisputeClosed,
    DisputeOpened,
    FraudProven,
    ProofDemanded,
)
from node.hashing import claim_key
from node.records import ChallengeStatus, NewReceipt, OnchainStatus
from node.request_traces import RequestTraceError, request_claim_key, request_trace
from node.responder import answer_challenges
from node.watcher import Watcher
from protocol.activations import act_hash
from protocol.merkle import verify_merkle_proof
from protocol.model import forward_trace
from protocol.receipts import CLAIM_SOURCE_REQUEST
from protocol.trace import trace_leaf, trace_root
from protocol.types import ZERO_HASH
from tests.unit.node.helpers import CLIENT, NODE, Node, running

OTHER = "0x3333333333333333333333333333333333333333"
GAME = "0x4444444444444444444444444444444444444444"
WHERE: dict[str, Any] = {"block": 5, "log_index": 0, "tx_hash": b"\xee" * 32, "address": GAME}


def _inputs(node: Node, name: str, count: int, seed: int) -> npt.NDArray[np.int8]:
    width = node.models[name].in_dim
    return np.random.default_rng(seed).integers(-128, 128, (count, width)).astype(np.int8)


def _fulfilled(
    node: Node, name: str, ids: Sequence[int], *, seed: int = 5
) -> tuple[npt.NDArray[np.int8], list[NewReceipt]]:
    """On-chain requests ``ids`` assigned, computed and fulfilled as ``node.onchain`` does."""
    served = node.models[name]
    x = _inputs(node, name, len(ids), seed)
    with node.store.writing() as w:
        for row, request_id in enumerate(ids):
            w.onchain_requested(
                request_id=request_id, model_id=served.model_id, client=CLIENT, fee=10,
                deadline=10**9, input=x[row].tobytes(), block=1, tx_hash=bytes([request_id]) * 32,
            )  # fmt: skip
    trace = node.runtime.run(served.model_id, x)
    rows = build_receipts(
        served, trace, ids, node=NODE, clients=[CLIENT] * len(ids), created_at=1.0
    )
    node.store.onchain_set_results(rows)
    node.store.onchain_mark_committed(ids, tx_hash=b"\xf0" * 32, block=2, fulfilled_at=100)
    return x, rows


def _offchain(node: Node, name: str, ids: Sequence[int], *, seed: int = 9) -> list[NewReceipt]:
    """Off-chain receipts with the same ids (and other inputs)."""
    served = node.models[name]
    x = _inputs(node, name, len(ids), seed)
    trace = node.runtime.run(served.model_id, x)
    rows = build_receipts(
        served, trace, ids, node=NODE, clients=[CLIENT] * len(ids), created_at=1.0
    )
    node.store.insert_receipts(rows)
    return rows


def _key(row: NewReceipt) -> bytes:
    return bytes(claim_key(CLAIM_SOURCE_REQUEST, row.request_id, row.receipt_leaf))


def _apply(node: Node, *events: ChainEvent) -> int:
    watcher = Watcher(node.store, SimpleNamespace(address=NODE))  # type: ignore[arg-type]
    with node.store.writing() as w:
        return sum(watcher.apply(w, e) for e in events)


def _kinds(api: TestClient, request_id: int) -> list[str]:
    return [d["kind"] for d in api.get(f"/v1/requests/{request_id}").json()["disputes"]]


class RecordingChain:
    """Records ``DataAvailabilityGame.publish`` calls instead of sending them."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, bytes, list[bytes]]] = []
        publish = SimpleNamespace(publish=lambda *args: args)
        self.market = SimpleNamespace(data=SimpleNamespace(functions=publish))

    def send(self, fn: tuple[int, bytes, list[bytes]]) -> dict[str, Any]:
        self.sent.append(fn)
        return {"transactionHash": b"\x77" * 32, "gasUsed": 50_000}


# ---- the trace route -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["digits", "public", "sensitive"])
def test_request_trace_is_served_like_a_batch_trace(node: Node, name: str) -> None:
    model = node.models[name].model
    x, rows = _fulfilled(node, name, [1, 2])
    _offchain(node, name, [1, 2])
    with running(node) as api:
        for row, request_id in enumerate((1, 2)):
            request = api.get(f"/v1/requests/{request_id}").json()
            answer = api.get(f"/v1/requests/{request_id}/trace")
            assert answer.status_code == 200, answer.text
            body = answer.json()
            batch_body = api.get(f"/v1/traces/{request_id}").json()
            assert set(body) == set(batch_body)
            assert [set(v) for v in body["vectors"]] == [set(v) for v in batch_body["vectors"]]
            assert body["request_id"] == request_id
            assert body["model_id"] == request["model_id"]
            assert body["trace_root"] == request["trace_root"] != batch_body["trace_root"]
            # What the challenger parses, checked as the challenger checks it.
            checked = check_trace(model, receipt_from_api(request), trace_from_api(body), {})
            assert checked.hashes is not None and checked.missing == ()
            assert checked.endpoint_fraud is None
            honest = forward_trace(model, x[row])
            hashes = []
            for i, entry in enumerate(body["vectors"]):
                assert entry["index"] == i
                if i in model.hidden_indices():
                    assert entry["hidden"] and entry["values"] is None
                    assert entry["activation_hash"] == "0x" + ZERO_HASH.hex()
                else:
                    assert not entry["hidden"] and entry["values"] == honest[i].tolist()
                    assert entry["activation_hash"] == "0x" + act_hash(honest[i]).hex()
                hashes.append(bytes.fromhex(entry["activation_hash"][2:]))
            assert "0x" + trace_root(hashes).hex() == body["trace_root"]
            assert bytes(trace_root(hashes)) == rows[row].trace_root


def test_request_trace_not_found_or_gone(node: Node) -> None:
    _fulfilled(node, "digits", [1])
    with node.store.writing() as w:
        w.onchain_requested(
            request_id=2, model_id=node.models["digits"].model_id, client=CLIENT, fee=1,
            deadline=10**9, input=bytes(64), block=1, tx_hash=b"\x02" * 32,
        )  # fmt: skip
        w.onchain_requested(
            request_id=3, model_id=b"z" * 32, client=CLIENT, fee=1, deadline=10**9,
            input=bytes(64), block=1, tx_hash=b"\x03" * 32,
        )  # fmt: skip
    node.store.onchain_set_results(
        [NewReceipt(3, b"z" * 32, CLIENT, bytes(64), bytes(10), b"", bytes(128), b"r" * 32,
                    b"l" * 32, 1.0)]
    )  # fmt: skip
    with running(node) as api:
        assert api.get("/v1/requests/1/trace").status_code == 200
        assert api.get("/v1/requests/9/trace").status_code == 404  # not assigned to this node
        assert api.get("/v1/requests/2/trace").status_code == 404  # no result yet
        gone = api.get("/v1/requests/3/trace")  # its model is no longer served
        assert gone.status_code == 410 and "no longer served" in gone.json()["detail"]
        assert api.get("/v1/requests/0/trace").status_code == 422


def test_a_lost_or_damaged_stored_trace_is_rebuilt_from_the_input(node: Node) -> None:
    _, (row,) = _fulfilled(node, "sensitive", [4])
    record = node.store.onchain_request(4)
    assert record is not None
    expected = request_trace(node.runtime, record)
    for damaged in (
        replace(row, trace=b""),
        replace(row, trace=bytes(len(row.trace))),
        replace(row, activation_hashes=bytes(len(row.activation_hashes))),
    ):
        node.store.onchain_set_results([damaged])
        record = node.store.onchain_request(4)
        assert record is not None
        rebuilt = request_trace(node.runtime, record)
        assert rebuilt.hashes == expected.hashes
        assert [None if v is None else v.tolist() for v in rebuilt.vectors] == [
            None if v is None else v.tolist() for v in expected.vectors
        ]
    # No trace of this input gives another root: nothing is served.
    node.store.onchain_set_results([replace(row, trace=b"", trace_root=b"\x01" * 32)])
    record = node.store.onchain_request(4)
    assert record is not None
    with pytest.raises(RequestTraceError) as caught:
        request_trace(node.runtime, record)
    assert caught.value.gone
    with running(node) as api:
        assert api.get("/v1/requests/4/trace").status_code == 410


def test_the_cheat_plan_never_applies_to_onchain_requests(node: Node) -> None:
    served = node.models["digits"]
    plan = CheatPlan(1.0, [CheatMode.WITHHELD_TRACE], seed=1)
    x = _inputs(node, "digits", 2, seed=3)
    plan.build_receipts(
        served, node.runtime.run(served.model_id, x), [1, 2], node=NODE, clients=[CLIENT] * 2,
        created_at=1.0,
    )  # fmt: skip
    assert plan.withholds(1) and plan.withholds(2)  # off-chain requests 1 and 2
    node.runtime.cheats = plan
    _, rows = _fulfilled(node, "digits", [1, 2])
    with running(node) as api:
        for row in rows:
            body = api.get(f"/v1/requests/{row.request_id}/trace")
            assert body.status_code == 200
            assert body.json()["trace_root"] == "0x" + row.trace_root.hex()
    _apply(
        node,
        DisputeOpened(**WHERE, claim_key=_key(rows[0]), source=1, container_id=1, game=GAME),
        DataChallenged(
            **WHERE, challenge_id=1, claim_key=_key(rows[0]), node=NODE, challenger=OTHER,
            index=1, deadline=10**12,
        ),
    )  # fmt: skip
    chain = RecordingChain()
    assert answer_challenges(node.store, chain, node.runtime) == [1]  # type: ignore[arg-type]
    assert len(chain.sent) == 1


# ---- the watcher ---------------------------------------------------------------------------------


def test_the_watcher_records_disputes_on_request_claims(node: Node) -> None:
    _, rows = _fulfilled(node, "digits", [1, 2])
    _offchain(node, "digits", [1, 2])
    key1, key2 = _key(rows[0]), _key(rows[1])
    assert request_claim_key(node.store.onchain_request(1)) == key1  # type: ignore[arg-type]
    opened = DisputeOpened(**WHERE, claim_key=key1, source=1, container_id=1, game=GAME)
    challenged = DataChallenged(
        **WHERE, challenge_id=3, claim_key=key1, node=NODE, challenger=OTHER, index=1,
        deadline=99,
    )  # fmt: skip
    assert _apply(node, opened, challenged) == 2
    (challenge,) = node.store.data_challenges(ChallengeStatus.OPEN)
    assert (challenge.request_id, challenge.claim_key, challenge.trace_index) == (1, key1, 1)
    assert (
        _apply(
            node,
            DisputeClosed(
                **WHERE, claim_key=key1, source=1, container_id=1, game=GAME, fraud=False
            ),
            DataPublished(**WHERE, challenge_id=3, claim_key=key1, index=1),
        )
        == 2
    )
    assert node.store.data_challenges(ChallengeStatus.PUBLISHED)[0].challenge_id == 3
    history = node.store.onchain_disputes_of(1)
    assert [d.kind for d in history] == [
        "dispute_opened", "data_challenged", "dispute_closed", "data_published",
    ]  # fmt: skip
    assert (history[1].challenge_id, history[1].trace_index) == (3, 1)
    assert history[2].detail == "no fraud" and history[0].game == GAME

    # A fraud proof on request 2: ClaimSlashed (with its container) first, then the game's event.
    assert (
        _apply(
            node,
            ClaimSlashed(**WHERE, claim_key=key2, source=1, container_id=2, node=NODE),
            FraudProven(**WHERE, claim_key=key2, node=NODE, challenger=OTHER, layer=2, slashed=5),
        )
        == 2
    )
    record = node.store.onchain_request(2)
    assert record is not None and record.status is OnchainStatus.SLASHED
    assert [(d.kind, d.detail) for d in node.store.onchain_disputes_of(2)] == [
        ("claim_slashed", ""), ("fraud_proven", "layer 2, slashed 5 wei"),
    ]  # fmt: skip

    # The off-chain receipts with the same ids saw none of it.
    assert node.store.disputes_of(1) == [] and node.store.disputes_of(2) == []
    assert {r.status.value for r in node.store.receipts_page()[0]} == {"pending"}

    with running(node) as api:
        assert _kinds(api, 1) == [d.kind for d in history]
        assert _kinds(api, 2) == ["claim_slashed", "fraud_proven"]
        listed = api.get("/v1/requests").json()["data"]
        assert [[d["kind"] for d in r["disputes"]] for r in listed] == [
            _kinds(api, 1), _kinds(api, 2),
        ]  # fmt: skip
        assert api.get("/v1/receipts/1").json()["disputes"] == []


def test_the_watcher_timeout_and_proof_demand_on_a_request_claim(node: Node) -> None:
    _, (row,) = _fulfilled(node, "sensitive", [1])
    key = _key(row)
    _apply(
        node,
        DisputeOpened(**WHERE, claim_key=key, source=1, container_id=1, game=GAME),
        DataChallenged(
            **WHERE, challenge_id=4, claim_key=key, node=NODE, challenger=OTHER, index=0,
            deadline=99,
        ),
        DataChallengeTimedOut(**WHERE, challenge_id=4, claim_key=key, slashed=7),
        DisputeOpened(**WHERE, claim_key=key, source=1, container_id=1, game=GAME),
        ProofDemanded(
            **WHERE, demand_id=2, claim_key=key, node=NODE, challenger=OTHER, partition_index=1,
            deadline=123,
        ),
    )  # fmt: skip
    assert node.store.data_challenges(ChallengeStatus.TIMED_OUT)[0].challenge_id == 4
    history = node.store.onchain_disputes_of(1)
    assert [d.kind for d in history] == [
        "dispute_opened", "data_challenged", "data_timed_out", "dispute_opened", "proof_demanded",
    ]  # fmt: skip
    assert history[2].detail == "slashed 7 wei"
    assert (history[4].challenge_id, history[4].detail) == (2, "partition 1, deadline 123")


def test_the_watcher_ignores_claims_that_are_not_its_requests(node: Node) -> None:
    _, (row,) = _fulfilled(node, "digits", [1])
    key = _key(row)
    stranger = bytes(claim_key(CLAIM_SOURCE_REQUEST, 1, b"\x05" * 32))  # request 1, other leaf
    assert _apply(
        node,
        DisputeOpened(**WHERE, claim_key=stranger, source=1, container_id=1, game=GAME),
        DisputeOpened(**WHERE, claim_key=key, source=1, container_id=9, game=GAME),
        FraudProven(**WHERE, claim_key=stranger, node=OTHER, challenger=OTHER, layer=1, slashed=1),
        DataChallenged(
            **WHERE, challenge_id=5, claim_key=key, node=OTHER, challenger=OTHER, index=1,
            deadline=99,
        ),
    ) == 0  # fmt: skip
    assert node.store.onchain_disputes_of(1) == []
    assert node.store.data_challenges() == []


# ---- the responder -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["digits", "sensitive"])
def test_the_responder_publishes_the_request_vector_with_its_proof(node: Node, name: str) -> None:
    x, rows = _fulfilled(node, name, [1, 2])
    _offchain(node, name, [1, 2])  # same ids, other traces: must not be published instead
    model = node.models[name].model
    public = [i for i in range(len(model.layers) + 1) if i not in model.hidden_indices()]
    events: list[ChainEvent] = []
    for challenge_id, index in enumerate(public, start=1):
        key = _key(rows[1])
        events.append(DisputeOpened(**WHERE, claim_key=key, source=1, container_id=2, game=GAME))
        events.append(
            DataChallenged(
                **WHERE, challenge_id=challenge_id, claim_key=key, node=NODE,
                challenger=OTHER, index=index, deadline=10**12,
            )
        )  # fmt: skip
    _apply(node, *events)
    chain = RecordingChain()
    answered = answer_challenges(node.store, chain, node.runtime)  # type: ignore[arg-type]
    assert answered == list(range(1, len(public) + 1))
    honest = forward_trace(model, x[1])
    for (challenge_id, vector, proof), index in zip(chain.sent, public, strict=True):
        assert challenge_id == public.index(index) + 1
        assert np.frombuffer(vector, dtype=np.int8).tolist() == honest[index].tolist()
        leaf = trace_leaf(index, act_hash(honest[index]))
        assert verify_merkle_proof(proof, rows[1].trace_root, leaf)
    statuses = {c.challenge_id: c.status for c in node.store.data_challenges()}
    assert set(statuses.values()) == {ChallengeStatus.PUBLISHED}
    assert answer_challenges(node.store, chain, node.runtime) == []  # type: ignore[arg-type]


def test_the_responder_closes_a_request_challenge_it_cannot_answer(node: Node) -> None:
    _, (row,) = _fulfilled(node, "sensitive", [1])
    node.store.onchain_set_results([replace(row, trace=b"", trace_root=b"\x01" * 32)])
    key = bytes(claim_key(CLAIM_SOURCE_REQUEST, 1, row.receipt_leaf))
    _apply(
        node,
        DisputeOpened(**WHERE, claim_key=key, source=1, container_id=1, game=GAME),
        DataChallenged(
            **WHERE, challenge_id=1, claim_key=key, node=NODE, challenger=OTHER, index=1,
            deadline=10**12,
        ),
    )  # fmt: skip
    assert len(node.store.data_challenges(ChallengeStatus.OPEN)) == 1
    chain = RecordingChain()
    assert answer_challenges(node.store, chain, node.runtime) == []  # type: ignore[arg-type]
    (closed,) = node.store.data_challenges()
    assert closed.status is ChallengeStatus.UNANSWERABLE
    assert "matches its committed root" in closed.detail and chain.sent == []
