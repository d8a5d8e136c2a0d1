"""The state file: on-chain requests, retry times, limits, and opening an older file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from challenger.solver import TraceStatus
from challenger.state import ChallengerState, ClaimRow

NODE = "0x" + "11" * 20
CLIENT = "0x" + "22" * 20


def claim(key: int, container: int, *, source: int = 0, sampled: bool = True) -> ClaimRow:
    return ClaimRow(
        claim_key=bytes([key]) * 32,
        source=source,
        container_id=container,
        leaf_index=0,
        request_id=container,
        leaf=bytes([key]) * 32,
        node=NODE,
        window_end=500,
        sampled=sampled,
        zk_sampled=False,
        receipt=None,
        proof=(),
        trace_status=TraceStatus.PENDING,
        hashes=None,
        vectors=None,
        missing=(),
        endpoint_fraud=None,
        wrong=None,
        fetch_attempts=0,
        settled=not sampled,
    )


def test_request_then_fulfilment_in_any_order_and_repeats_change_nothing() -> None:
    """Proves: a request's two events fill one row whichever comes first; repeats are no-ops."""
    for order in ("requested first", "fulfilled first"):
        state = ChallengerState(":memory:")
        calls = [
            lambda s=state: s.add_request(7, b"m" * 32, NODE, CLIENT, b"\x01\x02", 10),
            lambda s=state: s.add_fulfilment(7, NODE, b"o" * 32, b"t" * 32, b"\x03", 1_000, 12),
        ]
        if order == "fulfilled first":
            calls.reverse()
        for call in calls * 2:
            call()
        # A different fulfilment of the same id (impossible on-chain) does not overwrite.
        state.add_fulfilment(7, NODE, b"x" * 32, b"y" * 32, b"\x09", 2_000, 13)
        row = state.request(7)
        assert row is not None, order
        assert (row.model_id, row.node, row.client, row.input) == (
            b"m" * 32,
            NODE,
            CLIENT,
            b"\x01\x02",
        )
        assert (row.output_hash, row.trace_root, row.output) == (b"o" * 32, b"t" * 32, b"\x03")
        assert (row.fulfilled_at, row.fulfil_block, row.listed) == (1_000, 12, False)
        assert [r.request_id for r in state.unlisted_requests()] == [7]


def test_only_fulfilled_requests_are_listed_once() -> None:
    """Proves: an unfulfilled request is not listed; listing marks requests and adds claims."""
    state = ChallengerState(":memory:")
    state.add_request(1, b"m" * 32, NODE, CLIENT, b"\x01", 10)
    state.add_request(2, b"m" * 32, NODE, CLIENT, b"\x02", 10)
    state.add_fulfilment(2, NODE, b"o" * 32, b"t" * 32, b"\x03", 1_000, 12)
    assert [r.request_id for r in state.unlisted_requests()] == [2]
    state.add_request_claims([2], [claim(5, 2, source=1)])
    state.add_request_claims([2], [claim(5, 2, source=1)])  # a repeat is ignored
    assert state.unlisted_requests() == []
    assert [c.claim_key for c in state.all_claims()] == [b"\x05" * 32]


def test_retry_times_and_limits() -> None:
    """Proves: a failed fetch or listing waits until its retry time; ``limit`` caps a round."""
    state = ChallengerState(":memory:")
    state.add_batch(1, NODE, b"r" * 32, 2, 100, 3)
    state.add_batch(2, NODE, b"s" * 32, 2, 300, 4)
    state.batch_listing_failed(1, "not yet", retry_at=50.0)
    assert [b.batch_id for b in state.unlisted_batches(now=49.0)] == [2]
    assert [b.batch_id for b in state.unlisted_batches(now=50.0)] == [1, 2]
    assert [b.batch_id for b in state.unlisted_batches(now=50.0, committed_after=200)] == [2]
    assert [b.batch_id for b in state.unlisted_batches(1)] == [2]  # attempts < 1
    state.add_claims(2, [claim(1, 2), claim(2, 2), claim(3, 2, sampled=False)])
    state.fetch_failed(b"\x01" * 32, retry_at=80.0)
    assert [c.claim_key[0] for c in state.claims_to_fetch(5, now=79.0)] == [2]
    assert [c.claim_key[0] for c in state.claims_to_fetch(5, now=80.0)] == [1, 2]
    assert [c.claim_key[0] for c in state.claims_to_fetch(5, now=80.0, limit=1)] == [1]
    assert [c.claim_key[0] for c in state.claims_to_fetch(1)] == [2]


def test_a_file_written_before_retry_times_gains_them(tmp_path: Path) -> None:
    """Proves: opening a state file from before the ``next_try`` columns adds them, keeping rows."""
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE batches (
            batch_id INTEGER PRIMARY KEY, node TEXT NOT NULL, root BLOB NOT NULL,
            count INTEGER NOT NULL, committed_at INTEGER NOT NULL, block INTEGER NOT NULL,
            listed INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT
        );
        INSERT INTO batches (batch_id, node, root, count, committed_at, block)
            VALUES (9, 'n', x'00', 1, 5, 6);
        """
    )
    db.close()
    state = ChallengerState(path)
    (batch,) = state.unlisted_batches(now=0.0)
    assert batch.batch_id == 9
    state.batch_listing_failed(9, "x", retry_at=10.0)
    assert state.unlisted_batches(now=5.0) == []
    state.close()
    assert ChallengerState(path).unlisted_batches(now=10.0)[0].attempts == 1
