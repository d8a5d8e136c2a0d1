"""
On-chain requests with the real node against the real contracts: requests assigned to the node
are fulfilled in one ``fulfil`` transaction, finalized after the window (fees credited), and a
request the node could not fulfil in time shows ``refunded`` once its client is refunded.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from node.service import NodeService
from opzk.marketplace import Marketplace
from protocol.activations import act_hash
from protocol.model import forward_trace
from tests.integration.node.conftest import NodeEnv, wait_for

FULFILLED, FINALIZED, REFUNDED = 2, 3, 4


def _serve(node_env: NodeEnv) -> bytes:
    """The node's account serves the digits model (as ``opzk node run`` does at start)."""
    model_id = bytes.fromhex(node_env.model_id[2:])
    Marketplace(node_env.chain.deployment, node_env.chain.node).serve(model_id)
    return model_id


def test_onchain_requests_fulfilled_in_one_tx_then_finalized(
    node_env: NodeEnv, start_node: Callable[..., tuple[NodeService, TestClient]]
) -> None:
    chain = node_env.chain
    model_id = _serve(node_env)
    client = Marketplace(chain.deployment, chain.client)
    rng = np.random.default_rng(7)
    inputs = [rng.integers(-128, 128, 64).astype(np.int8) for _ in range(4)]
    fees = [chain.params.min_request_fee + i for i in range(4)]
    ids = [client.request_inference(model_id, x, fee) for x, fee in zip(inputs, fees, strict=True)]
    credits_before = chain.call(chain.market.functions.credits(chain.node.address))

    service, api = start_node()
    assert service.ensure_serving() == []  # already serving: idempotent

    def all_committed() -> list[dict[str, Any]] | None:
        got = [api.get(f"/v1/requests/{i}").json() for i in ids]
        return got if all(r.get("status") == "committed" for r in got) else None

    bodies = wait_for(all_committed, what="the node to fulfil every on-chain request")
    assert len({b["fulfil_tx"] for b in bodies}) == 1  # one transaction for all
    for body, x, i in zip(bodies, inputs, ids, strict=True):
        assert body["source"] == "request" and body["request_id"] == i
        assert body["fulfil_block"] > 0 and body["node"] == service.chain.address
        out = forward_trace(node_env.model, x)[-1]
        assert body["output"] == out.tolist()
        assert body["output_hash"] == "0x" + act_hash(out).hex()
        assert chain.call(chain.market.functions.request(i))[3] == FULFILLED
    listed = api.get("/v1/requests", params={"status": "committed"}).json()
    assert [r["request_id"] for r in listed["data"]] == ids

    chain.advance(chain.params.challenge_window)

    def all_finalized() -> bool:
        return all(api.get(f"/v1/requests/{i}").json()["status"] == "finalized" for i in ids)

    wait_for(all_finalized, what="the finalizer to finalize every on-chain request")
    for i in ids:
        assert chain.call(chain.market.functions.request(i))[3] == FINALIZED
    credits_after = chain.call(chain.market.functions.credits(chain.node.address))
    assert credits_after - credits_before == sum(fees)


def test_request_missed_deadline_is_refunded(
    node_env: NodeEnv, start_node: Callable[..., tuple[NodeService, TestClient]]
) -> None:
    chain = node_env.chain
    model_id = _serve(node_env)
    client = Marketplace(chain.deployment, chain.client)
    x = np.arange(-32, 32, dtype=np.int8)
    request_id = client.request_inference(model_id, x, chain.params.min_request_fee)
    # The node is down past the deadline.
    chain.advance(chain.params.request_timeout + 1)

    _, api = start_node()

    def computed() -> dict[str, Any] | None:
        body: dict[str, Any] = api.get(f"/v1/requests/{request_id}").json()
        return body if body.get("output") is not None else None

    body = wait_for(computed, what="the node to see and compute the request")
    time.sleep(0.5)  # a few more rounds: it must not try to fulfil it
    body = api.get(f"/v1/requests/{request_id}").json()
    assert body["status"] == "pending" and body["fulfil_tx"] is None
    assert chain.call(chain.market.functions.request(request_id))[3] == 1

    chain.client.send(chain.market.functions.refundExpired(request_id))

    def refunded() -> bool:
        return bool(api.get(f"/v1/requests/{request_id}").json()["status"] == "refunded")

    wait_for(refunded, what="the watcher to see the refund")
    assert chain.call(chain.market.functions.request(request_id))[3] == REFUNDED
    assert api.get("/v1/requests/999").status_code == 404
