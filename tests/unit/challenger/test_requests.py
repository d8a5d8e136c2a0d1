"""
Claims of on-chain requests and fetch retries, through the challenger's jobs with no chain: a fake
event source feeds ``InferenceRequested`` / ``RequestFulfilled`` (and ``BatchCommitted``), a fake
market answers the clock, and :class:`MemoryTraceSource` plays the node.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from challenger.sampling import Sampler
from challenger.service import Challenger
from challenger.solver import (
    ChallengeData,
    Ignore,
    ProveEndpointFraud,
    ProveLayerFraud,
    SolverParams,
    TraceStatus,
    WrongAt,
    decide,
)
from challenger.source import MemoryTraceSource, ServedTrace, SourceUnavailableError
from challenger.state import ChallengerState
from challenger.watcher import ChainEvent
from deploy.deployer import load_preset
from opzk.marketplace import ComputedClaim, compute_claim
from protocol.activations import act_hash, int8_bytes
from protocol.model import QuantizedModel
from protocol.receipts import CLAIM_SOURCE_REQUEST, batch_tree, claim_key, receipt_leaf
from tests import factories

NODE = "0x" + "11" * 20
CLIENT = "0x" + "22" * 20
ME = "0x" + "33" * 20
SECRET = b"\x42" * 32
FULFILLED_AT = 10_000


@dataclass
class Events:
    """A fake chain: events appended by the test, all at block 1…n."""

    evs: list[ChainEvent] = field(default_factory=list)

    def head(self) -> int:
        return len(self.evs)

    def events(self, from_block: int, to_block: int) -> list[ChainEvent]:
        return [e for e in self.evs if from_block <= e.block <= to_block]

    def add(self, name: str, args: dict[str, Any], timestamp: int = 0) -> None:
        self.evs.append(ChainEvent(name, len(self.evs) + 1, 0, args, timestamp=timestamp))


class Clock:
    def __init__(self) -> None:
        self.t = 1_000.0

    def __call__(self) -> float:
        return self.t


def fake_market(chain_time: int, views: dict[int, tuple[Any, ...]] | None = None) -> Any:
    """What :class:`Challenger` reads of a Marketplace: params, address, clock, request views."""
    views = views or {}
    w3 = SimpleNamespace(eth=SimpleNamespace(get_block=lambda _b: {"timestamp": chain_time}))
    return SimpleNamespace(
        deployment=SimpleNamespace(params=load_preset("local").params),
        address=ME,
        client=SimpleNamespace(w3=w3, call=lambda fn: fn()),
        market=SimpleNamespace(functions=SimpleNamespace(request=lambda rid: lambda: views[rid])),
    )


def make(
    model: QuantizedModel,
    source: MemoryTraceSource | None = None,
    p: float = 1.0,
    views: dict[int, tuple[Any, ...]] | None = None,
    fetch_attempts: int = 3,
) -> tuple[Challenger, Events, Clock]:
    events, clock = Events(), Clock()
    ch = Challenger(
        market=fake_market(FULFILLED_AT + 10, views),
        state=ChallengerState(":memory:"),
        source=source or MemoryTraceSource(),
        events=events,
        models={bytes(model.model_id()): model},
        sampler=Sampler(SECRET, p, 0.0),
        device="cpu",
        fetch_attempts=fetch_attempts,
        retry_backoff_s=1.0,
        max_retry_backoff_s=4.0,
        clock=clock,
    )
    return ch, events, clock


def request(
    events: Events,
    model: QuantizedModel,
    request_id: int,
    seed: int,
    tamper: tuple[int, int] | None = None,
    output: np.ndarray | None = None,  # type: ignore[type-arg]
    announce: bool = True,
) -> ComputedClaim:
    """The client asks for request ``request_id``; the node fulfils it (maybe wrongly)."""
    x = factories.random_input(factories.rng_for(seed), model.layers[0].in_dim)
    claim = compute_claim(model, x, request_id=request_id, node=NODE, client=CLIENT, tamper=tamper)
    out = claim.output if output is None else output
    if announce:
        events.add(
            "InferenceRequested",
            {
                "requestId": request_id,
                "modelId": bytes(model.model_id()),
                "node": NODE,
                "client": CLIENT,
                "fee": 1,
                "deadline": FULFILLED_AT,
                "input": int8_bytes(x),
            },
        )
    events.add(
        "RequestFulfilled",
        {
            "requestId": request_id,
            "node": NODE,
            "outputHash": act_hash(out),
            "traceRoot": bytes(claim.receipt.trace_root),
            "output": int8_bytes(out),
        },
        timestamp=FULFILLED_AT,
    )
    return replace(claim, receipt=replace(claim.receipt, output_hash=act_hash(out)))


def run(ch: Challenger) -> None:
    ch.watch()
    ch.list_batches()
    ch.list_requests()
    ch.reexecute()


def decision(ch: Challenger, key: bytes) -> Any:
    claim = ch.state.claim(key)
    assert claim is not None
    return decide(ch.observe(claim), FULFILLED_AT + 10, SolverParams())


def test_request_claims_are_keyed_sampled_and_checked_without_the_node(
    public_model: QuantizedModel,
) -> None:
    """
    Proves: a fulfilled request becomes a claim of source ``Request`` under the market's claim
    key, with window ``fulfilledAt + challenge_window``; an honest one is confirmed from the
    on-chain input alone (the node is never asked) and ignored; at p = 0.5 the sampling rule
    is the batch claims' one.
    """
    ch, events, _ = make(public_model)
    honest = [request(events, public_model, i, seed=i) for i in range(1, 5)]
    run(ch)
    for c in honest:
        key = claim_key(CLAIM_SOURCE_REQUEST, int(c.receipt.request_id), receipt_leaf(c.receipt))
        row = ch.state.claim(key)
        assert row is not None and row.source == CLAIM_SOURCE_REQUEST
        assert row.receipt == c.receipt and row.proof == ()
        assert row.window_end == FULFILLED_AT + ch.params.challenge_window
        assert row.trace_status is TraceStatus.FETCHED
        assert (row.wrong, row.missing, row.endpoint_fraud) == (None, (), None)
        assert decision(ch, key) == Ignore(key)
    assert ch.state.counters()["requests_rebuilt"] == 4
    ch.act()
    assert ch.state.active_claims() == []

    half, events2, _ = make(public_model, p=0.5)
    for i in range(1, 41):
        request(events2, public_model, i, seed=i)
    run(half)
    sampler = Sampler(SECRET, 0.5, 0.0)
    rows = half.state.all_claims()
    assert len(rows) == 40
    assert all(r.sampled == sampler.reexec(r.claim_key) for r in rows)
    assert 0 < sum(r.sampled for r in rows) < 40


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("wrong output in the trace", ProveLayerFraud),
        ("output not the trace's last entry", ProveEndpointFraud),
        ("intermediate layer, node serves the trace", ProveLayerFraud),
        ("intermediate layer, node serves nothing", ChallengeData),
    ],
)
def test_wrong_fulfilments_are_disputed(
    public_model: QuantizedModel, case: str, expected: type
) -> None:
    """
    Proves: a fulfilment whose trace ends in a wrong output is proven at the last layer, one whose
    output is not its trace's last entry at the endpoint, both from the rebuilt trace; a wrong
    intermediate layer is proven from the trace the node serves for the request, or else every
    public vector is challenged for data availability.
    """
    source = MemoryTraceSource()
    ch, events, _ = make(public_model, source)
    last = len(public_model.layers)
    honest = compute_claim(
        public_model,
        factories.random_input(factories.rng_for(7), public_model.layers[0].in_dim),
        request_id=7,
        node=NODE,
        client=CLIENT,
    )
    output = None
    tamper = None
    if case == "wrong output in the trace":
        tamper = (last, 1)
    elif case == "output not the trace's last entry":
        output = honest.output.copy()
        output[0] ^= 1
    else:
        tamper = (1, 3)
    claim = request(events, public_model, 7, seed=7, tamper=tamper, output=output)
    if case == "intermediate layer, node serves the trace":
        source.request_traces[7] = ServedTrace(claim.activation_hashes, claim.vectors)
    run(ch)
    key = claim_key(CLAIM_SOURCE_REQUEST, 7, receipt_leaf(claim.receipt))
    action = decision(ch, key)
    assert isinstance(action, expected), action
    if expected is ProveLayerFraud:
        assert tamper is not None and action.wrong == WrongAt(*tamper)
    if expected is ProveEndpointFraud:
        assert action.index == last
    if expected is ChallengeData:
        row = ch.state.claim(key)
        assert row is not None and row.missing == tuple(range(last + 1))


def test_a_request_seen_only_fulfilled_is_keyed_from_the_markets_view(
    public_model: QuantizedModel,
) -> None:
    """
    Proves: without its ``InferenceRequested`` (a challenger started later), a fulfilment is
    keyed from the market's ``request`` view; with no input to rebuild from, the node's served
    trace decides (here honest: ignored).
    """
    source = MemoryTraceSource()
    x = factories.random_input(factories.rng_for(3), public_model.layers[0].in_dim)
    claim = compute_claim(public_model, x, request_id=3, node=NODE, client=CLIENT)
    view = (CLIENT, 1, NODE, 2, 0, FULFILLED_AT, bytes(public_model.model_id()), act_hash(x), b"")
    ch, events, _ = make(public_model, source, views={3: view})
    request(events, public_model, 3, seed=3, announce=False)
    source.request_traces[3] = ServedTrace(claim.activation_hashes, claim.vectors)
    run(ch)
    key = claim_key(CLAIM_SOURCE_REQUEST, 3, receipt_leaf(claim.receipt))
    row = ch.state.claim(key)
    assert row is not None and row.trace_status is TraceStatus.FETCHED
    assert decision(ch, key) == Ignore(key)


class Flaky(MemoryTraceSource):
    """A node that fails (transport error) until ``up`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.up = False
        self.asked = 0

    def trace(self, request_id: int) -> ServedTrace | None:
        self.asked += 1
        if not self.up:
            raise SourceUnavailableError("down")
        return super().trace(request_id)

    def batch_leaves(self, batch_id: int) -> list[Any]:
        if not self.up:
            raise SourceUnavailableError("down")
        return super().batch_leaves(batch_id)


def test_failed_fetches_wait_for_their_backoff(public_model: QuantizedModel) -> None:
    """
    Proves: a batch the node cannot list yet and a trace it cannot serve are asked again only
    once their backoff (1 s, 2 s, … wall clock) has passed, and succeed when the node is back;
    a trace that keeps failing counts as withheld after ``fetch_attempts`` tries.
    """
    source = Flaky()
    ch, events, clock = make(public_model, source, fetch_attempts=3)
    claims = [
        compute_claim(
            public_model,
            factories.random_input(factories.rng_for(i), public_model.layers[0].in_dim),
            request_id=i,
            node=NODE,
            client=CLIENT,
        )
        for i in (1, 2)
    ]
    tree = batch_tree([c.receipt for c in claims])
    events.add(
        "BatchCommitted",
        {"batchId": 1, "node": NODE, "root": bytes(tree.root), "count": 2},
        timestamp=FULFILLED_AT,
    )
    source.add_batch(
        1,
        [c.receipt for c in claims],
        tree.levels[0],
        [(c.activation_hashes, c.vectors) for c in claims],
    )
    run(ch)  # listing fails
    assert ch.state.all_claims() == []
    source.up = True
    run(ch)  # before the retry time: not asked
    assert ch.state.all_claims() == []
    clock.t += 1.0
    ch.list_batches()
    assert len(ch.state.all_claims()) == 2
    source.up = False
    ch.reexecute()
    assert source.asked == 2
    ch.reexecute()  # backoff: not asked again yet
    assert source.asked == 2
    clock.t += 1.0
    ch.reexecute()
    assert source.asked == 4
    clock.t += 1.5
    ch.reexecute()  # 2 s after the second failure: not yet
    assert source.asked == 4
    clock.t += 0.5
    ch.reexecute()  # third and last try: withheld
    assert source.asked == 6
    rows = ch.state.all_claims()
    assert all(r.trace_status is TraceStatus.FETCHED for r in rows)
    assert all(r.missing == tuple(range(len(public_model.layers) + 1)) for r in rows)


def test_a_batch_never_listed_in_its_window_is_dropped(public_model: QuantizedModel) -> None:
    """Proves: a batch the node did not list before its window closed is not asked again."""
    source = Flaky()
    ch, events, clock = make(public_model, source)
    events.add(
        "BatchCommitted",
        {"batchId": 1, "node": NODE, "root": b"r" * 32, "count": 1},
        timestamp=FULFILLED_AT - ch.params.challenge_window,
    )
    ch.watch()
    ch.list_batches()
    clock.t += 10**6
    assert ch.state.unlisted_batches(now=clock()) == []
    assert ch.state.counters()["batches_expired_unlisted"] == 1
