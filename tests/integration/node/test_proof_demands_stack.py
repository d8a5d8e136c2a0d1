"""
Proof demands on a two-layer sensitive partition against the real node, verified on-chain by the
real SumKzgStackVerifier: digits layers 1–2 (64→64 relu, 64→32 relu) are one private partition
(index 0, its intermediate activation hidden), registered end to end; the node serves the model and
a challenger demands a proof of partition 0 of one of its claims. An honest node answers with one
stack proof, which the stack verifier accepts (the bond goes to the node); a node in cheat mode
``invalid_proof`` sends a well-encoded proof with one bit of its first sumcheck scalar flipped,
which the verifier rejects, and is slashed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from deploy.deployer import STACK_VERIFIER
from models.digits import MODEL_PATH
from models.sensitive import make_sensitive_stack, register_sensitive_model, write_sidecar
from models.store import load_model, save_model
from node.service import NodeService
from node.store import ProofStatus
from opzk.marketplace import Marketplace
from sumkzg import Setup, load_setup
from sumkzg.stack import StackStatement
from tests.integration.chain_env import BURN_ADDRESS, ChainEnv
from tests.integration.node.conftest import NodeEnv, claim_ref, wait_for

PARTITION = 0
STATUS_PROVEN, STATUS_REJECTED = 2, 3


@pytest.fixture(scope="module")
def setup() -> Setup:
    return load_setup()


@dataclass
class StackEnv(NodeEnv):
    """:class:`NodeEnv` of the digits model with layers 1–2 private, with its file."""

    path: Path


@pytest.fixture
def stack_env(chain: ChainEnv, tmp_path: Path, setup: Setup) -> StackEnv:
    """The private digits model on disk with its sidecar, registered; the node staked."""
    model, commitment = make_sensitive_stack(
        load_model(MODEL_PATH), 1, setup, rng=random.Random(37)
    )
    path = tmp_path / "digits-stack.opzkmodel"
    save_model(model, path)
    write_sidecar(path, model, commitment)
    done = register_sensitive_model(
        Marketplace(chain.deployment, chain.owner), model, commitment, setup=setup
    )
    assert done.stack_verifier == chain.deployment.address(STACK_VERIFIER)
    chain.stake()
    deployments = tmp_path / "deployments.json"
    chain.deployment.save(deployments)
    return StackEnv(chain, model, "0x" + done.model_id.hex(), deployments, tmp_path, path)


@pytest.fixture
def start_stack(stack_env: StackEnv) -> Iterator[Callable[..., tuple[NodeService, TestClient]]]:
    """``start_stack(**settings)``: a started node serving the private model."""
    started: list[TestClient] = []

    def start(**overrides: Any) -> tuple[NodeService, TestClient]:
        settings = stack_env.settings(models=[stack_env.path], **overrides)
        service = NodeService.build(settings)
        service.check_stake()
        client = TestClient(service.app, raise_server_exceptions=False)
        client.__enter__()
        started.append(client)
        return service, client

    yield start
    for client in reversed(started):
        client.__exit__(None, None, None)


def _committed(api: TestClient, model_id: str, count: int = 2) -> list[dict[str, Any]]:
    rng = np.random.default_rng(9)
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
    tx = chain.challenger.send(
        chain.pdg.functions.demandProof(ref, PARTITION), value=chain.params.proof_bond
    )
    (event,) = chain.events(chain.pdg, "ProofDemanded", tx)
    return int(event["demandId"]), int(event["deadline"])


def _kinds(api: TestClient, request_id: int) -> list[str]:
    return [d["kind"] for d in api.get(f"/v1/receipts/{request_id}").json()["disputes"]]


def test_honest_node_proves_the_stack_and_is_paid_the_bond(
    stack_env: StackEnv, start_stack: Callable[..., tuple[NodeService, TestClient]]
) -> None:
    chain = stack_env.chain
    service, api = start_stack()
    receipt = _committed(api, stack_env.model_id)[1]
    request_id = receipt["request_id"]
    # The hidden activation h_1 is never served.
    trace = api.get(f"/v1/traces/{request_id}").json()
    assert [(v["hidden"], v["values"] is None) for v in trace["vectors"]] == [
        (False, False), (True, True), (False, False), (False, False),
    ]  # fmt: skip
    node, ch = service.chain.address, chain.challenger.address
    before = chain.ledger(node, ch)
    demand_id, deadline = _demand(chain, claim_ref(receipt))

    outcomes = {"proof_accepted", "proof_rejected"}
    wait_for(lambda: outcomes & set(_kinds(api, request_id)), timeout=90, what="the answer")
    assert "proof_accepted" in _kinds(api, request_id)
    assert chain.now() <= deadline
    assert chain.call(chain.pdg.functions.getDemand(demand_id))[4] == STATUS_PROVEN
    after = chain.ledger(node, ch)
    assert after[f"scredit:{node}"] == before[f"scredit:{node}"] + chain.params.proof_bond
    assert after[f"stake:{node}"] == before[f"stake:{node}"]
    assert after[f"scredit:{ch}"] == before[f"scredit:{ch}"]
    demand = service.store.proof_demand(demand_id)
    assert demand is not None and demand.status is ProofStatus.ACCEPTED
    assert demand.gas_used is not None and demand.prove_seconds is not None
    # The proof is bound to the partition's registered verifier: the stack verifier.
    job = service.prover._job(demand)
    assert isinstance(job.statement, StackStatement)
    assert job.statement.verifier == chain.deployment.address(STACK_VERIFIER)
    print(
        f"\ndigits layers 1–2 (stack): proved in {demand.prove_seconds:.2f} s on the node; "
        f"submitProof gas {demand.gas_used:,} (verification included)"
    )


def test_invalid_stack_proof_cheat_is_rejected_and_slashed(
    stack_env: StackEnv, start_stack: Callable[..., tuple[NodeService, TestClient]]
) -> None:
    chain = stack_env.chain
    service, api = start_stack(cheat_rate=1.0, cheat_modes=["invalid_proof"], cheat_seed=4)
    receipt = _committed(api, stack_env.model_id)[0]
    request_id = receipt["request_id"]
    node, ch = service.chain.address, chain.challenger.address
    before = chain.ledger(node, ch)
    demand_id, _ = _demand(chain, claim_ref(receipt))

    wait_for(lambda: "proof_rejected" in _kinds(api, request_id), timeout=90, what="the answer")
    assert chain.call(chain.pdg.functions.getDemand(demand_id))[4] == STATUS_REJECTED
    after = chain.ledger(node, ch)
    slash, reward = chain.params.slash_amount, chain.reward()
    assert after[f"stake:{node}"][0] == before[f"stake:{node}"][0] - slash
    assert after[f"scredit:{ch}"] == before[f"scredit:{ch}"] + chain.params.proof_bond + reward
    assert after[f"eth:{BURN_ADDRESS}"] == before[f"eth:{BURN_ADDRESS}"] + slash - reward
    demand = service.store.proof_demand(demand_id)
    assert demand is not None and demand.status is ProofStatus.REJECTED
