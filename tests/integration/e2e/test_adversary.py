"""
Bogus disputes against an honest node (the real node service over HTTP, its watcher and
data-availability responder running), sent by an adversarial challenger straight through web3
(:mod:`tests.integration.e2e.adversary`): bogus fraud proofs revert and change nothing, a bogus
data challenge is answered by the node and costs the challenger its bond, and a bogus proof
demand is answered with a proof the real verifier accepts, which pays the node the bond.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from challenger.service import Challenger
from protocol import errors
from tests.integration.chain_env import ChainEnv
from tests.integration.e2e.adversary import Adversary, ServedClaim
from tests.integration.e2e.conftest import (
    PRIVATE_PARTITION,
    E2EEnv,
    PrivateModel,
    RunningNode,
    ServiceThread,
    random_inputs,
    reader,
    request_onchain,
    wait_for,
)

PUBLISHED = 2
"""``DataAvailabilityGame.Status.Published``."""
STATUS_PROVEN = 2
"""``ProofDemandGame.Status.Proven``."""


def _served(e2e: E2EEnv, node: RunningNode, n: int, onchain: int) -> tuple[list[int], list[int]]:
    """``n`` committed off-chain receipts and ``onchain`` fulfilled on-chain requests."""
    ids = request_onchain(e2e, random_inputs(onchain, seed=31)) if onchain else []
    bodies = node.infer(random_inputs(n, seed=30), threads=2)
    node.wait_all_committed(n)
    wait_for(
        lambda: all(node.get(f"/requests/{i}")["status"] == "committed" for i in ids),
        what="the node to fulfil the on-chain requests",
    )
    return [int(b["request_id"]) for b in bodies], ids


def _last_tx_cost(chain: ChainEnv, sender: str) -> int:
    """Wei paid by ``sender``'s transaction in the latest block (asserting it failed)."""
    block = chain.w3.eth.get_block("latest", full_transactions=True)
    (tx,) = [t for t in block["transactions"] if str(t["from"]).lower() == sender.lower()]
    receipt = chain.w3.eth.get_transaction_receipt(tx["hash"])
    assert receipt["status"] == 0
    return chain.gas_cost(receipt)


def test_bogus_fraud_proofs_revert_and_change_nothing(
    e2e: E2EEnv, start_node: Callable[..., RunningNode]
) -> None:
    """
    Proves: against an honest batch claim and an honest on-chain request claim, every bogus
    fraud proof (a correct layer, a forged output vector, a correct endpoint) reverts with its
    custom error; estimated first it sends nothing, and mined anyway it changes nothing but the
    sender's ETH, by exactly the gas it paid.
    """
    chain = e2e.chain
    node = start_node()
    off, on = _served(e2e, node, 4, 1)
    adv = Adversary(chain, chain.challenger2, e2e.model)
    claims = [adv.batch_claim(node, off[2]), adv.request_claim(on[0])]
    last = len(e2e.model.layers)
    accounts = (chain.node.address, adv.address)

    for claim in claims:
        bogus: list[tuple[Any, type[Exception]]] = [
            *((adv.layer_fraud(claim, layer, 1), errors.NoFraud) for layer in range(1, last + 1)),
            (adv.forged_layer_fraud(claim, 2, 3), errors.InvalidTraceProof),
            (adv.endpoint_fraud(claim, 0), errors.NoFraud),
            (adv.endpoint_fraud(claim, last), errors.NoFraud),
        ]
        before, nonce = chain.ledger(*accounts), chain.nonce(adv.address)
        for fn, error in bogus:
            with pytest.raises(error):
                adv.send(fn)
        assert chain.nonce(adv.address) == nonce  # reverted at estimation: nothing sent
        assert chain.ledger(*accounts) == before
        for fn, error in bogus[last - 1 :]:  # the last layer, the forgery, both endpoints
            before = chain.ledger(*accounts)
            with pytest.raises(error):
                adv.send(fn, forced=True)
            cost = _last_tx_cost(chain, adv.address)
            after = chain.ledger(*accounts)
            assert after.pop(f"eth:{adv.address}") == before.pop(f"eth:{adv.address}") - cost
            assert after == before
        assert not chain.call(chain.market.functions.fraudulent(claim.key))
    assert chain.stake_of(chain.node.address)[0] == chain.params.min_node_stake


def test_bogus_data_challenge_is_answered_and_the_bond_goes_to_the_node(
    e2e: E2EEnv,
    start_node: Callable[..., RunningNode],
    start_challenger: Callable[..., Challenger],
    run_in_background: Callable[[Challenger, float], ServiceThread],
) -> None:
    """
    Proves: a data challenge against an honest batch claim is answered by the node's responder
    before its deadline; the challenger's bond is credited to the node, the challenger is out
    exactly the bond plus its gas, nothing is slashed, and an honest challenger watching (p = 1)
    records the published vectors and sends nothing.
    """
    chain = e2e.chain
    node = start_node()
    honest = start_challenger("challenger", node.url)
    honest_nonce = chain.nonce(honest.me)
    run_in_background(honest, 0.2)
    off, _ = _served(e2e, node, 4, 0)
    adv = Adversary(chain, chain.challenger2, e2e.model)
    claim = adv.batch_claim(node, off[1])
    node_address = chain.node.address
    credits_before = chain.call(chain.stakes.functions.credits(node_address))
    eth_before = chain.balance(adv.address)
    stake_before = chain.stake_of(node_address)

    challenges = [adv.challenge_data(claim, index) for index in (1, 3)]
    gas = sum(cost for _, _, cost in challenges)
    for challenge_id, deadline, _ in challenges:
        wait_for(
            lambda cid=challenge_id: (
                chain.call(chain.da.functions.getChallenge(cid))[4] == PUBLISHED
            ),
            what=f"the node to publish the vector of challenge {challenge_id}",
        )
        assert chain.now() <= deadline
    bond = chain.params.data_bond
    assert chain.call(chain.stakes.functions.credits(node_address)) == credits_before + 2 * bond
    assert chain.call(chain.stakes.functions.bondsOf(adv.address)) == 0
    assert chain.call(chain.stakes.functions.credits(adv.address)) == 0
    assert chain.balance(adv.address) == eth_before - 2 * bond - gas
    assert chain.stake_of(node_address) == stake_before
    assert not chain.call(chain.market.functions.fraudulent(claim.key))

    state = reader(honest)
    wait_for(lambda: set(state.published_of(claim.key)) == {1, 3}, what="the honest challenger")
    wait_for(lambda: not state.active_claims(), what="the honest challenger to settle")
    assert state.outcomes() == {}
    assert chain.nonce(honest.me) == honest_nonce
    # The node records the publications from its own chain watcher, which may lag the chain.
    wait_for(
        lambda: (
            [d["kind"] for d in node.get(f"/receipts/{off[1]}")["disputes"]].count("data_published")
            == 2
        ),
        what="the node to record both publications",
    )
    state.close()


def test_bogus_data_challenge_on_an_onchain_request_is_answered(
    e2e: E2EEnv, start_node: Callable[..., RunningNode]
) -> None:
    """
    Proves: a data challenge against an honest on-chain request's claim is answered by the node
    before its deadline with the vector it serves at ``GET /v1/requests/{id}/trace``; the bond is
    credited to the node, nothing is slashed, and the request's dispute history shows it.
    """
    chain = e2e.chain
    node = start_node()
    _, on = _served(e2e, node, 0, 1)
    adv = Adversary(chain, chain.challenger2, e2e.model)
    claim = adv.request_claim(on[0])
    node_address = chain.node.address
    credits_before = chain.call(chain.stakes.functions.credits(node_address))
    stake_before = chain.stake_of(node_address)
    challenge_id, deadline, _ = adv.challenge_data(claim, 1)
    wait_for(
        lambda: chain.call(chain.da.functions.getChallenge(challenge_id))[4] == PUBLISHED,
        timeout=4,
        what="the node to publish the challenged vector of an on-chain request",
    )
    assert chain.now() <= deadline
    bond = chain.params.data_bond
    assert chain.call(chain.stakes.functions.credits(node_address)) == credits_before + bond
    assert chain.call(chain.stakes.functions.bondsOf(adv.address)) == 0
    assert chain.stake_of(node_address) == stake_before
    assert not chain.call(chain.market.functions.fraudulent(claim.key))
    trace = node.get(f"/requests/{on[0]}/trace")
    assert trace["trace_root"] == "0x" + bytes(claim.receipt.trace_root).hex()
    vector = claim.vectors[1]
    assert vector is not None and trace["vectors"][1]["values"] == vector.tolist()
    wait_for(
        lambda: (
            [d["kind"] for d in node.get(f"/requests/{on[0]}")["disputes"]]
            == ["dispute_opened", "data_challenged", "dispute_closed", "data_published"]
        ),
        what="the node's watcher to record the request's dispute",
    )
    assert node.get(f"/requests/{on[0]}")["status"] == "committed"


def test_bogus_proof_demand_locks_the_bond(
    e2e: E2EEnv,
    private_model: PrivateModel,
    start_node: Callable[..., RunningNode],
) -> None:
    """
    Proves: against an honest node serving the digits model with layer 2 private (registered
    with the real ``SumKzgVerifier``), a proof demand on a public partition reverts with
    ``NotSensitivePartition`` and changes nothing; one on the private partition locks the
    adversary's bond and holds the batch open until the node answers with a proof that the
    verifier accepts (``ProofAccepted``) before the deadline: the bond is released to the node
    (credited), the adversary is out exactly the bond plus its gas, the dispute closes without
    fraud and nothing is slashed.
    """
    chain = e2e.chain
    node = start_node(models=[private_model.path])
    width = private_model.model.layers[0].in_dim
    bodies = node.infer(random_inputs(3, seed=33, width=width), threads=1)
    node.wait_all_committed(3)
    adv = Adversary(chain, chain.challenger2, private_model.model)
    request_id = int(bodies[1]["request_id"])
    claim: ServedClaim = adv.batch_claim(node, request_id)
    # A one-layer partition has no interior: its input h_1 and output h_2 are public.
    assert all(v is not None for v in claim.vectors)
    node_address = chain.node.address
    accounts = (node_address, adv.address)

    before, nonce = chain.ledger(*accounts), chain.nonce(adv.address)
    with pytest.raises(errors.NotSensitivePartition):
        adv.send(chain.pdg.functions.demandProof(claim.ref, 0), value=chain.params.proof_bond)
    assert (chain.ledger(*accounts), chain.nonce(adv.address)) == (before, nonce)

    eth_before = chain.balance(adv.address)
    demand_id, deadline, gas = adv.demand_proof(claim, PRIVATE_PARTITION)
    batch_id = int(claim.ref[1])  # type: ignore[call-overload]
    wait_for(
        lambda: chain.call(chain.pdg.functions.getDemand(demand_id))[4] == STATUS_PROVEN,
        timeout=60,
        what="the node to prove the demanded partition",
    )
    assert chain.now() <= deadline
    (accepted,) = chain.pdg.events.ProofAccepted().get_logs(from_block=chain.session.base_block)
    assert int(accepted["args"]["demandId"]) == demand_id
    assert bytes(accepted["args"]["claimKey"]) == claim.key
    after = chain.ledger(*accounts)
    bond = chain.params.proof_bond
    assert after[f"scredit:{node_address}"] == before[f"scredit:{node_address}"] + bond
    assert after[f"stake:{node_address}"] == before[f"stake:{node_address}"]
    assert after[f"bond:{adv.address}"] == 0
    assert after[f"scredit:{adv.address}"] == before[f"scredit:{adv.address}"]
    assert chain.balance(adv.address) == eth_before - bond - gas
    assert chain.call(chain.market.functions.openDisputes(0, batch_id)) == 0
    assert not chain.call(chain.market.functions.fraudulent(claim.key))
    # The bond was locked by the demand and released to the node by the answer; the claim's
    # batch was held open in between (closed without fraud).
    base = chain.session.base_block
    (locked,) = chain.stakes.events.BondLocked().get_logs(
        from_block=base, argument_filters={"challenger": adv.address}
    )
    (released,) = chain.stakes.events.BondReleased().get_logs(
        from_block=base, argument_filters={"challenger": adv.address}
    )
    assert int(locked["args"]["amount"]) == int(released["args"]["amount"]) == bond
    assert released["args"]["recipient"] == node_address
    assert locked["blockNumber"] < released["blockNumber"]
    market_events = chain.market.events
    (opened,) = market_events.DisputeOpened().get_logs(
        from_block=base, argument_filters={"claimKey": claim.key}
    )
    (closed,) = market_events.DisputeClosed().get_logs(
        from_block=base, argument_filters={"claimKey": claim.key}
    )
    assert int(opened["args"]["containerId"]) == int(closed["args"]["containerId"]) == batch_id
    assert opened["args"]["game"] == closed["args"]["game"] == chain.pdg.address
    assert not closed["args"]["fraud"]
    wait_for(
        lambda: (
            "proof_accepted" in [d["kind"] for d in node.get(f"/receipts/{request_id}")["disputes"]]
        ),
        what="the node's watcher to record the answer",
    )
    assert node.get(f"/receipts/{request_id}")["status"] == "committed"
