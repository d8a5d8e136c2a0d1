"""
Fixtures of the end-to-end tests: the real node service over real HTTP and the real challenger
service, against the session's Anvil node and real contracts.

- ``e2e`` writes the session deployment to a file (node and challenger read one, as in
  production), registers the digits model as the model owner and stakes the minimum for the
  node's account (Anvil key 1). The ``chain`` fixture reverts all of it afterwards.
- ``start_node(**settings)`` builds :class:`node.service.NodeService` and serves its app with
  uvicorn on a free loopback port in a background thread (lifespan on: the batcher, watcher,
  on-chain requests, responder and finalizer jobs run as in ``opzk node run``), then calls
  ``serveModel`` as ``opzk node run`` does.
- ``private_model`` makes layer 2 of the digits model (64 → 32, relu) a one-layer sensitive
  partition (:func:`models.sensitive.make_sensitive`), writes it with its commitment sidecar for
  the node and a copy without the private weights for the challengers, and registers it with the
  deployment's real ``SumKzgVerifier`` (:func:`models.sensitive.register_sensitive_model`).
- ``start_challenger(role, **settings)`` builds a challenger with
  :func:`challenger.service.build_challenger` from :class:`~challenger.config.ChallengerSettings`
  (so it reads traces through :class:`~challenger.source.HttpTraceSource` over HTTP and events
  through ``eth_getLogs``); :class:`ServiceThread` runs its scheduled jobs
  (:func:`challenger.service.run_service`) until stopped.

Every node and challenger a test starts is stopped before the chain is reverted (fixture order).
"""

from __future__ import annotations

import contextlib
import json
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import uvicorn
from prometheus_client.parser import text_string_to_metric_families

from challenger.config import ChallengerSettings
from challenger.config import load_settings as load_challenger_settings
from challenger.service import Challenger, build_challenger, run_service
from challenger.state import ChallengerState
from deploy.anvil import ANVIL_DEFAULT_KEYS, free_port
from models.digits import MODEL_PATH
from models.sensitive import make_sensitive, register_sensitive_model, write_sidecar
from models.store import load_model, save_model
from node.service import NodeService
from node.settings import NodeSettings
from node.settings import load_settings as load_node_settings
from opzk.demo import public_copy
from opzk.marketplace import Marketplace
from protocol.model import QuantizedModel
from sumkzg import load_setup
from tests.integration.chain_env import ROLE_KEYS, ChainEnv

NODE_KEY = ANVIL_DEFAULT_KEYS[ROLE_KEYS["node"]]
SECRET = "0x" + "5e" * 32
"""The challengers' sampling secret (p = 1 makes it irrelevant, but it must be set)."""
NO_WITHDRAWAL = 10**30
"""A credit threshold no test reaches: the challenger never withdraws, so credits can be read."""


def wait_for(
    predicate: Callable[[], Any], *, timeout: float = 30.0, interval: float = 0.05, what: str = ""
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


@dataclass
class E2EEnv:
    """The chain, the registered digits model, and how to configure node and challengers."""

    chain: ChainEnv
    model: QuantizedModel
    model_id: bytes
    deployments: Path
    directory: Path

    @property
    def model_hex(self) -> str:
        return "0x" + self.model_id.hex()

    def node_settings(self, **overrides: Any) -> NodeSettings:
        """Settings of an in-process node: fast intervals, data under the test's tmp dir."""
        values: dict[str, Any] = {
            "rpc_url": self.chain.anvil.rpc_url,
            "private_key": NODE_KEY,
            "deployments": self.deployments,
            "models": [MODEL_PATH],
            "data_dir": self.directory / "node",
            "batch_interval": 0.25,
            "poll_interval": 0.1,
            "max_batch_size": 256,
            "log_level": "warning",
        }
        values.update(overrides)
        return load_node_settings(None, **values)

    def challenger_values(self, role: str, node_url: str, **overrides: Any) -> dict[str, Any]:
        """The settings of a challenger playing ``role`` (``challenger`` or ``challenger2``)."""
        values: dict[str, Any] = {
            "rpc_url": self.chain.anvil.rpc_url,
            "private_key": ANVIL_DEFAULT_KEYS[ROLE_KEYS[role]],
            "sampling_secret": SECRET,
            "deployments": str(self.deployments),
            "node_urls": [node_url],
            "sampling_probability": 1.0,
            "state_path": str(self.directory / f"{role}.sqlite"),
            "poll_interval": 0.2,
            "window_margin": 5,
            "device": "cpu",
            "credit_threshold": NO_WITHDRAWAL,
        }
        values.update(overrides)
        return values

    def challenger_settings(self, role: str, node_url: str, **overrides: Any) -> ChallengerSettings:
        return load_challenger_settings(None, **self.challenger_values(role, node_url, **overrides))

    def challenger_config(self, role: str, node_url: str, **overrides: Any) -> Path:
        """The same settings as a JSON config file (for ``opzk challenger run --config``)."""
        path = self.directory / f"{role}.json"
        path.write_text(json.dumps(self.challenger_values(role, node_url, **overrides)))
        return path


class RunningNode:
    """A :class:`NodeService` served over HTTP by uvicorn in a background thread."""

    def __init__(self, service: NodeService) -> None:
        self.service = service
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            service.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            access_log=False,
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="e2e-node", daemon=True)
        self.http = httpx.Client(base_url=self.url, timeout=30)

    def start(self) -> RunningNode:
        self.thread.start()
        wait_for(lambda: self.server.started, timeout=30, what="the node's HTTP server")
        return self

    def stop(self) -> None:
        self.http.close()
        self.server.should_exit = True
        self.thread.join(30)

    def get(self, path: str, **params: Any) -> Any:
        """JSON of ``GET /v1{path}`` (asserting a 2xx)."""
        answer = self.http.get(f"/v1{path}", params=params or None)
        answer.raise_for_status()
        return answer.json()

    def count(self, status: str) -> int:
        """How many receipts the node lists with ``status``."""
        return int(self.get("/receipts", status=status, limit=1)["count"])

    def served(self, handler: str) -> int:
        """How many requests the node answered 2xx with route ``handler`` (from ``/metrics``)."""
        text = self.http.get("/metrics").text
        total = 0.0
        for family in text_string_to_metric_families(text):
            if family.name != "opzk_node_http_requests":
                continue
            for sample in family.samples:
                labels = sample.labels
                if (
                    sample.name.endswith("_total")
                    and labels.get("handler") == handler
                    and labels.get("status", "").startswith("2")
                ):
                    total += sample.value
        return int(total)

    def cheats(self) -> list[dict[str, Any]]:
        """The node's cheat record (``cheats.jsonl`` under its data dir)."""
        path = self.service.settings.data_dir / "cheats.jsonl"
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def infer(self, inputs: Sequence[Sequence[int]], threads: int = 8) -> list[dict[str, Any]]:
        """``POST /v1/inferences`` for every input, ``threads`` at a time; the 201 bodies."""

        def one(client: httpx.Client, x: Sequence[int]) -> dict[str, Any]:
            answer = client.post(
                "/v1/inferences", json={"model_id": self.model_hex, "input": list(x)}
            )
            assert answer.status_code == 201, answer.text
            body: dict[str, Any] = answer.json()
            return body

        clients = [httpx.Client(base_url=self.url, timeout=30) for _ in range(threads)]
        try:
            with ThreadPoolExecutor(threads) as pool:
                futures = [pool.submit(one, clients[i % threads], x) for i, x in enumerate(inputs)]
                return [f.result() for f in futures]
        finally:
            for c in clients:
                c.close()

    @property
    def model_hex(self) -> str:
        (model_id,) = self.service.runtime.models
        return "0x" + bytes(model_id).hex()

    def wait_all_committed(self, n: int, timeout: float = 60.0) -> None:
        """Waits until no receipt is pending and ``n`` are in batches the node saw mined."""

        def done() -> bool:
            if self.count("pending"):
                return False
            return (
                sum(self.count(s) for s in ("committed", "finalized", "disputed", "slashed")) >= n
            )

        wait_for(done, timeout=timeout, interval=0.1, what=f"{n} receipts to be committed")


class ServiceThread:
    """:func:`run_service` of a challenger in a background thread, stopped by :meth:`stop`."""

    def __init__(self, challenger: Challenger, poll_interval: float) -> None:
        self.challenger = challenger
        self.stopped = threading.Event()
        self.thread = threading.Thread(
            target=run_service,
            args=(challenger, poll_interval, self.stopped),
            name="e2e-challenger",
            daemon=True,
        )

    def start(self) -> ServiceThread:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(30)


@dataclass
class Started:
    """What a test started, stopped in reverse order at teardown."""

    nodes: list[RunningNode] = field(default_factory=list)
    services: list[ServiceThread] = field(default_factory=list)
    challengers: list[Challenger] = field(default_factory=list)


@pytest.fixture
def e2e(chain: ChainEnv, tmp_path: Path) -> E2EEnv:
    deployments = tmp_path / "deployments.json"
    chain.deployment.save(deployments)
    model = load_model(MODEL_PATH)
    model_id = chain.register(model)
    chain.stake()
    return E2EEnv(chain, model, model_id, deployments, tmp_path)


PRIVATE_LAYER = 2
"""The digits layer made private by ``private_model`` (64 → 32, relu)."""
PRIVATE_PARTITION = 1
"""Its partition index (layer 1 is partition 0, layer 3 partition 2)."""


@dataclass
class PrivateModel:
    """The digits model with one private layer, registered with the real ``SumKzgVerifier``."""

    model: QuantizedModel
    model_id: bytes
    path: Path
    """The node's model file (private weights included), its commitment sidecar beside it."""
    public_path: Path
    """The challengers' copy: the same model id, the private layer's weights zeroed."""

    @property
    def model_hex(self) -> str:
        return "0x" + self.model_id.hex()


@pytest.fixture
def private_model(e2e: E2EEnv) -> PrivateModel:
    """
    Layer :data:`PRIVATE_LAYER` of the digits model made private (a fixed blinding column: tests
    only), written with its sidecar, and registered by the model owner (proof of well-formedness
    checked on-chain by ``SumKzgVerifier.registerCommitment``).
    """
    setup = load_setup()
    model, commitment = make_sensitive(
        load_model(MODEL_PATH), PRIVATE_LAYER, setup, rng=random.Random(61)
    )
    path = e2e.directory / "digits-private.opzkmodel"
    save_model(model, path)
    write_sidecar(path, model, commitment)
    public_path = e2e.directory / "digits-public-view.opzkmodel"
    save_model(public_copy(model), public_path)
    done = register_sensitive_model(
        Marketplace(e2e.chain.deployment, e2e.chain.owner), model, commitment, setup=setup
    )
    return PrivateModel(model, done.model_id, path, public_path)


@pytest.fixture
def started() -> Iterator[Started]:
    """The registry of started nodes and challengers; everything is stopped afterwards."""
    s = Started()
    yield s
    for service in reversed(s.services):
        service.stop()
    for node in reversed(s.nodes):
        node.stop()
    for ch in s.challengers:
        with contextlib.suppress(Exception):  # already closed by run_service
            ch.state.close()


@pytest.fixture
def start_node(e2e: E2EEnv, started: Started) -> Callable[..., RunningNode]:
    """``start_node(**settings)``: a node serving HTTP on a free port, serving on-chain requests."""

    def start(**overrides: Any) -> RunningNode:
        service = NodeService.build(e2e.node_settings(**overrides))
        service.check_stake()
        service.ensure_serving()
        node = RunningNode(service).start()
        started.nodes.append(node)
        return node

    return start


@pytest.fixture
def start_challenger(e2e: E2EEnv, started: Started) -> Callable[..., Challenger]:
    """
    ``start_challenger(role, node_url, **settings)``: a challenger built from settings as
    ``opzk challenger run`` builds it (fast retries for the tests).
    """

    def start(role: str, node_url: str, **overrides: Any) -> Challenger:
        ch = build_challenger(e2e.challenger_settings(role, node_url, **overrides))
        ch.retry_backoff_s = 0.1
        ch.max_retry_backoff_s = 1.0
        started.challengers.append(ch)
        return ch

    return start


@pytest.fixture
def run_in_background(started: Started) -> Callable[[Challenger, float], ServiceThread]:
    """``run_in_background(challenger, poll_interval)``: its scheduled jobs, until teardown."""

    def run(ch: Challenger, poll_interval: float = 0.2) -> ServiceThread:
        service = ServiceThread(ch, poll_interval).start()
        started.services.append(service)
        return service

    return run


def advance(chain: ChainEnv, seconds: int) -> int:
    """
    Moves the chain's clock forward by ``seconds`` and mines; returns the new timestamp.

    Unlike ``ChainEnv.advance`` it does not pin the next block's timestamp: node and challengers
    keep sending transactions from their threads meanwhile.
    """
    chain.rpc("evm_increaseTime", seconds)
    chain.rpc("evm_mine")
    return chain.now()


def reader(ch: Challenger) -> ChallengerState:
    """A second connection to a running challenger's state file (WAL: reads do not block it)."""
    return ChallengerState(ch.state.path)


def random_inputs(n: int, seed: int, width: int = 64) -> list[list[int]]:
    """``n`` int8 input vectors."""
    rng = np.random.default_rng(seed)
    return [rng.integers(-128, 128, width).tolist() for _ in range(n)]


def request_onchain(e2e: E2EEnv, inputs: Sequence[Sequence[int]]) -> list[int]:
    """The client requests an inference on-chain for each input; returns the request ids."""
    client = Marketplace(e2e.chain.deployment, e2e.chain.client)
    fee = e2e.chain.params.min_request_fee
    return [
        client.request_inference(e2e.model_id, np.asarray(x, dtype=np.int8), fee) for x in inputs
    ]
