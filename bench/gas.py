"""
Gas of the marketplace's hot paths, measured on a local Anvil node.

Run: ``python -m bench.gas`` (or ``./run.sh bench gas``). Prints a table, then one JSON line with at
least ``commit_gas_per_receipt_1024``, ``fulfil_gas_per_request_64`` and
``fraud_proof_gas_1024x1024`` (whole-transaction gas, the 21,000 base included). Targets: ≤ 150,
≤ 40,000 and ≤ 350,000.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

from deploy.anvil import ANVIL_DEFAULT_KEYS, AnvilNode
from deploy.deployer import deploy_marketplace, load_preset
from opzk.chain import connect
from opzk.marketplace import ComputedClaim, Marketplace, compute_claim, gas_used
from protocol.model import QLinearLayer, all_public
from protocol.requant import Activation

TARGETS = {
    "commit_gas_per_receipt_1024": 150,
    "fulfil_gas_per_request_64": 40_000,
    "fraud_proof_gas_1024x1024": 350_000,
}


def random_layer(rng: np.random.Generator, n: int, m: int, activation: Activation) -> QLinearLayer:
    """A random int8 layer whose requantized outputs are spread over the int8 range."""
    weights = rng.integers(-128, 128, size=(m, n), dtype=np.int64).astype(np.int8)
    biases = rng.integers(-5000, 5000, size=m).astype(np.int32)
    # |z| is about 64*64*sqrt(n); scale it to about 64.
    scale = 64 * 64 * np.sqrt(n) / 64
    shift = 24
    multiplier = int(2**shift / scale)
    return QLinearLayer(weights, biases, multiplier, shift, activation)


def main() -> int:
    rng = np.random.default_rng(2026)
    rows: list[tuple[str, int, str]] = []
    started = time.perf_counter()
    with AnvilNode(balance=1_000_000) as anvil:
        keys = ANVIL_DEFAULT_KEYS
        deployer = connect(anvil.rpc_url, keys[0])
        deployment = deploy_marketplace(deployer, load_preset("local"))
        owner = Marketplace(deployment, deployer)
        node = owner.as_account(connect(anvil.rpc_url, keys[1]))
        challenger = owner.as_account(connect(anvil.rpc_url, keys[2]))
        client = owner.as_account(connect(anvil.rpc_url, keys[3]))
        params = deployment.params

        rows.append(("stake", gas_used(node.stake(10 * params.min_node_stake)), "1 tx"))

        # ---- batch commits: a small model, batches of 1 .. 1024 receipts
        small = all_public(
            [random_layer(rng, 64, 32, Activation.RELU), random_layer(rng, 32, 10, Activation.NONE)]
        )
        rows.append(("registerModel 64-32-10", gas_used(owner.register_model(small)), "1 tx"))
        inputs = rng.integers(-128, 128, size=(1024, 64), dtype=np.int64).astype(np.int8)
        claims = [
            compute_claim(
                small, inputs[i], request_id=i + 1, node=node.address, client=client.address
            )
            for i in range(1024)
        ]
        per_receipt: dict[int, float] = {}
        for size in (1, 16, 256, 1024):
            _, tx = node.commit_batch(claims[:size])
            per_receipt[size] = gas_used(tx) / size
            rows.append(
                (f"commitBatch {size} receipts", gas_used(tx), f"{per_receipt[size]:.1f}/receipt")
            )

        # ---- on-chain requests: 64 fulfilled in one transaction
        model_id = small.model_id()
        node.serve(model_id)
        fee = params.min_request_fee

        def requested(count: int) -> list[ComputedClaim]:
            """``count`` on-chain requests by the client, computed by the node."""
            out = []
            for i in range(count):
                request_id = client.request_inference(model_id, inputs[i], fee)
                out.append(
                    compute_claim(
                        small,
                        inputs[i],
                        request_id=request_id,
                        node=node.address,
                        client=client.address,
                    )
                )
            return out

        tx = node.fulfil(requested(1))
        fulfil_1 = gas_used(tx)
        rows.append(("fulfil 1 request", fulfil_1, f"{fulfil_1}/request"))
        tx = node.fulfil(requested(64))
        fulfil_64 = gas_used(tx) / 64
        rows.append(("fulfil 64 requests", gas_used(tx), f"{fulfil_64:.0f}/request"))

        # ---- a fraud proof on a 1024x1024 public layer
        big = all_public([random_layer(rng, 1024, 1024, Activation.NONE)])
        rows.append(("registerModel 1024x1024", gas_used(owner.register_model(big)), "1 tx"))
        x = rng.integers(-128, 128, size=1024, dtype=np.int64).astype(np.int8)
        honest = compute_claim(big, x, request_id=1, node=node.address, client=client.address)
        cheat = compute_claim(
            big, x, request_id=2, node=node.address, client=client.address, tamper=(1, 517)
        )
        batch, _ = node.commit_batch([honest, cheat])
        _, fraud_tx = challenger.prove_fraud(big, cheat, batch.claim_ref(1))
        fraud_gas = gas_used(fraud_tx)
        rows.append(("proveLayerFraud 1024x1024", fraud_gas, "whole tx, first slash on chain"))
        # A second one, by the same challenger: the one-time costs (the burn address's account,
        # the challenger's first credit slot) are paid; this is the steady state.
        cheat2 = compute_claim(
            big, x, request_id=3, node=node.address, client=client.address, tamper=(1, 3)
        )
        batch2, _ = node.commit_batch([cheat2])
        _, fraud_tx2 = challenger.prove_fraud(big, cheat2, batch2.claim_ref(0))
        fraud_gas_steady = gas_used(fraud_tx2)
        rows.append(("proveLayerFraud 1024x1024 again", fraud_gas_steady, "whole tx, steady state"))

        # ---- a data-availability round trip on the small model
        small_batch, _ = node.commit_batch(claims[:8])
        challenge_id, tx = challenger.challenge_data(small_batch.claim_ref(3), 1)
        rows.append(("DA challenge", gas_used(tx), "bonded"))
        tx = node.publish_data(challenge_id, claims[3], 1)
        rows.append(("DA publish (32 bytes)", gas_used(tx), ""))

    seconds = time.perf_counter() - started
    print(f"{'operation':<32} {'gas':>12}  note")
    print("-" * 64)
    for name, gas, note in rows:
        print(f"{name:<32} {gas:>12,}  {note}")
    figures = {
        "commit_gas_per_receipt_1024": round(per_receipt[1024], 1),
        "commit_gas_per_receipt_1": round(per_receipt[1], 1),
        "fulfil_gas_per_request_64": round(fulfil_64),
        "fulfil_gas_per_request_1": fulfil_1,
        "fraud_proof_gas_1024x1024": fraud_gas,
        "fraud_proof_gas_1024x1024_steady": fraud_gas_steady,
        "seconds": round(seconds, 1),
    }
    print()
    for key, target in TARGETS.items():
        verdict = "ok" if figures[key] <= target else "ABOVE TARGET"
        print(f"{key}: {figures[key]} (target <= {target}: {verdict})")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
