"""
Fixtures of the node's integration tests: the real node (app, jobs, store) against the session's
Anvil node and real contracts, with the digits model registered and the node's account staked.

``node_env`` deploys nothing new: it writes the session deployment to a file (the node reads a
deployments file like in production), registers the digits model as the model owner and stakes the
minimum for the node's account (Anvil key 1). The ``chain`` fixture reverts all of it afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from deploy.anvil import ANVIL_DEFAULT_KEYS
from models.digits import MODEL_PATH
from models.store import load_model
from node.service import NodeService
from node.settings import NodeSettings, load_settings
from protocol.model import QuantizedModel
from protocol.receipts import CLAIM_SOURCE_BATCH
from tests.integration.chain_env import ROLE_KEYS, ChainEnv

NODE_KEY = ANVIL_DEFAULT_KEYS[ROLE_KEYS["node"]]


@dataclass
class NodeEnv:
    """The chain, the registered digits model and how to configure a node for them."""

    chain: ChainEnv
    model: QuantizedModel
    model_id: str
    deployments: Path
    directory: Path

    def settings(self, **overrides: Any) -> NodeSettings:
        """Settings for an in-process node (fast intervals, data under the test's tmp dir)."""
        values: dict[str, Any] = {
            "rpc_url": self.chain.anvil.rpc_url,
            "private_key": NODE_KEY,
            "deployments": self.deployments,
            "models": [MODEL_PATH],
            "data_dir": self.directory / "data",
            "batch_interval": 0.25,
            "poll_interval": 0.1,
            "max_batch_size": 64,
            "log_level": "warning",
        }
        values.update(overrides)
        return load_settings(None, **values)


@pytest.fixture
def node_env(chain: ChainEnv, tmp_path: Path) -> NodeEnv:
    deployments = tmp_path / "deployments.json"
    chain.deployment.save(deployments)
    model = load_model(MODEL_PATH)
    model_id = chain.register(model)
    chain.stake()
    return NodeEnv(chain, model, "0x" + model_id.hex(), deployments, tmp_path)


@pytest.fixture
def start_node(node_env: NodeEnv) -> Iterator[Callable[..., tuple[NodeService, TestClient]]]:
    """``start_node(**settings)``: a started in-process node and its test client."""
    started: list[TestClient] = []

    def start(**overrides: Any) -> tuple[NodeService, TestClient]:
        service = NodeService.build(node_env.settings(**overrides))
        service.check_stake()
        client = TestClient(service.app, raise_server_exceptions=False)
        client.__enter__()
        started.append(client)
        return service, client

    yield start
    for client in reversed(started):
        client.__exit__(None, None, None)


def wait_for(
    predicate: Callable[[], Any], *, timeout: float = 20.0, interval: float = 0.05, what: str = ""
) -> Any:
    """Polls ``predicate`` until it returns something truthy; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(interval)


def claim_ref(receipt: dict[str, Any]) -> tuple[object, ...]:
    """The ``ClaimRef`` of a committed receipt, from ``GET /v1/receipts/{id}`` alone."""
    batch = receipt["batch"]
    return (
        CLAIM_SOURCE_BATCH,
        batch["batch_id"],
        [bytes.fromhex(p[2:]) for p in batch["proof"]],
        (
            receipt["request_id"],
            bytes.fromhex(receipt["model_id"][2:]),
            bytes.fromhex(receipt["input_hash"][2:]),
            bytes.fromhex(receipt["output_hash"][2:]),
            bytes.fromhex(receipt["trace_root"][2:]),
            receipt["node"],
            receipt["client"],
        ),
    )
