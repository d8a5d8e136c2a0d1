"""
Proof demands against the real node, verified by the real SumKzgVerifier: the digits model with
layer 2 (64 → 32, relu) private is registered, the node serves it, and a challenger demands a proof
of partition 1 of one of its claims. An honest node proves and is paid the bond; a node in cheat
mode ``invalid_proof`` sends a proof that does not verify and is slashed; one in ``refused_proof``
never answers and is slashed after the deadline; a demand seen before a restart is answered after
it, once.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from models.digits import MODEL_PATH
from models.sensitive import make_sensitive, register_sensitive_model, write_sidecar
from models.store import load_model, save_model
from node.prover import prove_job
from node.service import NodeService
from node.store import ProofStatus
from opzk.marketplace import Marketplace
from protocol import errors
from protocol.receipts import CLAIM_SOURCE_REQUEST
from sumkzg import Setup, load_setup
from tests.integration.chain_env import BURN_ADDRESS, ChainEnv
from tests.integration.node.conftest import NodeEnv, claim_ref, wait_for

PARTITION = 1
STATUS_PROVEN, STATUS_REJECTED, STATUS_TIMED_OUT = 2, 3, 4


@pytest.fixture(scope="module")
def setup() -> Setup:
    return load_setup()


@dataclass
class PrivateEnv(NodeEnv):
    """:class:`NodeEnv` of the private digits model, with its file (the sidecar beside it)."""

    path: Path


@pytest.fixture
def private_env(chain: ChainEnv, tmp_path: Path, setup: Setup) -> PrivateEnv:
    """The private digits model on disk with its sidecar, registered; the node staked."""
    model, commitment = make_sensitive(load_model(MODEL_PATH), 2, setup, rng=random.Random(31))
    path = tmp_path / "digits-private.opzkmodel"
    save_model(model, path)
    write_sidecar(path, model, commitment)
    done = register_sensitive_model(
        Marketplace(chain.deployment, chain.owner), model, commitment, setup=setup
    )
    chain.stake()
    deployments = tmp_path / "deployments.json"
    chain.deployment.save(deployments)
    return PrivateEnv(chain, model, "0x" + done.model_id.hex(), deployments, tmp_path, path)


@pytest.fixture
def start_private(
    private_env: PrivateEnv,
) -> Iterator[Callable[..., tuple[NodeService, TestClient]]]:
    """``start_private(**settings)``: a started node serving the private model."""
    started: list[TestClient] = []

    def start(**overrides: Any) -> tuple[NodeService, TestClient]:
        settings = private_env.settings(models=[private_env.path], **overrides)
        service = NodeService.build(settings)
        service.check_stake()
        client = TestClient(service.app, raise_server_exceptions=False)
        client.__enter__()
        started.append(client)
        return service, client

    yield start
    for client in reversed(started):
        client.__exit__(None, None, None)


def _committed(api: TestClient, model_id: str, count: int = 3) -> list[dict[str, Any]]:
    rng = np.random.default_rng(5)
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


def _demand(chain: ChainEnv, ref: tuple[object, ...]) -> tuple[int, int]:
    """The challenger demands a proof of partition 1; returns (demand id, deadline)."""
    tx = chain.challenger.send(
        chain.pdg.functions.demandProof(ref, PARTITION), value=chain.params.proof_bond
    )
    (event,) = chain.events(chain.pdg, "ProofDemanded", tx)
    return int(event["demandId"]), int(event["deadline"])


def _kinds(api: TestClient, request_id: int) -> list[str]:
    return [d["kind"] for d in api.get(f"/v1/receipts/{request_id}").json()["disputes"]]


def test_honest_node_proves_and_is_paid_the_bond(
    private_env: PrivateEnv, start_private: Callable[..., tuple[NodeService, TestClient]]
) -> None:
    chain = private_env.chain
    service, api = start_private()
    receipt = _committed(api, private_env.model_id)[1]
    request_id = receipt["request_id"]
    node, ch = service.chain.address, chain.challenger.address
    before = chain.ledger(node, ch)
    demand_id, deadline = _demand(chain, claim_ref(receipt))

    wait_for(lambda: "proof_accepted" in _kinds(api, request_id), timeout=60, what="the proof")
    assert chain.now() <= deadline
    assert chain.call(chain.pdg.functions.getDemand(demand_id))[4] == STATUS_PROVEN
    after = chain.ledger(node, ch)
    assert after[f"scredit:{node}"] == before[f"scredit:{node}"] + chain.params.proof_bond
    assert after[f"stake:{node}"] == before[f"stake:{node}"]
    assert after[f"scredit:{ch}"] == before[f"scredit:{ch}"]
    assert after[f"bond:{ch}"] == 0
    assert _kinds(api, request_id) == [
        "dispute_opened", "proof_demanded", "dispute_closed", "proof_accepted",
    ]  # fmt: skip
    wait_for(
        lambda: api.get(f"/v1/receipts/{request_id}").json()["status"] == "committed",
        what="the dispute to close",
    )
    demand = service.store.proof_demand(demand_id)
    assert demand is not None and demand.status is ProofStatus.ACCEPTED
    assert demand.gas_used is not None and demand.prove_seconds is not None
    assert demand.tx_hash is not None
    tx = chain.w3.eth.get_transaction_receipt(demand.tx_hash)
    assert int(tx["gasUsed"]) == demand.gas_used
    print(
        f"\ndigits layer 2 (32×64): proved in {demand.prove_seconds:.2f} s on the node; "
        f"submitProof gas {demand.gas_used:,} (verification included)"
    )

    # Idempotent: asked again, the prover neither proves nor sends; a demand recorded as being
    # sent with a transaction the chain never saw is closed from the chain's status.
    nonce = chain.nonce(node)
    assert service.prover.answer(demand_id) is ProofStatus.ACCEPTED
    service.store.set_proof_status(demand_id, ProofStatus.SENDING, tx_hash=b"\x99" * 32)
    assert service.prover.answer(demand_id) is ProofStatus.ACCEPTED
    assert chain.nonce(node) == nonce


def test_invalid_proof_cheat_is_rejected_and_slashed(
    private_env: PrivateEnv, start_private: Callable[..., tuple[NodeService, TestClient]]
) -> None:
    chain = private_env.chain
    service, api = start_private(cheat_rate=1.0, cheat_modes=["invalid_proof"], cheat_seed=4)
    receipt = _committed(api, private_env.model_id)[0]
    request_id = receipt["request_id"]
    node, ch = service.chain.address, chain.challenger.address
    before = chain.ledger(node, ch)
    demand_id, _ = _demand(chain, claim_ref(receipt))

    wait_for(lambda: "proof_rejected" in _kinds(api, request_id), timeout=60, what="the answer")
    assert chain.call(chain.pdg.functions.getDemand(demand_id))[4] == STATUS_REJECTED
    after = chain.ledger(node, ch)
    slash, reward = chain.params.slash_amount, chain.reward()
    assert after[f"stake:{node}"][0] == before[f"stake:{node}"][0] - slash
    assert after[f"scredit:{ch}"] == before[f"scredit:{ch}"] + chain.params.proof_bond + reward
    assert after[f"scredit:{node}"] == before[f"scredit:{node}"]
    assert after[f"eth:{BURN_ADDRESS}"] == before[f"eth:{BURN_ADDRESS}"] + slash - reward
    wait_for(
        lambda: api.get(f"/v1/receipts/{request_id}").json()["status"] == "slashed",
        what="the watcher to see the slash",
    )
    demand = service.store.proof_demand(demand_id)
    assert demand is not None and demand.status is ProofStatus.REJECTED
    records = _cheats(service)
    assert records[request_id] == ("invalid_proof", True)
    assert all(not effective for rid, (_, effective) in records.items() if rid != request_id)


def test_refused_proof_cheat_times_out_and_is_slashed(
    private_env: PrivateEnv, start_private: Callable[..., tuple[NodeService, TestClient]]
) -> None:
    chain = private_env.chain
    service, api = start_private(cheat_rate=1.0, cheat_modes=["refused_proof"])
    receipt = _committed(api, private_env.model_id)[2]
    request_id = receipt["request_id"]
    node, ch = service.chain.address, chain.challenger.address
    demand_id, deadline = _demand(chain, claim_ref(receipt))

    def refused() -> bool:
        demand = service.store.proof_demand(demand_id)
        return demand is not None and demand.status is ProofStatus.REFUSED

    wait_for(refused, what="the node to refuse")
    assert _cheats(service)[request_id] == ("refused_proof", True)
    before = chain.ledger(node, ch)
    with pytest.raises(errors.DeadlineNotPassed):
        chain.challenger.send(chain.pdg.functions.resolveTimeout(demand_id))
    chain.advance(deadline + 1 - chain.now())
    tx = chain.challenger.send(chain.pdg.functions.resolveTimeout(demand_id))
    (event,) = chain.events(chain.pdg, "ProofDemandTimedOut", tx)
    assert event["slashed"] == chain.params.slash_amount
    after = chain.ledger(node, ch)
    slash, reward = chain.params.slash_amount, chain.reward()
    assert after[f"stake:{node}"][0] == before[f"stake:{node}"][0] - slash
    assert after[f"scredit:{ch}"] == before[f"scredit:{ch}"] + chain.params.proof_bond + reward
    assert chain.call(chain.pdg.functions.getDemand(demand_id))[4] == STATUS_TIMED_OUT
    wait_for(lambda: "proof_timed_out" in _kinds(api, request_id), what="the watcher")
    demand = service.store.proof_demand(demand_id)
    assert demand is not None and demand.status is ProofStatus.TIMED_OUT
    assert api.get(f"/v1/receipts/{request_id}").json()["status"] == "slashed"


def test_a_demand_seen_before_a_restart_is_answered_after_it(
    private_env: PrivateEnv, start_private: Callable[..., tuple[NodeService, TestClient]]
) -> None:
    chain = private_env.chain
    # A node that records demands but does not answer them (as if it crashed before proving).
    service, api = start_private(respond_to_challenges=False)
    receipt = _committed(api, private_env.model_id)[0]
    demand_id, _ = _demand(chain, claim_ref(receipt))

    def recorded() -> bool:
        return service.store.proof_demand(demand_id) is not None

    wait_for(recorded, what="the watcher to record the demand")
    demand = service.store.proof_demand(demand_id)
    assert demand is not None and demand.status is ProofStatus.OPEN
    api.__exit__(None, None, None)  # stop it (jobs, prover, writer)

    restarted, api2 = start_private()
    wait_for(
        lambda: "proof_accepted" in _kinds(api2, receipt["request_id"]),
        timeout=60,
        what="the restarted node to answer",
    )
    assert chain.call(chain.pdg.functions.getDemand(demand_id))[4] == STATUS_PROVEN
    submits = [
        tx
        for n in range(private_env.chain.session.base_block, chain.block_number() + 1)
        for tx in chain.w3.eth.get_block(n, full_transactions=True)["transactions"]
        if tx["to"] == chain.pdg.address and tx["from"] == restarted.chain.address
    ]
    assert len(submits) == 1  # answered exactly once


def test_an_answer_lost_in_a_crash_is_resent_without_proving_again(
    private_env: PrivateEnv,
    start_private: Callable[..., tuple[NodeService, TestClient]],
    setup: Setup,
) -> None:
    """A crash after the proof and its transaction were recorded, before the broadcast."""
    chain = private_env.chain
    service, api = start_private(respond_to_challenges=False)
    receipt = _committed(api, private_env.model_id)[1]
    demand_id, _ = _demand(chain, claim_ref(receipt))
    wait_for(lambda: service.store.proof_demand(demand_id) is not None, what="the watcher")
    demand = service.store.proof_demand(demand_id)
    assert demand is not None
    proof = prove_job(setup, service.prover._job(demand))
    marker = 1234.5  # a proving time no real proof takes: shows the stored proof is re-used
    service.store.set_proof_status(
        demand_id, ProofStatus.SENDING, tx_hash=b"\x77" * 32, proof=proof, prove_seconds=marker
    )
    api.__exit__(None, None, None)

    restarted, _ = start_private()

    def accepted() -> bool:
        d = restarted.store.proof_demand(demand_id)
        return d is not None and d.status is ProofStatus.ACCEPTED

    wait_for(accepted, timeout=60, what="the re-sent answer")
    after = restarted.store.proof_demand(demand_id)
    assert after is not None and after.prove_seconds == marker and after.proof == proof
    assert after.tx_hash != b"\x77" * 32
    assert chain.call(chain.pdg.functions.getDemand(demand_id))[4] == STATUS_PROVEN


def test_a_demand_on_an_onchain_request_is_proven(
    private_env: PrivateEnv, start_private: Callable[..., tuple[NodeService, TestClient]]
) -> None:
    chain = private_env.chain
    model_id = bytes.fromhex(private_env.model_id[2:])
    Marketplace(chain.deployment, chain.node).serve(model_id)
    x = np.arange(-32, 32, dtype=np.int8)
    request_id = Marketplace(chain.deployment, chain.client).request_inference(
        model_id, x, chain.params.min_request_fee
    )
    service, api = start_private()

    def committed() -> dict[str, Any] | None:
        body: dict[str, Any] = api.get(f"/v1/requests/{request_id}").json()
        return body if body.get("status") == "committed" else None

    body = wait_for(committed, what="the node to fulfil the request")
    ref = (
        CLAIM_SOURCE_REQUEST,
        request_id,
        [],
        (
            request_id,
            model_id,
            bytes.fromhex(body["input_hash"][2:]),
            bytes.fromhex(body["output_hash"][2:]),
            bytes.fromhex(body["trace_root"][2:]),
            body["node"],
            body["client"],
        ),
    )
    node = service.chain.address
    credits = chain.call(chain.stakes.functions.credits(node))
    demand_id, _ = _demand(chain, ref)

    def accepted() -> bool:
        demand = service.store.proof_demand(demand_id)
        return demand is not None and demand.status is ProofStatus.ACCEPTED

    wait_for(accepted, timeout=60, what="the proof of the on-chain request")
    demand = service.store.proof_demand(demand_id)
    assert demand is not None and (demand.source, demand.request_id) == (1, request_id)
    assert chain.call(chain.pdg.functions.getDemand(demand_id))[4] == STATUS_PROVEN
    assert chain.call(chain.stakes.functions.credits(node)) == credits + chain.params.proof_bond

    def history() -> list[str] | None:
        kinds = [d["kind"] for d in api.get(f"/v1/requests/{request_id}").json()["disputes"]]
        return kinds if "proof_accepted" in kinds else None

    assert "proof_demanded" in wait_for(history, what="the request's dispute history")


def _cheats(service: NodeService) -> dict[int, tuple[str, bool]]:
    path = service.settings.data_dir / "cheats.jsonl"
    out: dict[int, tuple[str, bool]] = {}
    for line in path.read_text().splitlines():
        if line.strip():
            data = json.loads(line)
            out[int(data["request_id"])] = (str(data["mode"]), bool(data["effective"]))
    return out
