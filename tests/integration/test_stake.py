"""Stake withdrawals: the delay, the payout, and slashing of stake on its way out."""

from __future__ import annotations

import pytest

from protocol import errors
from protocol.model import QuantizedModel
from prover.fraud import first_wrong_element, layer_fraud_args
from tests import factories
from tests.integration.chain_env import ChainEnv

pytestmark = pytest.mark.anvil


def test_withdrawal_waits_for_the_delay(chain: ChainEnv) -> None:
    stake = 3 * chain.params.min_node_stake
    chain.stake(amount=stake)
    amount = chain.params.min_node_stake
    receipt = chain.node.send(chain.stakes.functions.requestWithdrawal(amount))
    ts = int(chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"])
    unlock_at = ts + chain.params.withdrawal_delay
    assert chain.events(chain.stakes, "WithdrawalRequested", receipt) == [
        {"node": chain.node.address, "amount": amount, "unlockAt": unlock_at}
    ]
    assert chain.stake_of(chain.node.address) == (stake - amount, amount, unlock_at)
    assert chain.call(chain.stakes.functions.totalPendingWithdrawals()) == amount

    with pytest.raises(errors.WithdrawalLocked) as info:
        chain.node.send(chain.stakes.functions.withdrawStake())
    assert info.value.values == {"unlockAt": unlock_at}
    chain.advance(unlock_at - 1 - chain.now())
    with pytest.raises(errors.WithdrawalLocked):
        chain.node.send(chain.stakes.functions.withdrawStake())

    chain.advance(1)
    eth = chain.balance(chain.node.address)
    receipt = chain.node.send(chain.stakes.functions.withdrawStake())
    assert chain.events(chain.stakes, "StakeWithdrawn", receipt) == [
        {"node": chain.node.address, "amount": amount}
    ]
    assert chain.balance(chain.node.address) == eth + amount - chain.gas_cost(receipt)
    assert chain.stake_of(chain.node.address) == (stake - amount, 0, unlock_at)
    assert chain.balance(chain.stakes.address) == stake - amount
    with pytest.raises(errors.NothingToWithdraw):
        chain.node.send(chain.stakes.functions.withdrawStake())


def test_withdrawal_request_limits(chain: ChainEnv) -> None:
    chain.stake()
    with pytest.raises(errors.InsufficientStake) as info:
        chain.node.send(chain.stakes.functions.requestWithdrawal(chain.params.min_node_stake + 1))
    assert info.value.values == {
        "requested": chain.params.min_node_stake + 1,
        "available": chain.params.min_node_stake,
    }
    with pytest.raises(errors.ZeroAmount):
        chain.node.send(chain.stakes.functions.requestWithdrawal(0))
    # Withdrawing below the minimum deactivates the node: it can no longer commit.
    chain.node.send(chain.stakes.functions.requestWithdrawal(1))
    assert chain.call(chain.stakes.functions.isActiveNode(chain.node.address)) is False
    with pytest.raises(errors.NodeNotActive):
        chain.node.send(chain.market.functions.commitBatch(b"\x01" * 32, 1))


def test_fraud_committed_before_a_withdrawal_is_slashed_from_pending(
    chain: ChainEnv, public_model: QuantizedModel
) -> None:
    """The delay outlasts the challenge window: a node cannot run away with its stake."""
    chain.register(public_model)
    chain.stake()
    x = factories.random_input(factories.rng_for(10), 36)
    bad = factories.cheat_at_layer(
        public_model,
        x,
        layer=2,
        row=3,
        request_id=1,
        node=chain.node.address,
        client=chain.client.address,
    )
    batch_id, tree, _ = chain.commit([bad])
    # The node asks to withdraw everything right after committing.
    chain.node.send(chain.stakes.functions.requestWithdrawal(chain.params.min_node_stake))
    chain.advance(chain.params.challenge_window - 10)
    wrong = first_wrong_element(public_model, bad.claimed)
    assert wrong is not None and wrong.layer == 2
    chain.challenger.send(
        chain.fraud.functions.proveLayerFraud(
            chain.batch_ref(batch_id, tree, [bad], 0),
            layer_fraud_args(public_model, bad.claimed, bad.act_hashes, wrong),
        )
    )
    active, pending, _ = chain.stake_of(chain.node.address)
    assert (active, pending) == (0, chain.params.min_node_stake - chain.params.slash_amount)
    assert chain.call(chain.stakes.functions.credits(chain.challenger.address)) == chain.reward()
