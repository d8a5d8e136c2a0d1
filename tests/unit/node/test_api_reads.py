"""Reads: receipts (with proofs, filters and pages), traces, batches, models, health, metrics."""

from __future__ import annotations

import numpy as np
from fastapi.testclient import TestClient

from node.hashing import claim_key
from node.records import DisputeEntry
from protocol.activations import act_hash
from protocol.merkle import MerkleTree, verify_merkle_proof
from protocol.model import forward_trace
from tests.unit.node.helpers import NODE, Node


def _mid(node: Node, name: str) -> str:
    return "0x" + node.models[name].model_id.hex()


def _infer(api: TestClient, node: Node, name: str, count: int, seed: int = 0) -> list[int]:
    served = node.models[name]
    rng = np.random.default_rng(seed)
    ids = []
    for _ in range(count):
        x = rng.integers(-128, 128, served.in_dim).tolist()
        answer = api.post("/v1/inferences", json={"model_id": _mid(node, name), "input": x})
        assert answer.status_code == 201
        ids.append(answer.json()["request_id"])
    return ids


def _commit(node: Node, request_ids: list[int], batch_id: int) -> MerkleTree:
    """Records a batch as the batcher does after its transaction is mined."""
    leaves = [node.store.receipt(i).receipt_leaf for i in request_ids]  # type: ignore[union-attr]
    tree = MerkleTree.from_leaves(leaves)
    intent = node.store.record_batch_intent(
        root=tree.root, request_ids=request_ids, tx_hash=b"\x01" * 32, nonce=0, from_block=1
    )
    node.store.mark_batch_committed(
        intent.row_id, batch_id=batch_id, tx_hash=b"\x02" * 32, block=9, gas_used=79_805,
        gas_price=3, committed_at=1_700_000_000,
    )  # fmt: skip
    return tree


def test_pending_receipt(node: Node, api: TestClient) -> None:
    (rid,) = _infer(api, node, "public", 1)
    receipt = api.get(f"/v1/receipts/{rid}").json()
    assert receipt["status"] == "pending"
    assert receipt["batch"] is None and receipt["claim_key"] is None and receipt["disputes"] == []
    assert receipt["node"] == NODE and receipt["request_id"] == rid
    assert act_hash(np.asarray(receipt["input"], dtype=np.int8)).hex() == receipt["input_hash"][2:]


def test_committed_receipt_has_a_proof_against_its_batch_root(node: Node, api: TestClient) -> None:
    ids = _infer(api, node, "digits", 7)
    tree = _commit(node, ids, batch_id=3)
    for index, rid in enumerate(ids):
        receipt = api.get(f"/v1/receipts/{rid}").json()
        assert receipt["status"] == "committed"
        batch = receipt["batch"]
        assert batch["batch_id"] == 3 and batch["leaf_index"] == index
        assert batch["root"] == "0x" + tree.root.hex()
        assert batch["tx_hash"] == "0x" + "02" * 32 and batch["block"] == 9
        proof = [bytes.fromhex(p[2:]) for p in batch["proof"]]
        assert proof == tree.proof(index)
        leaf = bytes.fromhex(receipt["receipt_leaf"][2:])
        assert verify_merkle_proof(proof, tree.root, leaf)
        assert receipt["claim_key"] == "0x" + claim_key(0, 3, leaf).hex()
    batch = api.get("/v1/batches/3").json()
    assert batch == {
        "batch_id": 3, "root": "0x" + tree.root.hex(), "count": 7, "status": "committed",
        "tx_hash": "0x" + "02" * 32, "block": 9, "committed_at": 1_700_000_000,
        "gas_used": 79_805, "gas_price": 3, "gas_cost_wei": 239_415,
        "first_request_id": ids[0], "last_request_id": ids[-1],
    }  # fmt: skip


def test_dispute_history_is_served(node: Node, api: TestClient) -> None:
    ids = _infer(api, node, "public", 2)
    _commit(node, ids, batch_id=1)
    with node.store.writing() as w:
        w.dispute_opened(ids[1])
        w.add_dispute(
            DisputeEntry(
                ids[1],
                "data_challenged",
                "0x" + "55" * 20,
                4,
                2,
                "deadline 9",
                b"\x07" * 32,
                12,
                0.0,
            )
        )
    receipt = api.get(f"/v1/receipts/{ids[1]}").json()
    assert receipt["status"] == "disputed"
    assert receipt["disputes"] == [
        {"kind": "data_challenged", "game": "0x" + "55" * 20, "challenge_id": 4, "trace_index": 2,
         "detail": "deadline 9", "tx_hash": "0x" + "07" * 32, "block": 12},
    ]  # fmt: skip


def test_list_receipts_with_filters_and_pages(node: Node, api: TestClient) -> None:
    public = _infer(api, node, "public", 5)
    digits = _infer(api, node, "digits", 4, seed=1)
    _commit(node, digits[:2], batch_id=8)
    everything = api.get("/v1/receipts").json()
    assert everything["count"] == 9 and everything["next_cursor"] is None
    assert [r["request_id"] for r in everything["data"]] == sorted(public + digits)

    seen, cursor = [], None
    while True:
        params: dict[str, object] = {"limit": 4}
        if cursor is not None:
            params["cursor"] = cursor
        page = api.get("/v1/receipts", params=params).json()
        seen += [r["request_id"] for r in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(public + digits)
    assert [
        r["request_id"] for r in api.get("/v1/receipts", params={"offset": 7}).json()["data"]
    ] == (sorted(public + digits)[7:])
    by_model = api.get("/v1/receipts", params={"model_id": _mid(node, "digits")}).json()
    assert [r["request_id"] for r in by_model["data"]] == digits
    committed = api.get("/v1/receipts", params={"status": "committed"}).json()
    assert [r["request_id"] for r in committed["data"]] == digits[:2]
    assert all(r["batch_id"] == 8 for r in committed["data"])
    in_batch = api.get("/v1/receipts", params={"batch_id": 8}).json()
    assert in_batch["count"] == 2
    assert api.get("/v1/receipts", params={"batch_id": 9}).json() == {
        "data": [], "count": 0, "next_cursor": None,
    }  # fmt: skip


def test_list_receipts_refuses_bad_parameters(api: TestClient) -> None:
    for params, reason in [
        ({"limit": 101}, "query.limit: Input should be less than or equal to 100"),
        ({"limit": 0}, "query.limit"),
        ({"status": "lost"}, "query.status: Input should be 'pending', 'committed'"),
        ({"model_id": "0x12"}, "query.model_id: String should match"),
        ({"cursor": -1}, "query.cursor"),
        ({"batch_id": "x"}, "query.batch_id"),
    ]:
        answer = api.get("/v1/receipts", params=params)
        assert answer.status_code == 422 and reason in answer.json()["detail"], answer.text


def test_missing_things_are_404_with_a_reason(api: TestClient) -> None:
    for path, reason in [
        ("/v1/receipts/12345", "no receipt with request id 12345"),
        ("/v1/traces/12345", "no receipt with request id 12345"),
        ("/v1/batches/5", "this node has no batch 5"),
    ]:
        answer = api.get(path)
        assert answer.status_code == 404 and answer.json() == {"detail": reason}


def test_trace_of_a_public_model(node: Node, api: TestClient) -> None:
    (rid,) = _infer(api, node, "digits", 1, seed=4)
    stored = node.store.receipt(rid)
    assert stored is not None
    expected = forward_trace(node.models["digits"].model, np.frombuffer(stored.input, np.int8))
    trace = api.get(f"/v1/traces/{rid}").json()
    assert trace["trace_root"] == "0x" + stored.trace_root.hex()
    assert [v["values"] for v in trace["vectors"]] == [v.tolist() for v in expected]
    assert [v["activation_hash"] for v in trace["vectors"]] == [
        "0x" + act_hash(v).hex() for v in expected
    ]


def test_trace_never_shows_the_inside_of_a_sensitive_partition(node: Node, api: TestClient) -> None:
    served = node.models["sensitive"]
    assert served.hidden == frozenset({2})
    (rid,) = _infer(api, node, "sensitive", 1)
    stored = node.store.receipt(rid)
    assert stored is not None
    full = forward_trace(served.model, np.frombuffer(stored.input, np.int8))
    trace = api.get(f"/v1/traces/{rid}").json()
    hidden = trace["vectors"][2]
    assert hidden == {
        "index": 2,
        "hidden": True,
        "activation_hash": "0x" + "00" * 32,
        "values": None,
    }
    for i, v in enumerate(trace["vectors"]):
        if i != 2:
            assert v["values"] == full[i].tolist()
    # Not even the database holds the hidden vector: only the public ones are packed.
    assert stored.trace == b"".join(v.tobytes() for i, v in enumerate(full) if i != 2)


def test_models(node: Node, api: TestClient) -> None:
    body = api.get("/v1/models").json()
    assert body["count"] == 3
    by_id = {m["model_id"]: m for m in body["data"]}
    digits = by_id[_mid(node, "digits")]
    assert digits["input_dim"] == 64 and digits["output_dim"] == 10 and digits["accepts_float"]
    assert [layer["activation"] for layer in digits["layers"]] == ["relu", "relu", "none"]
    sensitive = by_id[_mid(node, "sensitive")]
    assert sensitive["hidden_trace_indices"] == [2]
    assert [layer["sensitive"] for layer in sensitive["layers"]] == [False, True, True, False]
    assert not by_id[_mid(node, "public")]["accepts_float"]


def test_health_is_503_with_reasons_when_unhealthy(node: Node, api: TestClient) -> None:
    ok = api.get("/healthz")
    assert ok.status_code == 200 and ok.json()["status"] == "ok"
    node.health.ok = False
    bad = api.get("/healthz")
    assert bad.status_code == 503
    assert bad.json()["checks"]["chain"] == {"ok": False, "detail": "fake chain is down"}


def test_metrics_in_prometheus_text_format(node: Node, api: TestClient) -> None:
    ids = _infer(api, node, "public", 3)
    _commit(node, ids[:2], batch_id=1)
    api.get("/v1/receipts/99999")
    answer = api.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = answer.text
    for line in [
        'opzk_node_http_requests_total{handler="create_inference",method="POST",status="201"} 3.0',
        'opzk_node_http_requests_total{handler="read_receipt",method="GET",status="404"} 1.0',
        f'opzk_node_inferences_total{{model="{_mid(node, "public")}"}} 3.0',
        'opzk_node_receipts{status="committed"} 2.0',
        'opzk_node_receipts{status="pending"} 1.0',
        'opzk_node_batches{status="committed"} 1.0',
        "opzk_node_batch_gas_used_total 79805.0",
        "opzk_node_batch_gas_cost_wei_total 239415.0",
    ]:
        assert line in text, line
    assert "opzk_node_http_request_duration_seconds_bucket" in text


def test_openapi_documents_every_endpoint(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    assert set(spec["paths"]) == {
        "/v1/inferences", "/v1/receipts", "/v1/receipts/{request_id}", "/v1/traces/{request_id}",
        "/v1/batches/{batch_id}", "/v1/models", "/healthz", "/metrics", "/v1/requests",
        "/v1/requests/{onchain_id}", "/v1/requests/{onchain_id}/trace",
    }  # fmt: skip
    create = spec["paths"]["/v1/inferences"]["post"]
    body = create["requestBody"]["content"]["application/json"]["schema"]
    assert {"model_id", "input", "input_float", "client"} <= set(body["properties"])
    assert {"201", "400", "413", "415", "422"} <= set(create["responses"])
