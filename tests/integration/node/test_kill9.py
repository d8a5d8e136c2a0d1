"""
``kill -9`` loses no accepted receipt: the node runs as a real process (``python -m node run``)
against the test Anvil node, is killed with SIGKILL right after answering (before any batch was
posted) and again in the middle of a stream of requests while batches are being posted; after a
restart every receipt that was answered with 201 is committed, its proof verifies against the
on-chain root, and statuses catch up from chain events that happened while the node was down.
Finally SIGTERM stops the node cleanly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from deploy import paths
from deploy.anvil import free_port
from protocol.merkle import verify_merkle_proof
from tests.integration.node.conftest import NODE_KEY, NodeEnv, wait_for


class NodeProcess:
    """``python -m node run --config FILE`` as a child process."""

    def __init__(self, env: NodeEnv, directory: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = directory / "node.toml"
        self.log = directory / "node.log"
        self.config.write_text(
            "\n".join(
                [
                    f'rpc_url = "{env.chain.anvil.rpc_url}"',
                    f'private_key = "{NODE_KEY}"',
                    f'deployments = "{env.deployments}"',
                    'data_dir = "data"',
                    f"port = {self.port}",
                    "poll_interval = 0.1",
                    "max_batch_size = 64",
                    'log_level = "info"',
                ]
            )
            + "\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, **settings: Any) -> None:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("OPZK_NODE_")}
        environment.update({f"OPZK_NODE_{k.upper()}": str(v) for k, v in settings.items()})
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "node", "run", "--config", str(self.config)],
                cwd=paths.repo_root(),
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the node exited with {self.process.returncode}:\n{self.tail()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        pytest.fail(f"the node did not become healthy:\n{self.tail()}")

    def kill(self, sig: int = signal.SIGKILL) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        code = self.process.wait(timeout=30)
        self.process = None
        return code

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@pytest.fixture
def node_process(node_env: NodeEnv, tmp_path: Path) -> Iterator[NodeProcess]:
    process = NodeProcess(node_env, tmp_path)
    yield process
    if process.process is not None:
        process.kill()


def _post(client: httpx.Client, model_id: str, x: list[int]) -> dict[str, Any] | None:
    try:
        answer = client.post("/v1/inferences", json={"model_id": model_id, "input": x})
    except httpx.HTTPError:
        return None
    if answer.status_code != 201:
        return None
    body: dict[str, Any] = answer.json()
    return body


def test_kill9_loses_no_accepted_receipt(node_env: NodeEnv, node_process: NodeProcess) -> None:
    chain = node_env.chain
    market = chain.market
    accepted: dict[int, dict[str, Any]] = {}
    rng = np.random.default_rng(99)

    # 1. Killed right after its answers, before any batch could be posted.
    node_process.start(batch_interval=3600, max_batch_size=1024)
    with httpx.Client(base_url=node_process.url, timeout=10) as client:
        for _ in range(10):
            body = _post(client, node_env.model_id, rng.integers(-128, 128, 64).tolist())
            assert body is not None
            accepted[body["request_id"]] = body
    node_process.kill()
    assert chain.call(market.functions.batchCount()) == 0

    # 2. Killed in the middle of a stream of requests while batches are being posted.
    node_process.start(batch_interval=0.05)
    stop = threading.Event()
    lock = threading.Lock()

    def sender(seed: int) -> None:
        local = np.random.default_rng(seed)
        with httpx.Client(base_url=node_process.url, timeout=5) as client:
            while not stop.is_set():
                body = _post(client, node_env.model_id, local.integers(-128, 128, 64).tolist())
                if body is None:
                    if stop.is_set() or node_process.process is None:
                        return
                    continue
                with lock:
                    accepted[body["request_id"]] = body

    threads = [threading.Thread(target=sender, args=(seed,)) for seed in range(4)]
    for t in threads:
        t.start()
    wait_for(lambda: chain.call(market.functions.batchCount()) >= 2, timeout=30, what="batches")
    time.sleep(0.2)
    node_process.kill()
    stop.set()
    for t in threads:
        t.join(10)
    assert len(accepted) > 10

    # 3. While the node is down, its committed batches pass their window and someone else
    #    finalizes them (anyone may).
    committed_batches = int(chain.call(market.functions.batchCount()))
    chain.advance(chain.params.challenge_window)
    for batch_id in range(1, committed_batches + 1):
        chain.challenger.send(market.functions.finalizeBatch(batch_id))

    # 4. Restarted (finalizing off, so every finalization seen comes from the watcher).
    node_process.start(batch_interval=0.05, finalize_batches="false")
    with httpx.Client(base_url=node_process.url, timeout=10) as client:

        def caught_up() -> list[dict[str, Any]] | None:
            got = [client.get(f"/v1/receipts/{i}").json() for i in sorted(accepted)]
            ok = all(
                r["status"] == "finalized"
                if r["batch"] and r["batch"]["batch_id"] <= committed_batches
                else r["status"] == "committed"
                for r in got
            )
            return got if ok else None

        receipts = wait_for(caught_up, timeout=30, what="every accepted receipt to catch up")
        for receipt in receipts:
            answer = accepted[receipt["request_id"]]
            assert receipt["output"] == answer["output"]
            assert receipt["receipt_leaf"] == answer["receipt_leaf"]
            batch = receipt["batch"]
            root = bytes(chain.call(market.functions.batch(batch["batch_id"]))[0])
            proof = [bytes.fromhex(p[2:]) for p in batch["proof"]]
            assert verify_merkle_proof(proof, root, bytes.fromhex(receipt["receipt_leaf"][2:]))
        listed = client.get("/v1/receipts", params={"limit": 100}).json()
        assert listed["count"] >= len(accepted)
    assert node_process.kill(signal.SIGTERM) == 0
    assert "node stopped" in node_process.tail()
