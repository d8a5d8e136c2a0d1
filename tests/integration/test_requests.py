"""On-chain inference requests: escrow, batched fulfilment, finalization, refunds, fraud."""

from __future__ import annotations

import numpy as np
import pytest

from protocol import errors
from protocol.activations import act_hash, int8_array, int8_bytes
from protocol.model import QuantizedModel, forward_trace
from protocol.receipts import result_hash
from prover.fraud import first_wrong_element, layer_fraud_args, request_claim_ref
from tests import factories
from tests.factories import Inference
from tests.integration.chain_env import ChainEnv

pytestmark = pytest.mark.anvil

PENDING, FULFILLED, FINALIZED, REFUNDED, SLASHED = 1, 2, 3, 4, 5
REQUESTS = 5


@pytest.fixture
def serving(chain: ChainEnv, public_model: QuantizedModel) -> bytes:
    """The public model registered and served by the staked node (twice the minimum stake)."""
    model_id = chain.register(public_model)
    chain.stake(amount=2 * chain.params.min_node_stake)
    chain.node.send(chain.market.functions.serveModel(model_id))
    return model_id


def request(
    chain: ChainEnv, model_id: bytes, x: np.ndarray, fee: int
) -> tuple[int, dict[str, object], int]:
    """The client requests an inference; returns (request id, event, gas paid)."""
    receipt = chain.client.send(
        chain.market.functions.requestInference(model_id, int8_bytes(x)), value=fee
    )
    (event,) = chain.events(chain.market, "InferenceRequested", receipt)
    return int(event["requestId"]), event, chain.gas_cost(receipt)


def fulfilment(model: QuantizedModel, chain: ChainEnv, request_id: int, x_raw: bytes) -> Inference:
    """The node's honest computation of a request, from the input it read in the event."""
    return factories.honest_inference(
        model,
        int8_array(x_raw),
        request_id=request_id,
        node=chain.node.address,
        client=chain.client.address,
    )


def test_requests_fulfilled_in_one_transaction_then_finalized_and_paid(
    chain: ChainEnv, public_model: QuantizedModel, serving: bytes
) -> None:
    model_id = serving
    rng = factories.rng_for(1)
    fees = [chain.params.min_request_fee * (i + 1) for i in range(REQUESTS)]
    inputs = [factories.random_input(rng, 36) for _ in range(REQUESTS)]
    market_eth = chain.balance(chain.market.address)
    client_eth = chain.balance(chain.client.address)
    gas = 0
    seen: list[tuple[int, bytes]] = []
    for x, fee in zip(inputs, fees, strict=True):
        request_id, event, paid = request(chain, model_id, x, fee)
        gas += paid
        assert event["node"] == chain.node.address
        assert event["client"] == chain.client.address
        assert event["fee"] == fee
        assert bytes(event["modelId"]) == model_id
        assert bytes(event["input"]) == int8_bytes(x)  # the input is emitted for the node
        seen.append((request_id, bytes(event["input"])))
    assert [rid for rid, _ in seen] == list(range(1, REQUESTS + 1))
    assert chain.balance(chain.market.address) == market_eth + sum(fees)
    assert chain.call(chain.market.functions.totalEscrow()) == sum(fees)
    assert chain.balance(chain.client.address) == client_eth - sum(fees) - gas
    first = chain.call(chain.market.functions.request(1))
    assert (first[0], first[1], first[2], first[3]) == (
        chain.client.address,
        fees[0],
        chain.node.address,
        PENDING,
    )
    assert bytes(first[7]) == act_hash(inputs[0])

    # The node reads the inputs from the events and answers all requests in one transaction.
    infs = [fulfilment(public_model, chain, rid, raw) for rid, raw in seen]
    for inf, x in zip(infs, inputs, strict=True):
        assert [v.tolist() for v in inf.vectors] == [
            v.tolist() for v in forward_trace(public_model, x)
        ]
    block_before = chain.block_number()
    receipt = chain.node.send(
        chain.market.functions.fulfil(
            [i.receipt.request_id for i in infs],
            [i.output for i in infs],
            [i.receipt.trace_root for i in infs],
        )
    )
    assert chain.block_number() == block_before + 1  # one transaction
    events = chain.events(chain.market, "RequestFulfilled", receipt)
    assert [e["requestId"] for e in events] == list(range(1, REQUESTS + 1))
    for event, inf in zip(events, infs, strict=True):
        assert bytes(event["output"]) == inf.output
        assert bytes(event["outputHash"]) == inf.receipt.output_hash
        assert bytes(event["traceRoot"]) == inf.receipt.trace_root
        stored = chain.call(chain.market.functions.request(inf.receipt.request_id))
        assert stored[3] == FULFILLED
        assert bytes(stored[8]) == result_hash(inf.receipt.output_hash, inf.receipt.trace_root)
        # The receipt rebuilt from the request authenticates as a Request claim.
        claim = chain.call(chain.market.functions.authenticate(request_claim_ref(inf.receipt)))
        assert (claim[1], claim[2]) == (1, inf.receipt.request_id)
    with pytest.raises(errors.WrongRequestStatus):
        chain.node.send(
            chain.market.functions.fulfil([1], [infs[0].output], [infs[0].receipt.trace_root])
        )

    ids = [i.receipt.request_id for i in infs]
    with pytest.raises(errors.ChallengeWindowOpen):
        chain.client.send(chain.market.functions.finalizeRequests(ids))
    chain.advance(chain.params.challenge_window)
    receipt = chain.client.send(chain.market.functions.finalizeRequests(ids))
    finalized = chain.events(chain.market, "RequestFinalized", receipt)
    assert [(e["requestId"], e["node"], e["fee"]) for e in finalized] == [
        (rid, chain.node.address, fee) for rid, fee in zip(ids, fees, strict=True)
    ]
    assert chain.call(chain.market.functions.credits(chain.node.address)) == sum(fees)
    assert chain.call(chain.market.functions.totalEscrow()) == 0
    assert all(chain.call(chain.market.functions.request(rid))[3] == FINALIZED for rid in ids)

    node_eth = chain.balance(chain.node.address)
    receipt = chain.node.send(chain.market.functions.withdrawCredits())
    assert chain.events(chain.market, "CreditsWithdrawn", receipt) == [
        {"account": chain.node.address, "amount": sum(fees)}
    ]
    assert chain.balance(chain.node.address) == node_eth + sum(fees) - chain.gas_cost(receipt)
    assert chain.balance(chain.market.address) == market_eth
    with pytest.raises(errors.NothingToWithdraw):
        chain.node.send(chain.market.functions.withdrawCredits())


def test_request_validation(chain: ChainEnv, public_model: QuantizedModel) -> None:
    model_id = chain.register(public_model)
    x = int8_bytes(factories.random_input(factories.rng_for(0), 36))
    fee = chain.params.min_request_fee
    fn = chain.market.functions.requestInference
    with pytest.raises(errors.NoNodeServing):
        chain.client.send(fn(model_id, x), value=fee)
    chain.stake()
    chain.node.send(chain.market.functions.serveModel(model_id))
    with pytest.raises(errors.FeeTooLow) as info:
        chain.client.send(fn(model_id, x), value=fee - 1)
    assert info.value.values == {"fee": fee - 1, "minimum": fee}
    with pytest.raises(errors.WrongInputLength) as info2:
        chain.client.send(fn(model_id, x[:-1]), value=fee)
    assert info2.value.values == {"expected": 36, "actual": 35}
    with pytest.raises(errors.UnknownModel):
        chain.client.send(fn(b"\x42" * 32, x), value=fee)
    assert chain.call(chain.market.functions.requestCount()) == 0


def test_expired_request_is_refunded(
    chain: ChainEnv, public_model: QuantizedModel, serving: bytes
) -> None:
    fee = 3 * chain.params.min_request_fee
    x = factories.random_input(factories.rng_for(2), 36)
    request_id, event, _ = request(chain, serving, x, fee)
    deadline = int(event["deadline"])
    with pytest.raises(errors.RequestNotExpired) as info:
        chain.client.send(chain.market.functions.refundExpired(request_id))
    assert info.value.values == {"requestId": request_id, "deadline": deadline}

    chain.advance(deadline + 1 - chain.now())
    inf = fulfilment(public_model, chain, request_id, bytes(event["input"]))
    with pytest.raises(errors.RequestExpired):
        chain.node.send(
            chain.market.functions.fulfil([request_id], [inf.output], [inf.receipt.trace_root])
        )
    receipt = chain.challenger.send(chain.market.functions.refundExpired(request_id))  # anyone
    assert chain.events(chain.market, "RequestRefunded", receipt) == [
        {"requestId": request_id, "client": chain.client.address, "fee": fee}
    ]
    assert chain.call(chain.market.functions.request(request_id))[3] == REFUNDED
    assert chain.call(chain.market.functions.credits(chain.client.address)) == fee
    assert chain.call(chain.market.functions.credits(chain.node.address)) == 0
    client_eth = chain.balance(chain.client.address)
    receipt = chain.client.send(chain.market.functions.withdrawCredits())
    assert chain.balance(chain.client.address) == client_eth + fee - chain.gas_cost(receipt)


def test_fraudulent_onchain_result_is_proven_and_the_client_refunded(
    chain: ChainEnv, public_model: QuantizedModel, serving: bytes
) -> None:
    fee = 2 * chain.params.min_request_fee
    x = factories.random_input(factories.rng_for(4), 36)
    request_id, event, _ = request(chain, serving, x, fee)
    honest = fulfilment(public_model, chain, request_id, bytes(event["input"]))
    bad = factories.corrupt_output(honest, row=1, delta=5)
    chain.node.send(
        chain.market.functions.fulfil([request_id], [bad.output], [bad.receipt.trace_root])
    )

    # The challenger rebuilds the claim from the request and the fulfilment event.
    ref = request_claim_ref(bad.receipt)
    wrong = first_wrong_element(public_model, bad.claimed)
    assert wrong is not None and (wrong.layer, wrong.row) == (3, 1)
    node_stake = chain.stake_of(chain.node.address)[0]
    receipt = chain.challenger.send(
        chain.fraud.functions.proveLayerFraud(
            ref, layer_fraud_args(public_model, bad.claimed, bad.act_hashes, wrong)
        )
    )
    assert chain.events(chain.market, "RequestRefunded", receipt) == [
        {"requestId": request_id, "client": chain.client.address, "fee": fee}
    ]
    (slashed,) = chain.events(chain.market, "ClaimSlashed", receipt)
    assert (slashed["source"], slashed["containerId"]) == (1, request_id)
    assert chain.call(chain.market.functions.request(request_id))[3] == SLASHED
    assert chain.call(chain.market.functions.credits(chain.client.address)) == fee
    assert chain.call(chain.market.functions.totalEscrow()) == 0
    assert chain.stake_of(chain.node.address)[0] == node_stake - chain.params.slash_amount
    assert chain.call(chain.stakes.functions.credits(chain.challenger.address)) == chain.reward()

    # The slashed request can no longer be finalized for the node.
    chain.advance(chain.params.challenge_window)
    with pytest.raises(errors.WrongRequestStatus) as info:
        chain.node.send(chain.market.functions.finalizeRequests([request_id]))
    assert info.value.values == {"requestId": request_id, "status": SLASHED}
    assert chain.call(chain.market.functions.credits(chain.node.address)) == 0


def test_only_the_assigned_node_fulfils(
    chain: ChainEnv, public_model: QuantizedModel, serving: bytes
) -> None:
    x = factories.random_input(factories.rng_for(6), 36)
    request_id, event, _ = request(chain, serving, x, chain.params.min_request_fee)
    inf = fulfilment(public_model, chain, request_id, bytes(event["input"]))
    other = chain.challenger2
    chain.stake(other)
    with pytest.raises(errors.NotAssignedNode) as info:
        other.send(
            chain.market.functions.fulfil([request_id], [inf.output], [inf.receipt.trace_root])
        )
    assert info.value.values == {"requestId": request_id, "caller": other.address}
    with pytest.raises(errors.UnknownRequest):
        chain.node.send(chain.market.functions.fulfil([99], [inf.output], [inf.receipt.trace_root]))
    with pytest.raises(errors.LengthMismatch):
        chain.node.send(chain.market.functions.fulfil([request_id], [], [inf.receipt.trace_root]))
    assert chain.call(chain.market.functions.request(request_id))[3] == PENDING
