"""
Two real challengers (each its own service, state file and account, both reading the real node
over HTTP) race to dispute the same fraud: exactly one is paid and the other loses nothing but
the gas of a transaction it actually sent (usually none: its estimate already reverts).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from challenger.service import Challenger
from tests.integration.chain_env import ChainEnv
from tests.integration.e2e.conftest import (
    E2EEnv,
    RunningNode,
    ServiceThread,
    random_inputs,
    reader,
    wait_for,
)


def gas_spent(chain: ChainEnv, sender: str, from_block: int) -> int:
    """Wei ``sender`` paid for every transaction mined after ``from_block``."""
    total = 0
    for number in range(from_block + 1, chain.block_number() + 1):
        block = chain.w3.eth.get_block(number, full_transactions=True)
        for tx in block["transactions"]:
            if str(tx["from"]).lower() == sender.lower():
                total += chain.gas_cost(chain.w3.eth.get_transaction_receipt(tx["hash"]))
    return total


def test_two_challengers_race_exactly_one_is_paid(
    e2e: E2EEnv,
    start_node: Callable[..., RunningNode],
    start_challenger: Callable[..., Challenger],
    run_in_background: Callable[[Challenger, float], ServiceThread],
) -> None:
    """
    Proves: with two challengers polling the same node, one wrong output gets exactly one fraud
    proof paid (the reward credited to one challenger, nothing to the other); the loser either
    sent nothing or had its transaction revert with ``ClaimAlreadySlashed``, and its ETH fell by
    exactly the gas of what it sent; the winner's ETH fell by exactly its gas.
    """
    pytest.importorskip("node.cheats", reason="the node's cheat modes have not landed")
    chain = e2e.chain
    node = start_node(cheat_rate=1.0, cheat_modes=["wrong_output"])
    racers = [start_challenger(role, node.url) for role in ("challenger", "challenger2")]
    start_block = chain.block_number()
    eth = {c.me: chain.balance(c.me) for c in racers}
    for c in racers:
        run_in_background(c, 0.1)

    (body,) = node.infer(random_inputs(1, seed=60), threads=1)
    node.wait_all_committed(1)
    key = bytes.fromhex(node.get(f"/receipts/{body['request_id']}")["claim_key"][2:])
    wait_for(lambda: chain.call(chain.market.functions.fraudulent(key)), what="the slash")
    states = [reader(c) for c in racers]
    for state in states:
        wait_for(lambda s=state: not s.active_claims(), what="both challengers to settle")

    credits = [chain.call(chain.stakes.functions.credits(c.me)) for c in racers]
    assert sorted(credits) == [0, chain.reward()]
    winner, loser = (0, 1) if credits[0] else (1, 0)
    action = f"layer:{key.hex()}"
    assert states[winner].outcomes() == {action: "sent"}
    assert states[loser].outcomes() in ({}, {action: "settled:ClaimAlreadySlashed"})
    for i in (winner, loser):
        me = racers[i].me
        assert chain.balance(me) == eth[me] - gas_spent(chain, me, start_block)
    assert chain.stake_of(chain.node.address)[0] == (
        chain.params.min_node_stake - chain.params.slash_amount
    )
    for state in states:
        state.close()
