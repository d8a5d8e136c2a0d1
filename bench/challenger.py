"""
Challenger benchmarks: batched re-execution throughput and detect-to-slash latency.

``python -m bench.challenger [--traces both|memory|http]`` prints progress lines and, last, one
JSON object:

- ``reexec_ips``: re-executed inferences per second — honest traces of the digits model, checked
  in batches by :meth:`challenger.reexec.ReExecutor.first_wrong_stacked` (every public layer
  recomputed from the claimed input and compared with the claimed output; target ≥ 20,000);
- ``detect_to_slash_s``: on a fresh Anvil with 1-second blocks, the wall time from the moment a
  fraudulent batch commit is mined to the moment the challenger's fraud proof is mined, with the
  challenger running its own jobs (watch → list → re-execute → act) in a loop. The batch (64
  claims, one wrong output) is committed with ``Marketplace.commit_batch`` and its traces served
  by the in-process ``MemoryTraceSource``;
- ``detect_to_slash_s_http``: the same with the real node: ``python -m node run`` in its own
  process, in cheat mode ``wrong_output`` on exactly one of 64 requests sent to its HTTP API,
  commits the batch itself; the challenger lists its receipts and reads the traces over HTTP
  (:class:`~challenger.source.HttpTraceSource`). The commit is timed by a thread polling the
  chain for ``BatchCommitted`` every 10 ms.

``--traces memory`` or ``--traces http`` measures only that latency (the other is ``null``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from challenger.reexec import ReExecutor
from challenger.sampling import Sampler
from challenger.service import Challenger
from challenger.source import HttpTraceSource, MemoryTraceSource, TraceSource
from challenger.state import ChallengerState
from challenger.watcher import Web3EventSource
from deploy import paths
from deploy.anvil import ANVIL_DEFAULT_KEYS, AnvilNode, free_port
from deploy.deployer import deploy_marketplace, load_preset
from deploy.deployments import Deployment
from models.digits import MODEL_PATH
from models.store import load_model
from opzk.chain import ChainClient, connect
from opzk.marketplace import Marketplace, compute_claim
from protocol.model import QuantizedModel
from protocol.runtime_torch import TorchRuntime

BATCH = 65_536
ROUNDS = 5
CLAIMS = 64
"""Claims in the fraudulent batch (one of them wrong)."""
TIMEOUT_S = 60.0


def bench_reexec(model: QuantizedModel, device: str) -> float:
    """Re-executed inferences per second (best of ``ROUNDS`` batches of ``BATCH``)."""
    rng = np.random.default_rng(1)
    x = rng.integers(-128, 128, size=(BATCH, model.layers[0].in_dim), dtype=np.int16)
    runtime = TorchRuntime(model, device)
    stacked = [h.cpu().numpy() for h in runtime.run_batch(x.astype(np.int8))]
    executor = ReExecutor(model, device)
    executor.first_wrong_stacked(stacked)  # warm-up
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        found = executor.first_wrong_stacked(stacked)
        best = min(best, time.perf_counter() - start)
        assert all(f is None for f in found)
    return BATCH / best


@contextmanager
def _market(block_time: int = 1) -> Iterator[tuple[AnvilNode, Deployment, Marketplace]]:
    """A fresh Anvil with the marketplace deployed, the model registered and the node staked."""
    keys = ANVIL_DEFAULT_KEYS
    with AnvilNode(block_time=block_time) as anvil:
        deployer = connect(anvil.rpc_url, keys[0])
        deployment = deploy_marketplace(deployer, load_preset("local"))
        node = Marketplace(deployment, connect(anvil.rpc_url, keys[1]))
        node.stake(deployment.params.min_node_stake)
        yield anvil, deployment, node


def _challenger(
    model: QuantizedModel,
    deployment: Deployment,
    ch_client: ChainClient,
    source: TraceSource,
    state_path: Path,
    device: str,
) -> Challenger:
    market = Marketplace(deployment, ch_client)
    contracts = {
        n: market._contract(n)
        for n in ("InferenceMarket", "DataAvailabilityGame", "ProofDemandGame")
    }
    return Challenger(
        market=market,
        state=ChallengerState(state_path),
        source=source,
        events=Web3EventSource(ch_client.w3, contracts),
        models={bytes(model.model_id()): model},
        sampler=Sampler(bytes(32) + b"bench", 1.0, 0.0),
        device=device,
        start_block=int(ch_client.w3.eth.block_number),
        retry_backoff_s=0.1,
        max_retry_backoff_s=1.0,
        # No credit withdrawal in the timed rounds: only the fraud proof is measured.
        credit_threshold=10**30,
    )


def _until_slash(challenger: Challenger, started: Callable[[], float | None]) -> float:
    """Ticks until a layer fraud proof is sent; seconds since ``started()`` (the commit)."""
    deadline = time.perf_counter() + TIMEOUT_S
    while True:
        # One scheduler round (Challenger.tick) up to the act job, whose fraud proof is mined
        # when it returns.
        challenger.watch()
        challenger.list_batches()
        challenger.list_requests()
        challenger.reexecute()
        outcomes = challenger.act()
        if any(o.status == "sent" and o.key.startswith("layer:") for o in outcomes):
            slashed = time.perf_counter()
            committed = started()
            if committed is None:
                raise RuntimeError("a fraud proof before the commit was seen")
            return slashed - committed
        if time.perf_counter() > deadline:
            raise RuntimeError(f"no slash within {TIMEOUT_S:.0f} s")
        time.sleep(0.05)


def bench_detect_to_slash(model: QuantizedModel, device: str) -> float:
    """Seconds from a fraudulent commit's block to the slash; traces served in-process."""
    keys = ANVIL_DEFAULT_KEYS
    with _market() as (anvil, deployment, node), tempfile.TemporaryDirectory() as tmp:
        Marketplace(deployment, connect(anvil.rpc_url, keys[5])).register_model(model)
        source = MemoryTraceSource()
        challenger = _challenger(
            model,
            deployment,
            connect(anvil.rpc_url, keys[2]),
            source,
            Path(tmp) / "state.db",
            device,
        )
        challenger.tick()
        rng = np.random.default_rng(2)
        claims = [
            compute_claim(
                model,
                rng.integers(-128, 128, size=model.layers[0].in_dim).astype(np.int8),
                request_id=i + 1,
                node=node.address,
                client=node.address,
                tamper=(len(model.layers), 0) if i == 17 else None,
            )
            for i in range(CLAIMS)
        ]
        batch, _ = node.commit_batch(claims)
        committed = time.perf_counter()
        source.add_batch(
            batch.batch_id,
            [c.receipt for c in claims],
            batch.tree.levels[0],
            [(c.activation_hashes, c.vectors) for c in claims],
        )
        return _until_slash(challenger, lambda: committed)


def one_cheat_seed(n: int, rate: float) -> int:
    """A node cheat seed with which exactly one of requests ``1..n`` is a ``wrong_output``."""
    from node.cheats import CheatMode, draw

    modes = [CheatMode.WRONG_OUTPUT]
    for seed in range(10_000):
        if sum(draw(seed, i, rate, modes) is not None for i in range(1, n + 1)) == 1:
            return seed
    raise RuntimeError("no seed gives exactly one cheat")


class _CommitWatch(threading.Thread):
    """Records the wall time at which the first ``BatchCommitted`` is seen on-chain."""

    def __init__(self, client: ChainClient, deployment: Deployment, from_block: int) -> None:
        super().__init__(daemon=True)
        market = Marketplace(deployment, client)
        self.topic = market.market.events.BatchCommitted().topic
        self.address = market.market.address
        self.w3 = client.w3
        self.from_block = from_block
        self.seen: float | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set() and self.seen is None:
            logs = self.w3.eth.get_logs(
                {"address": self.address, "fromBlock": self.from_block, "topics": [self.topic]}
            )
            if logs:
                self.seen = time.perf_counter()
            time.sleep(0.01)


def _node_process(
    anvil: AnvilNode, deployment: Deployment, directory: Path, seed: int, rate: float
) -> tuple[subprocess.Popen[bytes], str, Path]:
    """``python -m node run`` in cheat mode, serving HTTP on a free port once healthy."""
    deployments = directory / "deployments.json"
    deployment.save(deployments)
    port = free_port()
    log = directory / "node.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPZK_NODE_")}
    env.update(
        {
            "OPZK_NODE_RPC_URL": anvil.rpc_url,
            "OPZK_NODE_PRIVATE_KEY": ANVIL_DEFAULT_KEYS[1],
            "OPZK_NODE_DEPLOYMENTS": str(deployments),
            "OPZK_NODE_DATA_DIR": str(directory / "node"),
            "OPZK_NODE_PORT": str(port),
            "OPZK_NODE_BATCH_INTERVAL": "3600",
            "OPZK_NODE_MAX_BATCH_SIZE": str(CLAIMS),
            "OPZK_NODE_POLL_INTERVAL": "0.1",
            "OPZK_NODE_LOG_LEVEL": "warning",
            "OPZK_NODE_CHEAT_RATE": repr(rate),
            "OPZK_NODE_CHEAT_MODES": json.dumps(["wrong_output"]),
            "OPZK_NODE_CHEAT_SEED": str(seed),
            "PYTHONPATH": str(paths.repo_root()),
        }
    )
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "node", "run"],
            cwd=paths.repo_root(),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.perf_counter() + TIMEOUT_S
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the node exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as resp:
                if resp.status == 200:
                    return process, url, log
        except OSError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the node did not become healthy: {log.read_text()[-2000:]}")


def _post_all(url: str, model_id: bytes, inputs: Sequence[list[int]]) -> None:
    """``POST /v1/inferences`` for every input, 8 at a time."""

    def post(x: list[int]) -> None:
        body = json.dumps({"model_id": "0x" + model_id.hex(), "input": x}).encode()
        req = urllib.request.Request(
            f"{url}/v1/inferences", body, {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            if resp.status != 201:
                raise RuntimeError(f"inference answered {resp.status}")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(post, inputs))


def bench_detect_to_slash_http(model: QuantizedModel, device: str) -> float:
    """
    Seconds from the fraudulent batch commit (by the real node, over HTTP requests) to the
    challenger's fraud proof, traces read over HTTP from the node process.
    """
    keys = ANVIL_DEFAULT_KEYS
    rate = 1.0 / CLAIMS
    seed = one_cheat_seed(CLAIMS, rate)
    with _market() as (anvil, deployment, _), tempfile.TemporaryDirectory() as tmp:
        Marketplace(deployment, connect(anvil.rpc_url, keys[5])).register_model(model)
        process, url, _ = _node_process(anvil, deployment, Path(tmp), seed, rate)
        try:
            ch_client = connect(anvil.rpc_url, keys[2])
            challenger = _challenger(
                model, deployment, ch_client, HttpTraceSource([url]), Path(tmp) / "s.db", device
            )
            challenger.tick()
            watch = _CommitWatch(ch_client, deployment, int(ch_client.w3.eth.block_number))
            watch.start()
            rng = np.random.default_rng(3)
            inputs = [
                rng.integers(-128, 128, model.layers[0].in_dim).tolist() for _ in range(CLAIMS)
            ]
            sender = threading.Thread(target=_post_all, args=(url, bytes(model.model_id()), inputs))
            sender.start()
            try:
                return _until_slash(challenger, lambda: watch.seen)
            finally:
                sender.join(TIMEOUT_S)
                watch.stop.set()
        finally:
            process.terminate()
            process.wait(30)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the benchmarks; the last line is the JSON result."""
    parser = argparse.ArgumentParser(prog="python -m bench.challenger", description=__doc__)
    parser.add_argument(
        "--traces",
        choices=("both", "memory", "http"),
        default="both",
        help="which detect-to-slash latency to measure: traces served in-process, by the real "
        "node over HTTP, or both (default)",
    )
    args = parser.parse_args(argv)
    model = load_model(MODEL_PATH)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(f"re-execution: digits model, batches of {BATCH} on {device} …", file=sys.stderr)
    ips = bench_reexec(model, device)
    print(f"  {ips:,.0f} inferences/s", file=sys.stderr)
    latency: float | None = None
    latency_http: float | None = None
    if args.traces in ("both", "memory"):
        print("detect-to-slash, traces in-process: Anvil with 1 s blocks …", file=sys.stderr)
        latency = bench_detect_to_slash(model, device)
        print(f"  {latency:.2f} s", file=sys.stderr)
    if args.traces in ("both", "http"):
        print("detect-to-slash, traces over HTTP from the node process …", file=sys.stderr)
        latency_http = bench_detect_to_slash_http(model, device)
        print(f"  {latency_http:.2f} s", file=sys.stderr)
    result = {
        "reexec_ips": round(ips),
        "reexec_device": device,
        "reexec_batch": BATCH,
        "detect_to_slash_s": None if latency is None else round(latency, 2),
        "detect_to_slash_s_http": None if latency_http is None else round(latency_http, 2),
        "block_time_s": 1,
        "claims_per_batch": CLAIMS,
        "trace_source": "in-process MemoryTraceSource",
        "trace_source_http": "node process (python -m node run, cheat mode wrong_output) over HTTP",
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
