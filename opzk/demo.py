"""
``opzk demo``: the marketplace end to end on a local Anvil node, in about half a minute.

What it shows (the foundation's demo; the node service, the challenger bot and the trained digits
model replace the scripted actors here as they land):

1. start Anvil and deploy every contract with the ``local`` preset;
2. register the quantized digits model (64→64→32→10, trained on scikit-learn's bundled
   ``digits``; ``models/digits``) and stake a node;
3. the node answers off-chain requests for held-out digit images and commits them as one batch
   root; it cheats on a few (a wrong final output, a wrong intermediate layer);
4. a challenger re-executes every claim and proves each fraud in one transaction: the node is
   slashed, the challenger credited;
5. a data-availability challenge answered in time (the bond goes to the node) and one left
   unanswered (the node is slashed after the deadline);
6. on-chain requests with fees in escrow, fulfilled many per transaction, finalized after the
   challenge window, fees withdrawn by the node;
7. a summary table, and as the last line a JSON object of the figures.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, field

import numpy as np

from deploy.anvil import ANVIL_DEFAULT_KEYS, AnvilNode
from deploy.deployer import deploy_marketplace, load_preset
from models.store import load_model
from protocol.model import QuantizedModel
from protocol.quantize import quantize_input
from prover.fraud import first_wrong_element

from .chain import connect
from .marketplace import ComputedClaim, Marketplace, compute_claim, gas_used, request_claim

ETH = 10**18


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the ``demo`` sub-command."""
    p = subparsers.add_parser(
        "demo",
        help="run the marketplace end to end on a local Anvil node",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--requests", type=int, default=48, help="off-chain requests (default 48)")
    p.add_argument("--onchain-requests", type=int, default=8, help="on-chain requests (default 8)")
    p.add_argument("--cheats", type=int, default=3, help="wrong results the node commits")
    p.add_argument("--seed", type=int, default=7, help="seed of the cheating node's choices")
    p.set_defaults(run=run)


def digits_requests(count: int) -> tuple[QuantizedModel, np.ndarray, np.ndarray]:
    """The digits model and the first ``count`` held-out images as int8 inputs, with labels."""
    from models.digits import MODEL_PATH
    from models.digits.train import load_split

    model = load_model(MODEL_PATH)
    if model.input_scale is None:
        raise ValueError(f"{MODEL_PATH} has no input scale: it cannot take float images")
    split = load_split()
    images = split.x_heldout[:count]
    return model, quantize_input(images, model.input_scale), split.y_heldout[:count]


@dataclass
class Tally:
    """What the demo counts."""

    requests: int = 0
    committed: int = 0
    frauds_injected: int = 0
    frauds_sampled: int = 0
    frauds_slashed: int = 0
    honest_slashed: int = 0
    data_challenges: int = 0
    gas: dict[str, int] = field(default_factory=dict)

    def add_gas(self, what: str, amount: int) -> None:
        self.gas[what] = self.gas.get(what, 0) + amount


def _gas_per_inference(tally: Tally) -> int:
    """Gas of commits and fulfilments per committed inference (disputes excluded)."""
    spent = tally.gas.get("commits", 0) + tally.gas.get("fulfilments", 0)
    return round(spent / max(tally.committed, 1))


def _step(text: str) -> None:
    print(f"==> {text}", flush=True)


def run(args: argparse.Namespace) -> int:
    """Runs the demo."""
    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    tally = Tally()
    with AnvilNode() as anvil:
        _step(f"Anvil running at {anvil.rpc_url} (chain id {anvil.chain_id})")
        keys = ANVIL_DEFAULT_KEYS
        deployment = deploy_marketplace(connect(anvil.rpc_url, keys[0]), load_preset("local"))
        _step("deployed: " + ", ".join(f"{k} {v[:10]}…" for k, v in deployment.addresses.items()))
        params = deployment.params
        owner = Marketplace(deployment, connect(anvil.rpc_url, keys[0]))
        node = owner.as_account(connect(anvil.rpc_url, keys[1]))
        challenger = owner.as_account(connect(anvil.rpc_url, keys[2]))
        client = owner.as_account(connect(anvil.rpc_url, keys[3]))

        def advance(seconds: int) -> None:
            anvil.rpc("evm_increaseTime", seconds)
            anvil.rpc("evm_mine")

        model, images, labels = digits_requests(args.requests + args.onchain_requests)
        owner.register_model(model)
        _step(f"registered the digits model {model.model_id().hex()[:16]}… (64→64→32→10, public)")
        node.stake(4 * params.min_node_stake)
        _step(f"node {node.address} staked {4 * params.min_node_stake / ETH:.0f} ETH")

        # ---- off-chain requests, committed as one batch, a few of them wrong
        inputs = images[: args.requests]
        cheat_at = set(
            rng.choice(args.requests, size=min(args.cheats, args.requests), replace=False)
        )
        claims: list[ComputedClaim] = []
        for i in range(args.requests):
            tamper = None
            if i in cheat_at:
                # Alternate between a wrong final output and a wrong first layer whose later
                # layers are computed consistently from the wrong value.
                layer = 3 if i % 2 == 0 else 1
                tamper = (layer, int(rng.integers(0, model.layers[layer - 1].out_dim)))
            claims.append(
                compute_claim(
                    model,
                    inputs[i],
                    request_id=i + 1,
                    node=node.address,
                    client=client.address,
                    tamper=tamper,
                )
            )
        tally.requests += args.requests
        tally.frauds_injected += len(cheat_at)
        batch, tx = node.commit_batch(claims)
        tally.committed += len(claims)
        tally.add_gas("commits", gas_used(tx))
        _step(
            f"node committed batch {batch.batch_id}: {len(claims)} receipts, {gas_used(tx):,} gas"
        )
        honest_indices = [i for i in range(len(claims)) if i not in cheat_at]
        correct = sum(int(np.argmax(claims[i].output)) == int(labels[i]) for i in honest_indices)
        _step(f"honest answers classify {correct}/{len(honest_indices)} held-out digits correctly")

        # ---- the challenger re-executes every claim and proves each fraud
        stake_before = node.stake_of(node.address)[0]
        for index, claim in enumerate(claims):
            if first_wrong_element(model, claim.vectors) is None:
                continue
            tally.frauds_sampled += 1
            wrong, tx = challenger.prove_fraud(model, claim, batch.claim_ref(index))
            tally.frauds_slashed += 1
            tally.add_gas("fraud proofs", gas_used(tx))
            _step(
                f"fraud proven on receipt {index} (layer {wrong.layer}, row {wrong.row}): "
                f"node slashed, {gas_used(tx):,} gas"
            )
        stake_after = node.stake_of(node.address)[0]

        # ---- data availability: one answered, one withheld
        honest = [i for i in range(len(claims)) if i not in cheat_at]
        cid, tx = challenger.challenge_data(batch.claim_ref(honest[0]), 2)
        node.publish_data(cid, claims[honest[0]], 2)
        tally.data_challenges += 1
        _step(f"data challenge {cid}: node published h_2 in time, bond credited to the node")
        cid, tx = challenger.challenge_data(batch.claim_ref(honest[1]), 1)
        tally.data_challenges += 1
        advance(params.data_response_window + 1)
        tx = challenger.resolve_data_timeout(cid)
        _step(f"data challenge {cid}: node withheld h_1 past the deadline and was slashed")

        # ---- on-chain requests
        node.serve(model.model_id())
        fee = params.min_request_fee * 10
        onchain: list[ComputedClaim] = []
        for x in images[args.requests :]:
            request_id = client.request_inference(model.model_id(), x, fee)
            onchain.append(
                compute_claim(
                    model, x, request_id=request_id, node=node.address, client=client.address
                )
            )
        tx = node.fulfil(onchain)
        tally.requests += len(onchain)
        tally.committed += len(onchain)
        tally.add_gas("fulfilments", gas_used(tx))
        _step(f"node fulfilled {len(onchain)} on-chain requests in one tx, {gas_used(tx):,} gas")

        advance(params.challenge_window + 1)
        node.finalize_requests([c.receipt.request_id for c in onchain])
        node.finalize_batch(batch.batch_id)
        fees = int(node.market.functions.credits(node.address).call())
        node.withdraw_market_credits()
        _step(
            f"window passed: batch and requests final, node withdrew {fees / ETH:.3f} ETH of fees"
        )

        # ---- nobody honest was slashed: no honest claim is marked fraudulent
        withheld = honest[1]
        for index in honest:
            key = node.market.functions.authenticate(batch.claim_ref(index)).call()[0]
            if node.market.functions.fraudulent(key).call() and index != withheld:
                tally.honest_slashed += 1
        for claim in onchain:
            key = node.market.functions.authenticate(request_claim(claim)).call()[0]
            if node.market.functions.fraudulent(key).call():
                tally.honest_slashed += 1
        challenger_credit = challenger.stake_credits(challenger.address)

    seconds = time.perf_counter() - started
    total_gas = sum(tally.gas.values())
    print()
    print(f"{'':2}{'figure':<34}{'value':>16}")
    print(f"{'':2}{'-' * 50}")
    table = [
        ("requests served", tally.requests),
        ("receipts committed on-chain", tally.committed),
        ("frauds injected by the node", tally.frauds_injected),
        ("frauds found by re-execution", tally.frauds_sampled),
        ("frauds slashed (1 tx each)", tally.frauds_slashed),
        ("honest claims slashed", tally.honest_slashed),
        ("data challenges (1 withheld)", tally.data_challenges),
        ("node stake lost to fraud (ETH)", f"{(stake_before - stake_after) / ETH:.1f}"),
        ("challenger credits (ETH)", f"{challenger_credit / ETH:.2f}"),
        ("gas per committed inference", _gas_per_inference(tally)),
        ("total gas of the scenario", f"{total_gas:,}"),
        ("seconds", f"{seconds:.1f}"),
    ]
    for name, value in table:
        print(f"{'':2}{name:<34}{value!s:>16}")
    summary = {
        "requests": tally.requests,
        "committed": tally.committed,
        "frauds_injected": tally.frauds_injected,
        "frauds_sampled": tally.frauds_sampled,
        "frauds_slashed": tally.frauds_slashed,
        "honest_slashed": tally.honest_slashed,
        "gas_per_inference": _gas_per_inference(tally),
        "seconds": round(seconds, 1),
    }
    print(json.dumps(summary))
    return 0 if tally.honest_slashed == 0 and tally.frauds_slashed == tally.frauds_injected else 1
