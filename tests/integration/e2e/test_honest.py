"""
An honest node under a challenger that checks everything: the real node service (HTTP, batcher,
on-chain requests) serves 1,000 off-chain requests and a few on-chain ones; the real challenger
service (scheduled jobs, :class:`~challenger.source.HttpTraceSource`) samples every claim at
p = 1, re-executes it and sends nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from challenger.service import Challenger
from tests.integration.e2e.conftest import (
    E2EEnv,
    RunningNode,
    ServiceThread,
    random_inputs,
    reader,
    request_onchain,
    wait_for,
)

N_OFFCHAIN = 1_000
N_ONCHAIN = 4


def test_honest_node_is_never_disputed(
    e2e: E2EEnv,
    start_node: Callable[..., RunningNode],
    start_challenger: Callable[..., Challenger],
    run_in_background: Callable[[Challenger, float], ServiceThread],
) -> None:
    """
    Proves: at p = 1 the challenger lists every batch from the real node over HTTP, fetches and
    re-executes every one of 1,000 batched claims (receipt and trace read over HTTP, counted by
    the node's metrics) and checks every on-chain request's claim from the chain's events alone;
    it sends not a single transaction, the node's stake is untouched and no claim is disputed.
    """
    chain = e2e.chain
    node = start_node(max_batch_size=256)
    ch = start_challenger("challenger", node.url)
    me = ch.me
    nonce = chain.nonce(me)
    stake = chain.stake_of(chain.node.address)
    run_in_background(ch, 0.2)

    onchain = request_onchain(e2e, random_inputs(N_ONCHAIN, seed=2))
    bodies = node.infer(random_inputs(N_OFFCHAIN, seed=1))
    assert len({b["request_id"] for b in bodies}) == N_OFFCHAIN
    node.wait_all_committed(N_OFFCHAIN)
    wait_for(
        lambda: all(node.get(f"/requests/{i}")["status"] == "committed" for i in onchain),
        what="the node to fulfil the on-chain requests",
    )
    batches = int(chain.call(chain.market.functions.batchCount()))
    assert batches >= N_OFFCHAIN // 256

    state = reader(ch)

    def checked_all() -> bool:
        c = state.counters()
        return (
            c.get("claims_listed", 0) == N_OFFCHAIN + N_ONCHAIN
            and c.get("reexecuted", 0) == N_OFFCHAIN + N_ONCHAIN
            and not state.active_claims()
        )

    wait_for(checked_all, timeout=90, interval=0.2, what="the challenger to check every claim")
    claims = state.all_claims()
    assert len(claims) == N_OFFCHAIN + N_ONCHAIN
    assert all(c.sampled and c.settled and c.wrong is None and not c.missing for c in claims)
    assert all(c.endpoint_fraud is None for c in claims)
    assert sum(c.source == 1 for c in claims) == N_ONCHAIN
    assert state.outcomes() == {}
    assert state.counters()["requests_rebuilt"] == N_ONCHAIN  # checked without the node
    # Every batch claim was read from the node over HTTP: its receipt and its trace.
    assert node.served("read_receipt") >= N_OFFCHAIN
    assert node.served("read_trace") >= N_OFFCHAIN
    assert node.served("read_receipts") >= batches
    assert chain.nonce(me) == nonce  # not a single transaction
    assert chain.stake_of(chain.node.address) == stake
    for batch_id in range(1, batches + 1):
        assert chain.call(chain.market.functions.openDisputes(0, batch_id)) == 0
    for request_id in onchain:
        assert chain.call(chain.market.functions.openDisputes(1, request_id)) == 0
    state.close()
