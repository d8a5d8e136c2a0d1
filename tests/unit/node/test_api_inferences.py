"""``POST /v1/inferences`` with the real app: outputs, receipts, ids, durability, micro-batching."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import numpy as np
from fastapi.testclient import TestClient

from node.records import ReceiptStatus
from protocol.model import forward_trace
from protocol.quantize import quantize_input
from protocol.receipts import Receipt, receipt_leaf
from protocol.trace import trace_activation_hashes, trace_root
from protocol.types import to_address
from tests.unit.node.helpers import CLIENT, NODE, Node, build_node, running


def _mid(node: Node, name: str) -> str:
    return "0x" + node.models[name].model_id.hex()


def test_create_inference_answers_after_storing_the_receipt(node: Node, api: TestClient) -> None:
    served = node.models["public"]
    x = np.random.default_rng(0).integers(-128, 128, served.in_dim).astype(np.int8)
    answer = api.post(
        "/v1/inferences",
        json={"model_id": _mid(node, "public"), "input": x.tolist(), "client": CLIENT},
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    trace = forward_trace(served.model, x)
    assert body["output"] == trace[-1].tolist()
    assert body["status"] == "pending" and body["model_id"] == _mid(node, "public")
    assert answer.headers["location"] == f"/v1/receipts/{body['request_id']}"
    hashes = trace_activation_hashes(trace, served.hidden)
    expected = Receipt(
        request_id=body["request_id"],
        model_id=served.model.model_id(),
        input_hash=hashes[0],
        output_hash=hashes[-1],
        trace_root=trace_root(hashes),
        node=to_address(NODE),
        client=to_address(CLIENT),
    )
    assert body["receipt_leaf"] == "0x" + receipt_leaf(expected).hex()
    stored = node.store.receipt(body["request_id"])  # durable before the answer
    assert stored is not None and stored.status == ReceiptStatus.PENDING
    assert stored.receipt_leaf.hex() == body["receipt_leaf"][2:]


def test_float_input_is_quantized_by_the_model_rule(node: Node, api: TestClient) -> None:
    served = node.models["digits"]
    assert served.model.input_scale is not None
    floats = np.random.default_rng(1).random(served.in_dim) * 1.5 - 0.2
    answer = api.post(
        "/v1/inferences", json={"model_id": _mid(node, "digits"), "input_float": floats.tolist()}
    )
    assert answer.status_code == 201, answer.text
    q = quantize_input(floats, served.model.input_scale)
    assert answer.json()["output"] == forward_trace(served.model, q)[-1].tolist()
    stored = node.store.receipt(answer.json()["request_id"])
    assert stored is not None and stored.input == q.tobytes()
    assert stored.client == "0x" + "00" * 20


def test_request_ids_increase_and_continue_after_a_restart(tmp_path: Path) -> None:
    first = build_node(tmp_path, names=("public",))
    payload = {"model_id": _mid(first, "public"), "input": [1] * 36}
    with running(first) as api:
        ids = [api.post("/v1/inferences", json=payload).json()["request_id"] for _ in range(3)]
    assert ids == [1, 2, 3]
    second = build_node(tmp_path, names=("public",))  # same database
    with running(second) as api:
        assert api.post("/v1/inferences", json=payload).json()["request_id"] == 4


def test_concurrent_requests_are_micro_batched(node: Node, api: TestClient) -> None:
    served = node.models["digits"]
    xs = np.random.default_rng(2).integers(-128, 128, (64, served.in_dim)).astype(np.int8)

    async def send_all() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=node.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://node") as client:
            return await asyncio.gather(
                *[
                    client.post(
                        "/v1/inferences",
                        json={"model_id": _mid(node, "digits"), "input": x.tolist()},
                    )
                    for x in xs
                ]
            )

    answers = asyncio.run(send_all())
    assert all(a.status_code == 201 for a in answers)
    ids = [a.json()["request_id"] for a in answers]
    assert len(set(ids)) == 64
    for answer, x in zip(answers, xs, strict=True):
        assert answer.json()["output"] == forward_trace(served.model, x)[-1].tolist()
    # Several requests ran as one runtime batch, and writes were grouped.
    assert node.metrics.micro_batch._sum.get() == 64  # type: ignore[attr-defined]
    batches = node.metrics.registry.get_sample_value("opzk_node_inference_micro_batch_size_count")
    assert batches is not None and batches < 64
    assert node.writer.commits < 64


def test_numpy_backend_gives_the_same_answers(tmp_path: Path) -> None:
    torch_node = build_node(tmp_path / "t", names=("digits",))
    numpy_node = build_node(tmp_path / "n", names=("digits",), backend="numpy")
    x = np.random.default_rng(3).integers(-128, 128, 64).tolist()
    payload = {"model_id": _mid(torch_node, "digits"), "input": x}
    with running(torch_node) as a, running(numpy_node) as b:
        assert (
            a.post("/v1/inferences", json=payload).json()
            == b.post("/v1/inferences", json=payload).json()
        )
