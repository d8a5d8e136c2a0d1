"""The watcher over a fake event source: cursor, ranges, idempotence, backoff."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from challenger.state import DATA, ChallengerState
from challenger.watcher import ChainEvent, Watcher, apply_event

ME = "0x" + "ab" * 20
KEY = b"\x05" * 32


def events() -> list[ChainEvent]:
    return [
        ChainEvent(
            "BatchCommitted",
            3,
            0,
            {"batchId": 1, "node": "0xN", "root": b"r" * 32, "count": 4},
            timestamp=100,
        ),
        ChainEvent(
            "BatchCommitted",
            5,
            0,
            {"batchId": 2, "node": "0xN", "root": b"s" * 32, "count": 2},
            timestamp=110,
        ),
        ChainEvent(
            "DataChallenged",
            7,
            1,
            {
                "challengeId": 1,
                "claimKey": KEY,
                "node": "0xN",
                "challenger": ME,
                "index": 2,
                "deadline": 200,
            },
        ),
        ChainEvent(
            "DataPublished",
            9,
            0,
            {"challengeId": 1, "claimKey": KEY, "index": 2, "vector": b"\x01\x02"},
        ),
        ChainEvent(
            "ClaimSlashed", 12, 0, {"claimKey": KEY, "source": 0, "containerId": 1, "node": "0xN"}
        ),
        ChainEvent(
            "ProofDemanded",
            13,
            0,
            {
                "demandId": 4,
                "claimKey": KEY,
                "node": "0xN",
                "challenger": ME,
                "partitionIndex": 1,
                "deadline": 300,
                "jobId": b"j" * 32,
            },
        ),
        ChainEvent("ProofAccepted", 14, 0, {"demandId": 4, "claimKey": KEY}),
    ]


class FakeSource:
    def __init__(self, evs: Sequence[ChainEvent], head: int, fail: int = 0) -> None:
        self.evs = list(evs)
        self._head = head
        self.fail = fail
        self.calls: list[tuple[int, int]] = []

    def head(self) -> int:
        return self._head

    def events(self, from_block: int, to_block: int) -> list[ChainEvent]:
        if self.fail > 0:
            self.fail -= 1
            raise ConnectionError("rpc down")
        self.calls.append((from_block, to_block))
        return [e for e in self.evs if from_block <= e.block <= to_block]


def snapshot(state: ChallengerState) -> tuple[object, ...]:
    db = state._db
    return tuple(
        tuple(db.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall())
        for t in ("batches", "claims", "slashed", "disputes", "published")
    )


def test_ranges_and_cursor() -> None:
    state = ChallengerState(":memory:")
    source = FakeSource(events(), head=14)
    w = Watcher(source, state, 120, start_block=1, max_range=4, sleep=lambda _: None)
    assert w.poll() == 7
    assert source.calls == [(1, 4), (5, 8), (9, 12), (13, 14)]
    assert state.cursor() == 14
    assert w.poll() == 0  # nothing new
    assert [b.batch_id for b in state.unlisted_batches(5)] == [1, 2]
    assert state.is_slashed(KEY)
    (d,) = state.disputes_of(KEY, DATA, ME)
    assert d.mine and not d.open and d.target == 2
    assert state.published_of(KEY) == {2: b"\x01\x02"}
    assert state.disputes_of(KEY, "proof", ME)[0].open is False


def test_reprocessing_changes_nothing() -> None:
    state = ChallengerState(":memory:")
    w = Watcher(FakeSource(events(), head=14), state, 120, sleep=lambda _: None)
    w.poll()
    before = snapshot(state)
    for e in events():  # every event again, and then the whole range again
        apply_event(state, e, 120)
    state._db.execute("DELETE FROM meta")
    w.poll()
    assert snapshot(state) == before
    assert state.cursor() == 14


def test_backoff_is_bounded() -> None:
    state = ChallengerState(":memory:")
    waits: list[float] = []
    w = Watcher(
        FakeSource(events(), head=14, fail=3),
        state,
        120,
        backoff_s=0.5,
        max_backoff_s=1.0,
        sleep=waits.append,
    )
    assert w.poll() == 7
    assert waits == [0.5, 1.0, 1.0]
    assert state.counters()["rpc_retries"] == 3


def test_gives_up_without_moving_the_cursor() -> None:
    state = ChallengerState(":memory:")
    w = Watcher(
        FakeSource(events(), head=14, fail=10), state, 120, max_retries=2, sleep=lambda _: None
    )
    with pytest.raises(ConnectionError):
        w.poll()
    assert state.cursor() is None


def request_events() -> list[ChainEvent]:
    return [
        ChainEvent(
            "InferenceRequested",
            20,
            0,
            {
                "requestId": 3,
                "modelId": b"m" * 32,
                "node": "0xN",
                "client": "0xC",
                "fee": 10,
                "deadline": 999,
                "input": b"\x01\x02",
            },
        ),
        ChainEvent(
            "RequestFulfilled",
            22,
            1,
            {
                "requestId": 3,
                "node": "0xN",
                "outputHash": b"o" * 32,
                "traceRoot": b"t" * 32,
                "output": b"\x05",
            },
            timestamp=444,
        ),
    ]


def test_onchain_requests_are_followed_idempotently() -> None:
    """
    Proves: ``InferenceRequested`` and ``RequestFulfilled`` fill one request row (the fulfilment's
    block timestamp starts its window) and applying them again changes nothing.
    """
    state = ChallengerState(":memory:")
    w = Watcher(FakeSource(request_events(), head=30), state, 120, sleep=lambda _: None)
    assert w.poll() == 2
    row = state.request(3)
    assert row is not None
    assert (row.model_id, row.node, row.client, row.input) == (b"m" * 32, "0xN", "0xC", b"\x01\x02")
    assert (row.output_hash, row.trace_root, row.output) == (b"o" * 32, b"t" * 32, b"\x05")
    assert (row.fulfilled_at, row.fulfil_block) == (444, 22)
    before = state._db.execute("SELECT * FROM requests").fetchall()
    for e in request_events():
        apply_event(state, e, 120)
    assert state._db.execute("SELECT * FROM requests").fetchall() == before
