"""Single-transaction fraud proofs against public layers and trace endpoints."""

from __future__ import annotations

from typing import Any

import pytest

from opzk.chain import ChainClient
from protocol import errors
from protocol.activations import act_hash
from protocol.model import QuantizedModel
from prover.fraud import WrongElement, first_wrong_element, layer_fraud_args, trace_entry_proof
from tests import factories
from tests.factories import Inference
from tests.integration.chain_env import BURN_ADDRESS, ChainEnv

pytestmark = pytest.mark.anvil


def commit_with(
    chain: ChainEnv, model: QuantizedModel, bad: Inference | None, *, count: int = 16, at: int = 9
) -> tuple[list[Inference], tuple[object, ...], int]:
    """Commits ``count`` honest receipts with ``bad`` (if any) at index ``at``; returns the batch,
    the claim ref of index ``at`` and the batch id."""
    infs = factories.honest_batch(
        model, count, node=chain.node.address, client=chain.client.address, seed=21
    )
    if bad is not None:
        infs[at] = bad
    batch_id, tree, _ = chain.commit(infs)
    return infs, chain.batch_ref(batch_id, tree, infs, at), batch_id


def prove(
    chain: ChainEnv, who: ChainClient, ref: tuple[object, ...], inf: Inference, wrong: WrongElement
) -> dict[str, object]:
    args = layer_fraud_args(inf.model, inf.claimed, inf.act_hashes, wrong)
    receipt = who.send(chain.fraud.functions.proveLayerFraud(ref, args))
    (event,) = chain.events(chain.fraud, "FraudProven", receipt)
    return event


def assert_slashed_once(chain: ChainEnv, before: dict[str, Any], challenger: str) -> None:
    """The node lost exactly one slash: the challenger got its reward, the rest was burnt."""
    slash, reward = chain.params.slash_amount, chain.reward()
    node = chain.node.address
    after = chain.ledger(node, challenger)
    active_before = before[f"stake:{node}"][0]
    assert after[f"stake:{node}"] == (active_before - slash, 0, 0)
    assert after[f"scredit:{challenger}"] == before[f"scredit:{challenger}"] + reward
    assert after[f"eth:{BURN_ADDRESS}"] == before[f"eth:{BURN_ADDRESS}"] + slash - reward
    assert after["stakes.totalCredits"] == before["stakes.totalCredits"] + reward
    stakes_eth = f"eth:{chain.stakes.address}"
    assert after[stakes_eth] == before[stakes_eth] - (slash - reward)


@pytest.fixture
def market(chain: ChainEnv, public_model: QuantizedModel) -> ChainEnv:
    """The public model registered and the node staked twice the minimum (it survives a slash)."""
    chain.register(public_model)
    chain.stake(amount=2 * chain.params.min_node_stake)
    return chain


def test_wrong_output_element_is_proven_and_slashed(
    market: ChainEnv, public_model: QuantizedModel
) -> None:
    chain = market
    rng = factories.rng_for(99)
    honest = factories.honest_inference(
        public_model,
        factories.random_input(rng, 36),
        request_id=1000,
        node=chain.node.address,
        client=chain.client.address,
    )
    bad = factories.corrupt_output(honest, row=2)
    infs, ref, batch_id = commit_with(chain, public_model, bad)

    # The challenger re-executes the claimed trace and finds the wrong element.
    wrong = first_wrong_element(public_model, bad.claimed)
    assert wrong == WrongElement(layer=3, row=2)
    # Every honest neighbour re-executes cleanly.
    assert all(first_wrong_element(public_model, i.claimed) is None for i in infs if i is not bad)

    before = chain.ledger(chain.node.address, chain.challenger.address)
    args = layer_fraud_args(public_model, bad.claimed, bad.act_hashes, wrong)
    receipt = chain.challenger.send(chain.fraud.functions.proveLayerFraud(ref, args))

    (proven,) = chain.events(chain.fraud, "FraudProven", receipt)
    claim = chain.call(chain.market.functions.authenticate(ref))
    key = bytes(claim[0])
    assert proven == {
        "claimKey": key,
        "node": chain.node.address,
        "challenger": chain.challenger.address,
        "layer": 3,
        "slashed": chain.params.slash_amount,
    }
    (slashed,) = chain.events(chain.stakes, "Slashed", receipt)
    assert slashed == {
        "node": chain.node.address,
        "challenger": chain.challenger.address,
        "amount": chain.params.slash_amount,
        "reward": chain.reward(),
    }
    assert chain.events(chain.market, "ClaimSlashed", receipt) == [
        {"claimKey": key, "source": 0, "containerId": batch_id, "node": chain.node.address}
    ]
    assert chain.call(chain.market.functions.fraudulent(key)) is True
    assert_slashed_once(chain, before, chain.challenger.address)

    # The challenger withdraws its reward.
    eth = chain.balance(chain.challenger.address)
    r = chain.challenger.send(chain.stakes.functions.withdrawCredits())
    assert chain.balance(chain.challenger.address) == eth + chain.reward() - chain.gas_cost(r)

    # A second proof of the same claim, by anyone, reverts and changes nothing.
    middle = chain.ledger(chain.node.address, chain.challenger2.address)
    for who in (chain.challenger, chain.challenger2):
        with pytest.raises(errors.ClaimAlreadySlashed) as info:
            who.send(chain.fraud.functions.proveLayerFraud(ref, args))
        assert info.value.values == {"claimKey": key}
    assert chain.ledger(chain.node.address, chain.challenger2.address) == middle


def test_fraud_proof_against_an_honest_claim_reverts_and_changes_nothing(
    market: ChainEnv, public_model: QuantizedModel
) -> None:
    chain = market
    infs, ref, _ = commit_with(chain, public_model, None)
    honest = infs[9]
    before = chain.ledger(chain.node.address, chain.challenger.address)
    nonce = chain.nonce(chain.challenger.address)
    block = chain.block_number()
    for layer in (1, 2, 3):
        for row in (0, public_model.layers[layer - 1].out_dim - 1):
            args = layer_fraud_args(
                public_model, honest.claimed, honest.act_hashes, WrongElement(layer, row)
            )
            with pytest.raises(errors.NoFraud):
                chain.challenger.send(chain.fraud.functions.proveLayerFraud(ref, args))
    for index in (0, 3):
        with pytest.raises(errors.NoFraud):
            chain.challenger.send(
                chain.fraud.functions.proveEndpointFraud(
                    ref, index, honest.act_hashes[index], honest.entry_proof(index)
                )
            )
    assert chain.nonce(chain.challenger.address) == nonce  # nothing was even sent
    assert chain.block_number() == block
    assert chain.ledger(chain.node.address, chain.challenger.address) == before
    key = bytes(chain.call(chain.market.functions.authenticate(ref))[0])
    assert chain.call(chain.market.functions.fraudulent(key)) is False


def test_bad_evidence_reverts(market: ChainEnv, public_model: QuantizedModel) -> None:
    chain = market
    rng = factories.rng_for(5)
    bad = factories.cheat_at_layer(
        public_model,
        factories.random_input(rng, 36),
        layer=3,
        row=0,
        request_id=7,
        node=chain.node.address,
        client=chain.client.address,
    )
    _, ref, _ = commit_with(chain, public_model, bad)
    wrong = first_wrong_element(public_model, bad.claimed)
    assert wrong is not None
    good: list[Any] = list(layer_fraud_args(public_model, bad.claimed, bad.act_hashes, wrong))

    def expect(error: type[errors.ContractError], **changes: object) -> errors.ContractError:
        fields = [
            "layer",
            "input",
            "inputProof",
            "output",
            "outputProof",
            "row",
            "weights",
            "bias",
            "weightProof",
        ]
        args = list(good)
        for name, value in changes.items():
            args[fields.index(name)] = value
        with pytest.raises(error) as info:
            chain.challenger.send(chain.fraud.functions.proveLayerFraud(ref, tuple(args)))
        return info.value

    # A vector that is not the committed one.
    output = bytearray(good[3])
    output[1] ^= 1
    assert expect(errors.InvalidTraceProof, output=bytes(output)).values == {"index": 3}
    # A weight row that is not the registered one.
    weights = bytearray(good[6])
    weights[0] ^= 1
    assert expect(errors.InvalidWeightRow, weights=bytes(weights)).values == {"row": 0}
    assert expect(errors.InvalidWeightRow, bias=good[7] + 1).values == {"row": 0}
    assert expect(errors.RowOutOfRange, row=4).values == {"row": 4, "outDim": 4}
    assert expect(errors.UnknownLayer, layer=4).values["layer"] == 4


def test_intermediate_layer_cheat_is_proven_at_that_layer(
    market: ChainEnv, public_model: QuantizedModel
) -> None:
    chain = market
    rng = factories.rng_for(123)
    x = factories.random_input(rng, 36)
    honest = factories.honest_inference(
        public_model, x, request_id=1, node=chain.node.address, client=chain.client.address
    )
    row = int(next(j for j, v in enumerate(honest.vectors[1]) if v > 0))
    bad = factories.cheat_at_layer(
        public_model,
        x,
        layer=1,
        row=row,
        delta=40,
        request_id=1,
        node=chain.node.address,
        client=chain.client.address,
    )
    assert bad.vectors[1][row] != honest.vectors[1][row]
    _, ref, _ = commit_with(chain, public_model, bad)

    wrong = first_wrong_element(public_model, bad.claimed)
    assert wrong == WrongElement(layer=1, row=row)
    # Layers 2 and 3 were computed honestly from the wrong h_1: no fraud to prove there.
    for layer in (2, 3):
        args = layer_fraud_args(public_model, bad.claimed, bad.act_hashes, WrongElement(layer, 0))
        with pytest.raises(errors.NoFraud):
            chain.challenger.send(chain.fraud.functions.proveLayerFraud(ref, args))

    before = chain.ledger(chain.node.address, chain.challenger.address)
    event = prove(chain, chain.challenger, ref, bad, wrong)
    assert event["layer"] == 1
    assert event["slashed"] == chain.params.slash_amount
    assert_slashed_once(chain, before, chain.challenger.address)


def test_wrong_length_vector_is_fraud(market: ChainEnv, public_model: QuantizedModel) -> None:
    chain = market
    rng = factories.rng_for(8)
    honest = factories.honest_inference(
        public_model,
        factories.random_input(rng, 36),
        request_id=3,
        node=chain.node.address,
        client=chain.client.address,
    )
    bad = factories.with_wrong_length(honest, 2)
    assert len(bad.vectors[2]) == public_model.layers[1].out_dim - 1
    _, ref, _ = commit_with(chain, public_model, bad)
    wrong = first_wrong_element(public_model, bad.claimed)
    assert wrong == WrongElement(layer=2, row=0, wrong_length=True)
    before = chain.ledger(chain.node.address, chain.challenger.address)
    assert prove(chain, chain.challenger, ref, bad, wrong)["layer"] == 2
    assert_slashed_once(chain, before, chain.challenger.address)


@pytest.mark.parametrize("endpoint", [0, 3])
def test_endpoint_fraud(market: ChainEnv, public_model: QuantizedModel, endpoint: int) -> None:
    """The trace's entry 0 (or L) is not the receipt's inputHash (or outputHash)."""
    chain = market
    rng = factories.rng_for(31)
    x = factories.random_input(rng, 36)
    honest = factories.honest_inference(
        public_model, x, request_id=4, node=chain.node.address, client=chain.client.address
    )
    # The receipt claims one endpoint, the trace commits another: the node computed on another
    # input than the one it was given (or reports an output its trace does not end with).
    other = factories.random_input(rng, 36) if endpoint == 0 else None
    claimed_hash = (
        act_hash(other) if other is not None else act_hash(honest.vectors[-1][::-1].copy())
    )
    bad = factories.inference_from_vectors(
        public_model,
        list(honest.vectors),
        request_id=4,
        node=chain.node.address,
        client=chain.client.address,
        input_hash=claimed_hash if endpoint == 0 else None,
        output_hash=claimed_hash if endpoint == 3 else None,
    )
    assert bad.act_hashes[endpoint] != claimed_hash
    # Every layer is internally consistent: only the endpoint is wrong.
    assert first_wrong_element(public_model, bad.claimed) is None
    _, ref, _ = commit_with(chain, public_model, bad)

    fn = chain.fraud.functions.proveEndpointFraud
    with pytest.raises(errors.NotAnEndpoint):
        chain.challenger.send(fn(ref, 1, bad.act_hashes[1], bad.entry_proof(1)))
    with pytest.raises(errors.InvalidTraceProof):
        chain.challenger.send(fn(ref, endpoint, claimed_hash, bad.entry_proof(endpoint)))
    other_end = 3 - endpoint
    with pytest.raises(errors.NoFraud):
        chain.challenger.send(
            fn(ref, other_end, bad.act_hashes[other_end], bad.entry_proof(other_end))
        )

    before = chain.ledger(chain.node.address, chain.challenger.address)
    proof = trace_entry_proof(bad.act_hashes, endpoint)
    receipt = chain.challenger.send(fn(ref, endpoint, bad.act_hashes[endpoint], proof))
    (event,) = chain.events(chain.fraud, "FraudProven", receipt)
    assert event["layer"] == endpoint
    assert_slashed_once(chain, before, chain.challenger.address)


def test_sensitive_layers_cannot_be_fraud_proven(
    chain: ChainEnv, sensitive_model: QuantizedModel
) -> None:
    chain.register_sensitive(sensitive_model)
    chain.stake()
    rng = factories.rng_for(2)
    x = factories.random_input(rng, 36)
    # A cheat in public layer 4 of the sensitive model is provable; layer 3 (sensitive) is not.
    bad = factories.cheat_at_layer(
        sensitive_model,
        x,
        layer=4,
        row=1,
        request_id=1,
        node=chain.node.address,
        client=chain.client.address,
    )
    assert bad.act_hashes[2] == bytes(32)
    _, ref, _ = commit_with(chain, sensitive_model, bad, count=3, at=1)
    wrong = first_wrong_element(sensitive_model, bad.claimed)
    assert wrong == WrongElement(layer=4, row=1)
    with pytest.raises(errors.NotPublicLayer) as info:
        args = list(layer_fraud_args(sensitive_model, bad.claimed, bad.act_hashes, wrong))
        args[0] = 3
        chain.challenger.send(chain.fraud.functions.proveLayerFraud(ref, tuple(args)))
    assert info.value.values == {"layer": 3}
    before = chain.ledger(chain.node.address, chain.challenger.address)
    assert prove(chain, chain.challenger, ref, bad, wrong)["layer"] == 4
    after = chain.ledger(chain.node.address, chain.challenger.address)
    assert after[f"stake:{chain.node.address}"][0] == (
        before[f"stake:{chain.node.address}"][0] - chain.params.slash_amount
    )
