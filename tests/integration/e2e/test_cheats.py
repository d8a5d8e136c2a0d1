"""
A cheating node caught by the real challenger: the node service runs in a cheat mode
(:mod:`node.cheats`, Anvil only) on every request, the challenger service reads its receipts and
traces over HTTP, disputes each cheated claim, and the node is slashed inside the challenge window
with the preset's split (reward to the challenger, the rest burnt).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from challenger.service import Challenger
from protocol.params import BPS
from tests.integration.chain_env import BURN_ADDRESS, ChainEnv
from tests.integration.e2e.conftest import (
    E2EEnv,
    RunningNode,
    ServiceThread,
    advance,
    random_inputs,
    reader,
    wait_for,
)

CHEATS = 3
"""Cheated requests per mode (the node stakes enough for each slash to take the full amount)."""

FRAUD_PROOF_ACTION = {"wrong_output": "layer", "wrong_layer": "layer", "bad_endpoint": "endpoint"}


def claim_slashed_logs(chain: ChainEnv, keys: set[bytes]) -> list[Any]:
    """The ``ClaimSlashed`` events of ``keys`` since the session's snapshot."""
    logs = chain.market.events.ClaimSlashed().get_logs(from_block=chain.session.base_block)
    return [e for e in logs if bytes(e["args"]["claimKey"]) in keys]


def data_challenges(chain: ChainEnv, keys: set[bytes]) -> list[Any]:
    """The ``DataChallenged`` events of ``keys`` since the session's snapshot."""
    logs = chain.da.events.DataChallenged().get_logs(from_block=chain.session.base_block)
    return [e for e in logs if bytes(e["args"]["claimKey"]) in keys]


@pytest.mark.parametrize("mode", ["wrong_output", "wrong_layer", "bad_endpoint", "withheld_trace"])
def test_cheating_node_is_slashed_inside_the_window(
    mode: str,
    e2e: E2EEnv,
    start_node: Callable[..., RunningNode],
    start_challenger: Callable[..., Challenger],
    run_in_background: Callable[[Challenger, float], ServiceThread],
) -> None:
    """
    Proves, per cheat mode at rate 1.0: every cheated claim is disputed by the challenger (a
    one-transaction fraud proof, or data challenges the cheating node leaves unanswered) and
    slashed before its challenge window closes; the node loses ``CHEATS`` slashes of its stake,
    the challenger is credited exactly the reward of each (plus its data bonds back) and the rest
    is burnt.
    """
    pytest.importorskip("node.cheats", reason="the node's cheat modes have not landed")
    chain = e2e.chain
    p = chain.params
    chain.stake(amount=CHEATS * p.slash_amount)  # each slash takes the full amount
    # Seed 5 draws both endpoints for bad_endpoint on requests 1..3 (input, then output).
    node = start_node(cheat_rate=1.0, cheat_modes=[mode], cheat_seed=5)
    ch = start_challenger("challenger", node.url)
    me, node_address = ch.me, chain.node.address
    stake_before = chain.stake_of(node_address)[0]
    burnt_before = chain.balance(BURN_ADDRESS)
    credits_before = chain.call(chain.stakes.functions.credits(me))
    run_in_background(ch, 0.2)

    bodies = node.infer(random_inputs(CHEATS, seed=40), threads=1)
    ids = [int(b["request_id"]) for b in bodies]
    node.wait_all_committed(CHEATS)
    cheats = node.cheats()
    assert sorted(int(r["request_id"]) for r in cheats) == ids
    assert {r["mode"] for r in cheats} == {mode}
    if mode == "bad_endpoint":
        details = {str(r["detail"]).split(" (")[0] for r in cheats}
        assert details == {"endpoint 0", f"endpoint {len(e2e.model.layers)}"}
    receipts = [node.get(f"/receipts/{i}") for i in ids]
    keys = {bytes.fromhex(r["claim_key"][2:]) for r in receipts}
    window_end = {
        bytes.fromhex(r["claim_key"][2:]): r["batch"]["committed_at"] + p.challenge_window
        for r in receipts
    }

    if mode == "withheld_trace":
        public = len(e2e.model.layers) + 1
        wait_for(
            lambda: len(data_challenges(chain, keys)) == CHEATS * public,
            what="a data challenge of every withheld vector",
        )
        advance(chain, p.data_response_window + 1)

    def slashed() -> list[Any] | None:
        logs = claim_slashed_logs(chain, keys)
        return logs if len(logs) == CHEATS else None

    logs = wait_for(slashed, what=f"every {mode} claim to be slashed")
    for event in logs:
        at = int(chain.w3.eth.get_block(event["blockNumber"])["timestamp"])
        assert at < window_end[bytes(event["args"]["claimKey"])]
        assert event["args"]["node"] == node_address

    state = reader(ch)
    wait_for(lambda: not state.active_claims(), what="the challenger to settle every claim")
    reward = p.slash_amount * p.challenger_reward_bps // BPS
    bonds_back = 0
    outcomes = state.outcomes()
    if mode == "withheld_trace":
        opened = data_challenges(chain, keys)
        assert {e["args"]["challenger"] for e in opened} == {me}
        bonds_back = len(opened) * p.data_bond
        assert chain.call(chain.stakes.functions.bondsOf(me)) == 0
        assert sorted(k.split(":")[0] for k in outcomes) == sorted(
            ["challenge"] * len(opened) + ["resolve"] * len(opened)
        )
    else:
        action = FRAUD_PROOF_ACTION[mode]
        assert outcomes == {f"{action}:{k.hex()}": "sent" for k in keys}
    assert set(outcomes.values()) == {"sent"}
    assert chain.stake_of(node_address)[0] == stake_before - CHEATS * p.slash_amount
    credits = chain.call(chain.stakes.functions.credits(me))
    assert credits == credits_before + CHEATS * reward + bonds_back
    assert chain.balance(BURN_ADDRESS) == burnt_before + CHEATS * (p.slash_amount - reward)
    wait_for(
        lambda: all(node.get(f"/receipts/{i}")["status"] == "slashed" for i in ids),
        what="the node's watcher to record the slashes",
    )
    state.close()
