"""
Wrong fulfilments of on-chain requests, caught by the real challenger service: the node's account
(played by the test, since the node service never cheats on on-chain requests) fulfils a request
with a wrong result; the challenger follows ``InferenceRequested`` / ``RequestFulfilled``, samples
the claim (source ``Request``), rebuilds its trace from the on-chain input and disputes it. The
node service runs beside (not fulfilling) so the challenger asks it for the request's trace over
HTTP, which it does not serve.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest

from challenger.service import Challenger
from opzk.marketplace import ComputedClaim, compute_claim
from protocol.activations import act_hash, int8_bytes
from protocol.params import BPS
from protocol.receipts import CLAIM_SOURCE_REQUEST
from prover.fraud import request_claim_ref
from tests.integration.e2e.conftest import (
    E2EEnv,
    RunningNode,
    ServiceThread,
    advance,
    random_inputs,
    reader,
    request_onchain,
    wait_for,
)
from tests.integration.e2e.test_cheats import data_challenges

SLASHED = 5
"""``InferenceMarket.RequestStatus.Slashed``."""


@pytest.mark.parametrize(
    ("case", "expected"),
    [("wrong output", "layer"), ("output not the trace's", "endpoint"), ("layer 1", "challenge")],
)
def test_wrong_fulfilment_is_disputed_and_slashed(
    case: str,
    expected: str,
    e2e: E2EEnv,
    start_node: Callable[..., RunningNode],
    start_challenger: Callable[..., Challenger],
    run_in_background: Callable[[Challenger, float], ServiceThread],
) -> None:
    """
    Proves: a fulfilment whose committed trace ends in a wrong output is proven with one layer
    fraud proof, one that names an output other than its trace's last entry with one endpoint
    fraud proof, both from the trace the challenger rebuilds itself; one wrong in an intermediate
    layer (which only the node's vectors could show) gets data challenges that the node leaves
    unanswered. Each time the claim is slashed inside its window, the client refunded and the
    challenger credited the reward (plus its data bonds back).
    """
    chain = e2e.chain
    p = chain.params
    node = start_node(serve_onchain=False)
    ch = start_challenger("challenger", node.url)
    run_in_background(ch, 0.2)
    (x,) = random_inputs(1, seed=80)
    (request_id,) = request_onchain(e2e, [x])
    vector = np.asarray(x, dtype=np.int8)
    last = len(e2e.model.layers)
    tamper = {"wrong output": (last, 2), "layer 1": (1, 5)}.get(case)
    claim: ComputedClaim = compute_claim(
        e2e.model,
        vector,
        request_id=request_id,
        node=chain.node.address,
        client=chain.client.address,
        tamper=tamper,
    )
    output = claim.output
    if case == "output not the trace's":
        output = claim.output.copy()
        output[0] ^= 1
    client_credits = chain.call(chain.market.functions.credits(chain.client.address))
    tx = chain.node.send(
        chain.market.functions.fulfil(
            [request_id], [int8_bytes(output)], [claim.receipt.trace_root]
        )
    )
    fulfilled_at = int(chain.w3.eth.get_block(tx["blockNumber"])["timestamp"])
    # The claim as the fulfilment commits it: its output's hash, the trace's root.
    receipt = replace(claim.receipt, output_hash=act_hash(output))
    key = bytes(chain.call(chain.market.functions.authenticate(request_claim_ref(receipt)))[0])

    if expected == "challenge":
        wait_for(
            lambda: len(data_challenges(chain, {key})) == last + 1,
            what="a data challenge of every public vector",
        )
        advance(chain, p.data_response_window + 1)
    wait_for(lambda: chain.call(chain.market.functions.fraudulent(key)), what="the slash")
    (event,) = [
        e
        for e in chain.market.events.ClaimSlashed().get_logs(from_block=chain.session.base_block)
        if bytes(e["args"]["claimKey"]) == key
    ]
    assert event["args"]["source"] == CLAIM_SOURCE_REQUEST
    assert int(chain.w3.eth.get_block(event["blockNumber"])["timestamp"]) < (
        fulfilled_at + p.challenge_window
    )
    assert chain.call(chain.market.functions.request(request_id))[3] == SLASHED
    fee = p.min_request_fee
    assert chain.call(chain.market.functions.credits(chain.client.address)) == client_credits + fee

    state = reader(ch)
    wait_for(lambda: not state.active_claims(), what="the challenger to settle the claim")
    outcomes = state.outcomes()
    assert {k.split(":")[0] for k in outcomes} == (
        {"challenge", "resolve"} if expected == "challenge" else {expected}
    )
    bonds = 0
    if expected == "challenge":
        assert chain.call(chain.stakes.functions.bondsOf(ch.me)) == 0
        bonds = len(data_challenges(chain, {key})) * p.data_bond
    else:
        assert state.counters().get("requests_rebuilt") == 1  # no node needed
    reward = p.slash_amount * p.challenger_reward_bps // BPS
    assert chain.call(chain.stakes.functions.credits(ch.me)) == reward + bonds
    state.close()
