"""Staking, committing batches of receipts, authenticating claims, finalizing batches."""

from __future__ import annotations

from dataclasses import replace

import pytest

from protocol import errors
from protocol.keccak import keccak256
from protocol.merkle import verify_merkle_proof
from protocol.model import QuantizedModel
from protocol.receipts import CLAIM_SOURCE_BATCH, claim_key, receipt_leaf
from prover.fraud import batch_claim_ref, receipt_tuple
from tests import factories
from tests.integration.chain_env import ChainEnv

pytestmark = pytest.mark.anvil

BATCH_SIZE = 21
"""More than 16, and odd at several levels (21 → 11 → 6 → 3 → 2 → 1), so carried nodes are used."""

BATCH_FINALIZED = 2


def test_stake_makes_the_node_active(chain: ChainEnv) -> None:
    before = chain.balance(chain.node.address)
    assert chain.call(chain.stakes.functions.isActiveNode(chain.node.address)) is False
    with pytest.raises(errors.NodeNotActive):
        chain.node.send(chain.market.functions.commitBatch(b"\x01" * 32, 1))
    half = chain.params.min_node_stake // 2
    r1 = chain.stake(amount=half)
    assert chain.call(chain.stakes.functions.isActiveNode(chain.node.address)) is False
    r2 = chain.stake(amount=chain.params.min_node_stake - half)
    (event,) = chain.events(chain.stakes, "Staked", r2)
    assert event == {
        "node": chain.node.address,
        "amount": chain.params.min_node_stake - half,
        "activeStake": chain.params.min_node_stake,
    }
    assert chain.stake_of(chain.node.address) == (chain.params.min_node_stake, 0, 0)
    assert chain.call(chain.stakes.functions.isActiveNode(chain.node.address)) is True
    assert chain.call(chain.stakes.functions.totalActiveStake()) == chain.params.min_node_stake
    assert chain.balance(chain.stakes.address) == chain.params.min_node_stake
    spent = chain.gas_cost(r1) + chain.gas_cost(r2)
    assert chain.balance(chain.node.address) == before - chain.params.min_node_stake - spent
    with pytest.raises(errors.ZeroAmount):
        chain.stake(amount=0)


def test_commit_batch_and_authenticate_every_receipt(
    chain: ChainEnv, public_model: QuantizedModel
) -> None:
    model_id = chain.register(public_model)
    chain.stake()
    infs = factories.honest_batch(
        public_model, BATCH_SIZE, node=chain.node.address, client=chain.client.address, seed=3
    )
    batch_id, tree, receipt = chain.commit(infs)
    assert batch_id == 1
    (event,) = chain.events(chain.market, "BatchCommitted", receipt)
    assert event == {
        "batchId": 1,
        "node": chain.node.address,
        "root": tree.root,
        "count": BATCH_SIZE,
    }
    committed_at = int(chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"])
    root, node, count, at, status = chain.call(chain.market.functions.batch(batch_id))
    assert (bytes(root), node, count, at, status) == (
        tree.root,
        chain.node.address,
        BATCH_SIZE,
        committed_at,
        1,
    )

    for index, inf in enumerate(infs):
        leaf = receipt_leaf(inf.receipt)
        proof = tree.proof(index)
        # Python's proof verifies in Python ...
        assert verify_merkle_proof(proof, tree.root, leaf)
        # ... and the contract accepts the same proof for that receipt (OpenZeppelin MerkleProof).
        claim = chain.call(
            chain.market.functions.authenticate(batch_claim_ref(batch_id, tree, index, inf.receipt))
        )
        key, source, container, c_node, c_model, c_root, window_end = claim
        assert bytes(key) == claim_key(CLAIM_SOURCE_BATCH, batch_id, leaf)
        assert (source, container, c_node) == (CLAIM_SOURCE_BATCH, batch_id, chain.node.address)
        assert bytes(c_model) == model_id
        assert bytes(c_root) == inf.receipt.trace_root
        assert window_end == committed_at + chain.params.challenge_window


def test_authenticate_rejects_tampered_claims(
    chain: ChainEnv, public_model: QuantizedModel
) -> None:
    chain.register(public_model)
    chain.stake()
    infs = factories.honest_batch(
        public_model, 16, node=chain.node.address, client=chain.client.address, seed=4
    )
    batch_id, tree, _ = chain.commit(infs)
    auth = chain.market.functions.authenticate
    good = infs[5].receipt
    proof = tree.proof(5)

    def ref(receipt: object, p: list[bytes] = proof, batch: int = batch_id) -> tuple[object, ...]:
        return (CLAIM_SOURCE_BATCH, batch, p, receipt_tuple(receipt))  # type: ignore[arg-type]

    assert chain.call(auth(ref(good)))  # the untampered claim is accepted
    other = infs[6].receipt
    tampered = [
        replace(good, output_hash=keccak256(b"another output")),
        replace(good, trace_root=other.trace_root),
        replace(good, request_id=good.request_id + 1),
        replace(good, client=chain.challenger.address),
        replace(good, node=chain.challenger.address),
    ]
    for receipt in tampered:
        with pytest.raises(errors.InvalidClaim):
            chain.call(auth(ref(receipt)))
    # A valid receipt with another leaf's proof, or with a truncated proof.
    with pytest.raises(errors.InvalidClaim):
        chain.call(auth(ref(good, tree.proof(6))))
    with pytest.raises(errors.InvalidClaim):
        chain.call(auth(ref(good, proof[:-1])))
    with pytest.raises(errors.UnknownBatch) as info:
        chain.call(auth(ref(good, proof, batch_id + 1)))
    assert info.value.values == {"batchId": batch_id + 1}


def test_commit_rejects_empty_batches(chain: ChainEnv) -> None:
    chain.stake()
    with pytest.raises(errors.EmptyBatch):
        chain.node.send(chain.market.functions.commitBatch(bytes(32), 3))
    with pytest.raises(errors.EmptyBatch):
        chain.node.send(chain.market.functions.commitBatch(b"\x01" * 32, 0))
    assert chain.call(chain.market.functions.batchCount()) == 0


def test_finalize_batch_after_the_window(chain: ChainEnv, public_model: QuantizedModel) -> None:
    chain.register(public_model)
    chain.stake()
    infs = factories.honest_batch(
        public_model, 4, node=chain.node.address, client=chain.client.address
    )
    batch_id, _, receipt = chain.commit(infs)
    committed_at = int(chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"])
    window_end = committed_at + chain.params.challenge_window

    with pytest.raises(errors.ChallengeWindowOpen) as info:
        chain.challenger.send(chain.market.functions.finalizeBatch(batch_id))
    assert info.value.values == {"windowEnd": window_end}
    # One second before the end is still inside the window.
    chain.advance(window_end - 1 - chain.now())
    with pytest.raises(errors.ChallengeWindowOpen):
        chain.challenger.send(chain.market.functions.finalizeBatch(batch_id))

    chain.advance(1)
    receipt = chain.challenger.send(chain.market.functions.finalizeBatch(batch_id))
    assert chain.events(chain.market, "BatchFinalized", receipt) == [{"batchId": batch_id}]
    assert chain.call(chain.market.functions.batch(batch_id))[4] == BATCH_FINALIZED
    with pytest.raises(errors.BatchAlreadyFinalized):
        chain.challenger.send(chain.market.functions.finalizeBatch(batch_id))
    with pytest.raises(errors.UnknownBatch):
        chain.challenger.send(chain.market.functions.finalizeBatch(batch_id + 1))


def test_open_dispute_blocks_finalization(chain: ChainEnv, public_model: QuantizedModel) -> None:
    chain.register(public_model)
    chain.stake()
    infs = factories.honest_batch(
        public_model, 4, node=chain.node.address, client=chain.client.address
    )
    batch_id, tree, _ = chain.commit(infs)
    ref = chain.batch_ref(batch_id, tree, infs, 2)
    chain.challenger.send(chain.da.functions.challenge(ref, 1), value=chain.params.data_bond)
    assert chain.call(chain.market.functions.openDisputes(CLAIM_SOURCE_BATCH, batch_id)) == 1

    # Past the challenge window (and the DA deadline), the open dispute still blocks finalization.
    chain.advance(chain.params.challenge_window + 1)
    with pytest.raises(errors.DisputesOpen) as info:
        chain.challenger.send(chain.market.functions.finalizeBatch(batch_id))
    assert info.value.values == {"count": 1}

    chain.challenger.send(chain.da.functions.resolveTimeout(1))
    assert chain.call(chain.market.functions.openDisputes(CLAIM_SOURCE_BATCH, batch_id)) == 0
    chain.challenger.send(chain.market.functions.finalizeBatch(batch_id))
    assert chain.call(chain.market.functions.batch(batch_id))[4] == BATCH_FINALIZED


def test_claims_cannot_be_disputed_after_the_window(
    chain: ChainEnv, public_model: QuantizedModel
) -> None:
    chain.register(public_model)
    chain.stake()
    infs = factories.honest_batch(
        public_model, 2, node=chain.node.address, client=chain.client.address
    )
    batch_id, tree, receipt = chain.commit(infs)
    committed_at = int(chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"])
    chain.advance(chain.params.challenge_window)
    with pytest.raises(errors.ChallengeWindowClosed) as info:
        chain.challenger.send(
            chain.da.functions.challenge(chain.batch_ref(batch_id, tree, infs, 0), 1),
            value=chain.params.data_bond,
        )
    assert info.value.values == {"windowEnd": committed_at + chain.params.challenge_window}
