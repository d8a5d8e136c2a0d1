"""
Challenger benchmarks: batched re-execution throughput and detect-to-slash latency.

``python -m bench.challenger`` prints progress lines and, last, one JSON object:

- ``reexec_ips``: re-executed inferences per second — honest traces of the digits model, checked
  in batches by :meth:`challenger.reexec.ReExecutor.first_wrong_stacked` (every public layer
  recomputed from the claimed input and compared with the claimed output; target ≥ 20,000);
- ``detect_to_slash_s``: on a fresh Anvil with 1-second blocks, the wall time from the moment a
  fraudulent batch commit is mined to the moment the challenger's fraud proof is mined, with the
  challenger running its own jobs (watch → list → re-execute → act) in a loop. The batch is
  committed with ``Marketplace.commit_batch`` and its traces served by the in-process
  ``MemoryTraceSource`` (``trace_source`` in the JSON says so), not by the node service.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from challenger.reexec import ReExecutor
from challenger.sampling import Sampler
from challenger.service import Challenger
from challenger.source import MemoryTraceSource
from challenger.state import ChallengerState
from challenger.watcher import Web3EventSource
from deploy.anvil import ANVIL_DEFAULT_KEYS, AnvilNode
from deploy.deployer import deploy_marketplace, load_preset
from models.digits import MODEL_PATH
from models.store import load_model
from opzk.chain import connect
from opzk.marketplace import Marketplace, compute_claim
from protocol.model import QuantizedModel
from protocol.runtime_torch import TorchRuntime

BATCH = 65_536
ROUNDS = 5


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


def bench_detect_to_slash(model: QuantizedModel, device: str) -> float:
    """Seconds from a fraudulent commit's block to the slash, challenger looping on its jobs."""
    keys = ANVIL_DEFAULT_KEYS
    with AnvilNode(block_time=1) as anvil, tempfile.TemporaryDirectory() as tmp:
        deployer = connect(anvil.rpc_url, keys[0])
        deployment = deploy_marketplace(deployer, load_preset("local"))
        node = Marketplace(deployment, connect(anvil.rpc_url, keys[1]))
        owner = Marketplace(deployment, connect(anvil.rpc_url, keys[5]))
        owner.register_model(model)
        node.stake(deployment.params.min_node_stake)
        ch_client = connect(anvil.rpc_url, keys[2])
        market = Marketplace(deployment, ch_client)
        source = MemoryTraceSource()
        contracts = {
            n: market._contract(n)
            for n in ("InferenceMarket", "DataAvailabilityGame", "ProofDemandGame")
        }
        challenger = Challenger(
            market=market,
            state=ChallengerState(Path(tmp) / "state.db"),
            source=source,
            events=Web3EventSource(ch_client.w3, contracts),
            models={bytes(model.model_id()): model},
            sampler=Sampler(bytes(32) + b"bench", 1.0, 0.0),
            device=device,
            start_block=int(ch_client.w3.eth.block_number),
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
            for i in range(64)
        ]
        batch, _ = node.commit_batch(claims)
        committed = time.perf_counter()
        source.add_batch(
            batch.batch_id,
            [c.receipt for c in claims],
            batch.tree.levels[0],
            [(c.activation_hashes, c.vectors) for c in claims],
        )
        while True:
            outcomes = challenger.tick()
            if any(o.status == "sent" and o.key.startswith("layer:") for o in outcomes):
                return time.perf_counter() - committed
            if time.perf_counter() - committed > 60:
                raise RuntimeError("no slash within 60 s")
            time.sleep(0.05)


def main() -> int:
    """Runs both benchmarks; the last line is the JSON result."""
    model = load_model(MODEL_PATH)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(f"re-execution: digits model, batches of {BATCH} on {device} …", file=sys.stderr)
    ips = bench_reexec(model, device)
    print(f"  {ips:,.0f} inferences/s", file=sys.stderr)
    print("detect-to-slash: Anvil with 1 s blocks …", file=sys.stderr)
    latency = bench_detect_to_slash(model, device)
    print(f"  {latency:.2f} s", file=sys.stderr)
    result = {
        "reexec_ips": round(ips),
        "reexec_device": device,
        "reexec_batch": BATCH,
        "detect_to_slash_s": round(latency, 2),
        "block_time_s": 1,
        "trace_source": "in-process MemoryTraceSource (node service not used)",
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
