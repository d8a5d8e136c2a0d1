"""
Disputes against a running node: a data-availability challenge is answered by the responder
before its deadline (the bond goes to the node), and one the node leaves unanswered slashes the
claim, which the watcher records.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from node.service import NodeService
from tests.integration.node.conftest import NodeEnv, claim_ref, wait_for

CHALLENGE_PUBLISHED, CHALLENGE_TIMED_OUT = 2, 3


def _committed(api: TestClient, model_id: str, count: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(11)
    ids = []
    for _ in range(count):
        x = rng.integers(-128, 128, 64).tolist()
        answer = api.post("/v1/inferences", json={"model_id": model_id, "input": x})
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["request_id"])

    def committed() -> list[dict[str, Any]] | None:
        got = [api.get(f"/v1/receipts/{i}").json() for i in ids]
        return got if all(r["status"] == "committed" for r in got) else None

    result: list[dict[str, Any]] = wait_for(committed, what="the batch commit")
    return result


def _kinds(api: TestClient, request_id: int) -> list[str]:
    return [d["kind"] for d in api.get(f"/v1/receipts/{request_id}").json()["disputes"]]


def test_data_challenge_is_answered_before_the_deadline(
    node_env: NodeEnv, start_node: Callable[..., tuple[NodeService, TestClient]]
) -> None:
    chain = node_env.chain
    service, api = start_node()
    receipt = _committed(api, node_env.model_id, 3)[1]
    node = service.chain.address
    credits_before = chain.call(chain.stakes.functions.credits(node))
    index = 2
    tx = chain.challenger.send(
        chain.da.functions.challenge(claim_ref(receipt), index), value=chain.params.data_bond
    )
    (event,) = chain.events(chain.da, "DataChallenged", tx)
    challenge_id = int(event["challengeId"])
    deadline = int(event["deadline"])
    request_id = receipt["request_id"]

    wait_for(lambda: "data_published" in _kinds(api, request_id), what="the responder")
    assert chain.call(chain.da.functions.getChallenge(challenge_id))[4] == CHALLENGE_PUBLISHED
    assert chain.now() <= deadline
    assert chain.call(chain.stakes.functions.credits(node)) == (
        credits_before + chain.params.data_bond
    )
    # The published vector is the one the trace endpoint serves.
    (published,) = chain.w3.eth.get_logs(
        {
            "address": chain.da.address,
            "fromBlock": 0,
            "topics": [chain.da.events.DataPublished().topic],
        }
    ) or [None]  # type: ignore[list-item]
    assert published is not None
    vector = chain.da.events.DataPublished().process_log(published)["args"]["vector"]
    trace = api.get(f"/v1/traces/{request_id}").json()
    assert np.frombuffer(bytes(vector), dtype=np.int8).tolist() == trace["vectors"][index]["values"]

    def settled() -> bool:
        r = api.get(f"/v1/receipts/{request_id}").json()
        return r["status"] == "committed" and [d["kind"] for d in r["disputes"]] == [
            "dispute_opened", "data_challenged", "dispute_closed", "data_published",
        ]  # fmt: skip

    wait_for(settled, what="the watcher to record the whole dispute")
    disputes = api.get(f"/v1/receipts/{request_id}").json()["disputes"]
    assert disputes[1]["challenge_id"] == challenge_id and disputes[1]["trace_index"] == index
    assert disputes[2]["detail"] == "no fraud"


def test_unanswered_challenge_slashes_the_claim(
    node_env: NodeEnv, start_node: Callable[..., tuple[NodeService, TestClient]]
) -> None:
    chain = node_env.chain
    _, api = start_node(respond_to_challenges=False)
    receipts = _committed(api, node_env.model_id, 2)
    target, other = receipts
    tx = chain.challenger.send(
        chain.da.functions.challenge(claim_ref(target), 1), value=chain.params.data_bond
    )
    (event,) = chain.events(chain.da, "DataChallenged", tx)
    wait_for(
        lambda: api.get(f"/v1/receipts/{target['request_id']}").json()["status"] == "disputed",
        what="the watcher to see the dispute",
    )
    chain.advance(chain.params.data_response_window + 1)
    chain.challenger.send(chain.da.functions.resolveTimeout(int(event["challengeId"])))

    wait_for(
        lambda: api.get(f"/v1/receipts/{target['request_id']}").json()["status"] == "slashed",
        what="the watcher to record the slash",
    )
    assert _kinds(api, target["request_id"]) == [
        "dispute_opened", "data_challenged", "dispute_closed", "claim_slashed", "data_timed_out",
    ]  # fmt: skip
    # The other receipt of the batch is untouched; the batch still finalizes after its window.
    assert api.get(f"/v1/receipts/{other['request_id']}").json()["status"] == "committed"
    chain.advance(chain.params.challenge_window)
    wait_for(
        lambda: api.get(f"/v1/receipts/{other['request_id']}").json()["status"] == "finalized",
        what="finalization",
    )
    assert api.get(f"/v1/receipts/{target['request_id']}").json()["status"] == "slashed"
    listed = api.get("/v1/receipts", params={"status": "slashed"}).json()
    assert [r["request_id"] for r in listed["data"]] == [target["request_id"]]
