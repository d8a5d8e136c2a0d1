"""Data-availability challenges: the node publishes in time, or is slashed after the deadline."""

from __future__ import annotations

import numpy as np
import pytest
from web3.types import TxReceipt

from protocol import errors
from protocol.activations import int8_bytes
from protocol.model import QuantizedModel
from tests import factories
from tests.factories import Inference
from tests.integration.chain_env import BURN_ADDRESS, ChainEnv

pytestmark = pytest.mark.anvil

STATUS_OPEN, STATUS_PUBLISHED, STATUS_TIMED_OUT = 1, 2, 3


@pytest.fixture
def committed(
    chain: ChainEnv, public_model: QuantizedModel
) -> tuple[list[Inference], tuple[object, ...], int]:
    chain.register(public_model)
    chain.stake()
    infs = factories.honest_batch(
        public_model, 5, node=chain.node.address, client=chain.client.address, seed=9
    )
    batch_id, tree, _ = chain.commit(infs)
    return infs, chain.batch_ref(batch_id, tree, infs, 3), batch_id


def open_challenge(
    chain: ChainEnv, ref: tuple[object, ...], index: int
) -> tuple[int, dict[str, object], int, TxReceipt]:
    """Challenger asks for trace entry ``index``; returns (challenge id, event, timestamp, tx)."""
    receipt = chain.challenger.send(
        chain.da.functions.challenge(ref, index), value=chain.params.data_bond
    )
    (event,) = chain.events(chain.da, "DataChallenged", receipt)
    ts = int(chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"])
    return int(event["challengeId"]), event, ts, receipt


def test_published_in_time_pays_the_bond_to_the_node(
    chain: ChainEnv, committed: tuple[list[Inference], tuple[object, ...], int]
) -> None:
    infs, ref, batch_id = committed
    inf = infs[3]
    index = 2
    before = chain.ledger(chain.node.address, chain.challenger.address)
    challenge_id, event, ts, _ = open_challenge(chain, ref, index)
    key = bytes(chain.call(chain.market.functions.authenticate(ref))[0])
    deadline = ts + chain.params.data_response_window
    assert challenge_id == 1
    assert event == {
        "challengeId": 1,
        "claimKey": key,
        "node": chain.node.address,
        "challenger": chain.challenger.address,
        "index": index,
        "deadline": deadline,
    }
    assert (
        chain.call(chain.stakes.functions.bondsOf(chain.challenger.address))
        == chain.params.data_bond
    )
    assert chain.call(chain.market.functions.openDisputes(0, batch_id)) == 1
    assert chain.call(chain.da.functions.openChallengeOf(key, index)) == 1
    # A second challenge of the same entry is refused while the first is open.
    with pytest.raises(errors.ChallengeAlreadyOpen):
        chain.challenger2.send(
            chain.da.functions.challenge(ref, index), value=chain.params.data_bond
        )

    # A vector that is not the committed one is refused.
    vector = int8_bytes(inf.vectors[index])
    wrong = bytes([vector[0] ^ 1]) + vector[1:]
    with pytest.raises(errors.InvalidTraceProof):
        chain.node.send(chain.da.functions.publish(challenge_id, wrong, inf.entry_proof(index)))

    chain.advance(chain.params.data_response_window - 5)
    receipt = chain.node.send(
        chain.da.functions.publish(challenge_id, vector, inf.entry_proof(index))
    )
    (published,) = chain.events(chain.da, "DataPublished", receipt)
    assert published["challengeId"] == challenge_id
    assert published["index"] == index
    assert bytes(published["vector"]) == vector
    assert np.frombuffer(bytes(published["vector"]), dtype=np.int8).tolist() == (
        inf.vectors[index].tolist()
    )

    after = chain.ledger(chain.node.address, chain.challenger.address)
    node, ch = chain.node.address, chain.challenger.address
    assert after[f"scredit:{node}"] == before[f"scredit:{node}"] + chain.params.data_bond
    assert after[f"scredit:{ch}"] == before[f"scredit:{ch}"]
    assert after[f"bond:{ch}"] == 0
    assert after[f"stake:{node}"] == before[f"stake:{node}"]  # not slashed
    assert after[f"eth:{BURN_ADDRESS}"] == before[f"eth:{BURN_ADDRESS}"]
    assert chain.call(chain.market.functions.openDisputes(0, batch_id)) == 0
    assert chain.call(chain.da.functions.getChallenge(challenge_id))[4] == STATUS_PUBLISHED
    with pytest.raises(errors.ChallengeNotOpen):
        chain.challenger.send(chain.da.functions.resolveTimeout(challenge_id))


def test_not_published_slashes_after_the_deadline(
    chain: ChainEnv, committed: tuple[list[Inference], tuple[object, ...], int]
) -> None:
    infs, ref, batch_id = committed
    index = 1
    node, ch = chain.node.address, chain.challenger.address
    before = chain.ledger(node, ch)
    eth_before = chain.balance(ch)
    challenge_id, _, ts, challenge_tx = open_challenge(chain, ref, index)
    deadline = ts + chain.params.data_response_window

    with pytest.raises(errors.DeadlineNotPassed) as info:
        chain.challenger.send(chain.da.functions.resolveTimeout(challenge_id))
    assert info.value.values == {"deadline": deadline}

    chain.advance(deadline + 1 - chain.now())
    vector = int8_bytes(infs[3].vectors[index])
    with pytest.raises(errors.DeadlinePassed):
        chain.node.send(
            chain.da.functions.publish(challenge_id, vector, infs[3].entry_proof(index))
        )

    receipt = chain.challenger2.send(chain.da.functions.resolveTimeout(challenge_id))  # anyone
    (event,) = chain.events(chain.da, "DataChallengeTimedOut", receipt)
    assert event["challengeId"] == challenge_id
    assert event["slashed"] == chain.params.slash_amount

    after = chain.ledger(node, ch)
    slash, reward = chain.params.slash_amount, chain.reward()
    assert after[f"stake:{node}"][0] == before[f"stake:{node}"][0] - slash
    # The challenger gets its bond back plus its share of the slash, as credits.
    assert after[f"scredit:{ch}"] == before[f"scredit:{ch}"] + chain.params.data_bond + reward
    assert after[f"bond:{ch}"] == 0
    assert after[f"eth:{BURN_ADDRESS}"] == before[f"eth:{BURN_ADDRESS}"] + slash - reward
    assert chain.call(chain.market.functions.openDisputes(0, batch_id)) == 0
    assert chain.call(chain.da.functions.getChallenge(challenge_id))[4] == STATUS_TIMED_OUT
    key = bytes(chain.call(chain.market.functions.authenticate(ref))[0])
    assert chain.call(chain.market.functions.fraudulent(key)) is True

    # Net of gas, the challenger paid the bond, got it back and earned the reward.
    withdraw_tx = chain.challenger.send(chain.stakes.functions.withdrawCredits())
    gas = chain.gas_cost(challenge_tx) + chain.gas_cost(withdraw_tx)
    assert chain.balance(ch) == eth_before + reward - gas


def test_challenge_rules(
    chain: ChainEnv,
    committed: tuple[list[Inference], tuple[object, ...], int],
    sensitive_model: QuantizedModel,
) -> None:
    _, ref, _ = committed
    with pytest.raises(errors.WrongBond) as info:
        chain.challenger.send(
            chain.da.functions.challenge(ref, 1), value=chain.params.data_bond - 1
        )
    assert info.value.values == {
        "sent": chain.params.data_bond - 1,
        "required": chain.params.data_bond,
    }
    with pytest.raises(errors.UnknownLayer):
        chain.challenger.send(chain.da.functions.challenge(ref, 4), value=chain.params.data_bond)

    # A hidden entry of a sensitive model cannot be asked for.
    chain.register_sensitive(sensitive_model)
    infs = factories.honest_batch(
        sensitive_model, 2, node=chain.node.address, client=chain.client.address
    )
    batch_id, tree, _ = chain.commit(infs)
    sref = chain.batch_ref(batch_id, tree, infs, 0)
    with pytest.raises(errors.NotPublicTraceIndex) as info2:
        chain.challenger.send(chain.da.functions.challenge(sref, 2), value=chain.params.data_bond)
    assert info2.value.values == {"index": 2}
    challenge_id, _, _, _ = open_challenge(chain, sref, 3)  # the partition's public output is fine
    assert challenge_id == 1
