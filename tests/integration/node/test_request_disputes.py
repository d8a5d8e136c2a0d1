"""
Disputes on the claims of on-chain requests against a running node (the real node service and
contracts on the session's Anvil): the node serves each fulfilled request's public trace, which
hashes to the trace root its ``fulfil`` committed; a bogus data challenge on a request claim is
answered by the responder before its deadline (the bond goes to the node, nothing is slashed, the
request still finalizes), and one the node leaves unanswered slashes the request, which the
watcher records in the request's dispute history.

The node also serves off-chain receipts with the same ids: the two id spaces must not mix.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from challenger.service import check_trace
from challenger.source import receipt_from_api, trace_from_api
from node.service import NodeService
from opzk.marketplace import Marketplace
from protocol.activations import act_hash
from protocol.model import forward_trace
from protocol.receipts import result_hash
from protocol.trace import trace_root
from protocol.types import ZERO_HASH
from prover.fraud import request_claim_ref
from tests.integration.node.conftest import NodeEnv, wait_for

CHALLENGE_PUBLISHED = 2
REQUEST_FINALIZED, REQUEST_SLASHED = 3, 5
HISTORY_ANSWERED = ["dispute_opened", "data_challenged", "dispute_closed", "data_published"]


def _requested(node_env: NodeEnv, count: int) -> tuple[list[int], list[np.ndarray[Any, Any]]]:
    """The node's account serves the digits model; the client requests ``count`` inferences."""
    chain = node_env.chain
    model_id = bytes.fromhex(node_env.model_id[2:])
    Marketplace(chain.deployment, chain.node).serve(model_id)
    client = Marketplace(chain.deployment, chain.client)
    rng = np.random.default_rng(17)
    inputs = [rng.integers(-128, 128, 64).astype(np.int8) for _ in range(count)]
    fee = chain.params.min_request_fee
    return [client.request_inference(model_id, x, fee) for x in inputs], inputs


def _fulfilled(api: TestClient, node_env: NodeEnv, ids: list[int]) -> list[dict[str, Any]]:
    """Also ``len(ids)`` off-chain inferences (ids colliding); waits until all are committed."""
    rng = np.random.default_rng(18)
    for _ in ids:
        x = rng.integers(-128, 128, 64).tolist()
        answer = api.post("/v1/inferences", json={"model_id": node_env.model_id, "input": x})
        assert answer.status_code == 201, answer.text

    def committed() -> list[dict[str, Any]] | None:
        got = [api.get(f"/v1/requests/{i}").json() for i in ids]
        return got if all(r.get("status") == "committed" for r in got) else None

    bodies: list[dict[str, Any]] = wait_for(committed, what="the node to fulfil the requests")
    return bodies


def _kinds(api: TestClient, request_id: int) -> list[str]:
    return [d["kind"] for d in api.get(f"/v1/requests/{request_id}").json()["disputes"]]


def test_request_traces_hash_to_the_committed_roots(
    node_env: NodeEnv, start_node: Callable[..., tuple[NodeService, TestClient]]
) -> None:
    chain = node_env.chain
    ids, inputs = _requested(node_env, 3)
    _, api = start_node()
    bodies = _fulfilled(api, node_env, ids)
    fulfilled = {
        int(e["args"]["requestId"]): bytes(e["args"]["traceRoot"])
        for e in chain.market.events.RequestFulfilled().get_logs(
            from_block=chain.session.base_block
        )
    }
    model = node_env.model
    for body, x, request_id in zip(bodies, inputs, ids, strict=True):
        answer = api.get(f"/v1/requests/{request_id}/trace")
        assert answer.status_code == 200, answer.text
        trace = answer.json()
        assert trace["request_id"] == request_id and trace["model_id"] == node_env.model_id
        committed_root = fulfilled[request_id]
        assert trace["trace_root"] == "0x" + committed_root.hex()
        honest = forward_trace(model, x)
        hashes = []
        for i, entry in enumerate(trace["vectors"]):
            values = np.asarray(entry["values"], dtype=np.int8)
            assert values.tolist() == honest[i].tolist()
            assert entry["activation_hash"] == "0x" + act_hash(values).hex() != ZERO_HASH.hex()
            hashes.append(act_hash(values))
        assert trace_root(hashes) == committed_root
        # The request's result on-chain commits to the same root and output.
        view = chain.call(chain.market.functions.request(request_id))
        output_hash = bytes.fromhex(body["output_hash"][2:])
        assert bytes(view[8]) == result_hash(output_hash, committed_root)
        # The challenger accepts it as served.
        checked = check_trace(model, receipt_from_api(body), trace_from_api(trace), {})
        assert checked.hashes is not None and checked.missing == ()
        # The off-chain receipt with the same id has another trace.
        assert api.get(f"/v1/traces/{request_id}").json()["trace_root"] != trace["trace_root"]
    assert api.get("/v1/requests/999/trace").status_code == 404


def test_bogus_data_challenge_on_a_request_is_answered_and_pays_the_node(
    node_env: NodeEnv, start_node: Callable[..., tuple[NodeService, TestClient]]
) -> None:
    chain = node_env.chain
    ids, _ = _requested(node_env, 3)
    service, api = start_node()
    bodies = _fulfilled(api, node_env, ids)
    target = bodies[1]
    request_id = target["request_id"]
    node = service.chain.address
    credits_before = chain.call(chain.stakes.functions.credits(node))
    fees_before = chain.call(chain.market.functions.credits(node))
    stake_before = chain.stake_of(node)
    challenger_eth = chain.balance(chain.challenger.address)
    ref = request_claim_ref(receipt_from_api(target))
    key = bytes(chain.call(chain.market.functions.authenticate(ref))[0])
    assert "0x" + key.hex() == target["claim_key"]

    index = 2
    tx = chain.challenger.send(
        chain.da.functions.challenge(ref, index), value=chain.params.data_bond
    )
    (event,) = chain.events(chain.da, "DataChallenged", tx)
    challenge_id, deadline = int(event["challengeId"]), int(event["deadline"])
    wait_for(lambda: _kinds(api, request_id) == HISTORY_ANSWERED, what="the responder")

    assert chain.call(chain.da.functions.getChallenge(challenge_id))[4] == CHALLENGE_PUBLISHED
    assert chain.now() <= deadline
    bond = chain.params.data_bond
    assert chain.call(chain.stakes.functions.credits(node)) == credits_before + bond
    assert chain.call(chain.stakes.functions.bondsOf(chain.challenger.address)) == 0
    assert chain.balance(chain.challenger.address) == (challenger_eth - bond - chain.gas_cost(tx))
    assert chain.stake_of(node) == stake_before
    assert not chain.call(chain.market.functions.fraudulent(key))
    # The published vector is the one the request's trace route serves.
    (published,) = chain.da.events.DataPublished().get_logs(from_block=chain.session.base_block)
    trace = api.get(f"/v1/requests/{request_id}/trace").json()
    assert (
        np.frombuffer(bytes(published["args"]["vector"]), dtype=np.int8).tolist()
        == trace["vectors"][index]["values"]
    )
    disputes = api.get(f"/v1/requests/{request_id}").json()["disputes"]
    assert disputes[1]["challenge_id"] == challenge_id and disputes[1]["trace_index"] == index
    assert disputes[2]["detail"] == "no fraud"
    # Nothing reached the other requests or the off-chain receipt with the same id.
    assert all(_kinds(api, i) == [] for i in ids if i != request_id)
    assert api.get(f"/v1/receipts/{request_id}").json()["disputes"] == []

    # The dispute is closed: every request finalizes after its window, fees credited.
    chain.advance(chain.params.challenge_window)

    def all_finalized() -> bool:
        return all(api.get(f"/v1/requests/{i}").json()["status"] == "finalized" for i in ids)

    wait_for(all_finalized, what="the request finalizer")
    for i in ids:
        assert chain.call(chain.market.functions.request(i))[3] == REQUEST_FINALIZED
    fees = chain.call(chain.market.functions.credits(node)) - fees_before
    assert fees == len(ids) * chain.params.min_request_fee
    assert chain.stake_of(node) == stake_before


def test_unanswered_challenge_on_a_request_slashes_it(
    node_env: NodeEnv, start_node: Callable[..., tuple[NodeService, TestClient]]
) -> None:
    chain = node_env.chain
    ids, _ = _requested(node_env, 2)
    _, api = start_node(respond_to_challenges=False)
    target, other = _fulfilled(api, node_env, ids)
    request_id = target["request_id"]
    ref = request_claim_ref(receipt_from_api(target))
    tx = chain.challenger.send(chain.da.functions.challenge(ref, 1), value=chain.params.data_bond)
    (event,) = chain.events(chain.da, "DataChallenged", tx)
    wait_for(
        lambda: _kinds(api, request_id) == ["dispute_opened", "data_challenged"],
        what="the watcher to see the challenge",
    )
    chain.advance(chain.params.data_response_window + 1)
    chain.challenger.send(chain.da.functions.resolveTimeout(int(event["challengeId"])))

    wait_for(
        lambda: api.get(f"/v1/requests/{request_id}").json()["status"] == "slashed",
        what="the watcher to record the slash",
    )
    assert chain.call(chain.market.functions.request(request_id))[3] == REQUEST_SLASHED
    wait_for(
        lambda: _kinds(api, request_id)
        == ["dispute_opened", "data_challenged", "dispute_closed", "claim_slashed",
            "data_timed_out"],
        what="the watcher to record the whole dispute",
    )  # fmt: skip
    assert _kinds(api, other["request_id"]) == []
    assert api.get(f"/v1/requests/{other['request_id']}").json()["status"] == "committed"
