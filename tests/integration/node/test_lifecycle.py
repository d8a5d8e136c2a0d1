"""
The whole receipt lifecycle with the real app, the real jobs and the real contracts: request →
committed in a batch → Merkle proof verifies (in Python and by ``InferenceMarket.authenticate``) →
finalized after the challenge window.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from models.digits import MODEL_PATH
from models.store import save_model
from node.service import NodeService
from protocol.activations import act_hash
from protocol.merkle import verify_merkle_proof
from protocol.model import forward_trace
from protocol.quantize import quantize_input
from protocol.receipts import Receipt, receipt_leaf
from protocol.trace import trace_root
from tests import factories
from tests.integration.node.conftest import NodeEnv, claim_ref, wait_for

BATCH_FINALIZED = 2


def _hex(text: str) -> bytes:
    return bytes.fromhex(text[2:])


def test_request_commit_prove_finalize(
    node_env: NodeEnv, start_node: Callable[..., tuple[NodeService, TestClient]]
) -> None:
    chain = node_env.chain
    service, api = start_node()
    rng = np.random.default_rng(4)
    inputs = [rng.integers(-128, 128, 64).astype(np.int8) for _ in range(5)]
    floats = rng.random(64).tolist()
    answers = [
        api.post("/v1/inferences", json={"model_id": node_env.model_id, "input": x.tolist()})
        for x in inputs
    ]
    answers.append(
        api.post(
            "/v1/inferences",
            json={
                "model_id": node_env.model_id,
                "input_float": floats,
                "client": chain.client.address,
            },
        )
    )
    assert [a.status_code for a in answers] == [201] * 6, [a.text for a in answers]
    bodies = [a.json() for a in answers]
    ids = [b["request_id"] for b in bodies]
    assert ids == sorted(ids) and len(set(ids)) == 6
    assert node_env.model.input_scale is not None
    inputs.append(quantize_input(np.asarray(floats), node_env.model.input_scale))
    for body, x in zip(bodies, inputs, strict=True):
        assert body["status"] == "pending"
        assert body["output"] == forward_trace(node_env.model, x)[-1].tolist()

    def all_committed() -> list[dict[str, Any]] | None:
        got = [api.get(f"/v1/receipts/{i}").json() for i in ids]
        return got if all(r["status"] == "committed" for r in got) else None

    receipts = wait_for(all_committed, what="the batcher to commit every receipt")
    for receipt, x, client in zip(
        receipts,
        inputs,
        [chain.w3.to_checksum_address("0x" + "00" * 20)] * 5 + [chain.client.address],
        strict=True,
    ):
        # The receipt's fields are the protocol's: recompute the leaf from the vectors.
        trace = api.get(f"/v1/traces/{receipt['request_id']}").json()
        vectors = [np.asarray(v["values"], dtype=np.int8) for v in trace["vectors"]]
        assert vectors[0].tolist() == x.tolist()
        hashes = [act_hash(v) for v in vectors]
        assert [_hex(v["activation_hash"]) for v in trace["vectors"]] == hashes
        leaf = receipt_leaf(
            Receipt(
                request_id=receipt["request_id"],
                model_id=_hex(node_env.model_id),  # type: ignore[arg-type]
                input_hash=hashes[0],
                output_hash=hashes[-1],
                trace_root=trace_root(hashes),
                node=service.chain.address,  # type: ignore[arg-type]
                client=client,  # type: ignore[arg-type]
            )
        )
        assert receipt["receipt_leaf"] == "0x" + leaf.hex()
        # Python: the proof folds to the root the contract stores.
        batch = receipt["batch"]
        onchain = chain.call(chain.market.functions.batch(batch["batch_id"]))
        assert bytes(onchain[0]) == _hex(batch["root"])
        assert onchain[1] == service.chain.address
        proof = [_hex(p) for p in batch["proof"]]
        assert verify_merkle_proof(proof, bytes(onchain[0]), leaf)
        # Solidity: the contract authenticates the claim and derives the key the node stored.
        claim = chain.call(chain.market.functions.authenticate(claim_ref(receipt)))
        assert bytes(claim[0]) == _hex(receipt["claim_key"])
        assert claim[3] == service.chain.address
        assert batch["tx_hash"] and batch["block"] > 0

    batch_ids = sorted({r["batch"]["batch_id"] for r in receipts})
    for batch_id in batch_ids:
        b = api.get(f"/v1/batches/{batch_id}").json()
        assert b["status"] == "committed" and b["gas_used"] > 0 and b["gas_cost_wei"] > 0

    # After the window the node's finalizer finalizes its batches and the receipts follow.
    chain.advance(chain.params.challenge_window)

    def all_finalized() -> bool:
        return all(api.get(f"/v1/receipts/{i}").json()["status"] == "finalized" for i in ids)

    wait_for(all_finalized, what="the finalizer and the watcher to finalize every receipt")
    for batch_id in batch_ids:
        assert chain.call(chain.market.functions.batch(batch_id))[4] == BATCH_FINALIZED
        assert api.get(f"/v1/batches/{batch_id}").json()["status"] == "finalized"

    health = api.get("/healthz")
    assert health.status_code == 200, health.text
    assert health.json()["checks"][f"model {node_env.model_id}"]["ok"] is True
    metrics = api.get("/metrics").text
    assert 'opzk_node_receipts{status="finalized"} 6.0' in metrics
    assert "opzk_node_batch_gas_used_total" in metrics
    listed = api.get("/v1/receipts", params={"status": "finalized", "limit": 100}).json()
    assert listed["count"] == 6


def test_health_names_a_served_model_the_registry_does_not_know(
    node_env: NodeEnv,
    start_node: Callable[..., tuple[NodeService, TestClient]],
    tmp_path: Path,
) -> None:
    extra = tmp_path / "public.opzkmodel"
    save_model(factories.public_model(), extra)
    service, api = start_node(models=[MODEL_PATH, extra])
    unknown = "0x" + factories.public_model().model_id().hex()
    assert service.unregistered_models() == [bytes.fromhex(unknown[2:])]
    health = api.get("/healthz")
    assert health.status_code == 503
    checks = health.json()["checks"]
    assert checks[f"model {unknown}"] == {"ok": False, "detail": "not registered in ModelRegistry"}
    assert checks[f"model {node_env.model_id}"]["ok"] is True
    assert checks["chain"]["ok"] and checks["deployment"]["ok"]
