"""The store: round trips, batch intents and results, event effects, identity, status rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from node.hashing import claim_key
from node.records import (
    BatchStatus,
    ChallengeStatus,
    DataChallengeRecord,
    DisputeEntry,
    NewReceipt,
    ReceiptStatus,
    derive_status,
)
from node.store import Store, StoreError

MODEL_A = bytes([0xA] * 32)
MODEL_B = bytes([0xB] * 32)


def new_receipt(request_id: int, model: bytes = MODEL_A) -> NewReceipt:
    seed = request_id.to_bytes(2, "big")
    return NewReceipt(
        request_id=request_id,
        model_id=model,
        client="0x" + "22" * 20,
        input=bytes([request_id % 256]) * 4,
        output=bytes([255, 1]),
        trace=bytes(10),
        activation_hashes=seed * 16 + bytes(32),
        trace_root=seed * 16,
        receipt_leaf=(seed * 16)[::-1],
        created_at=1000.0 + request_id,
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'node.sqlite3'}")


def test_receipts_round_trip(store: Store) -> None:
    rows = [new_receipt(i, MODEL_A if i % 2 else MODEL_B) for i in range(1, 6)]
    store.insert_receipts(rows)
    assert store.last_request_id() == 5
    got = store.receipt(3)
    assert got is not None
    original = rows[2]
    for field in ("request_id", "model_id", "client", "input", "output", "trace",
                  "activation_hashes", "trace_root", "receipt_leaf", "created_at"):  # fmt: skip
        assert getattr(got, field) == getattr(original, field), field
    assert got.status == ReceiptStatus.PENDING and got.batch_row is None and not got.slashed
    assert got.input_hash == original.activation_hashes[:32]
    assert got.output_hash == bytes(32)
    assert store.receipt(99) is None
    assert store.count_unbatched() == 5
    assert store.status_counts() == {"pending": 5}


def test_duplicate_request_ids_are_refused_and_nothing_is_half_written(store: Store) -> None:
    store.insert_receipts([new_receipt(1)])
    with pytest.raises(Exception):  # noqa: B017 - the driver's IntegrityError
        store.insert_receipts([new_receipt(2), new_receipt(1)])
    assert store.row_counts()["receipts"] == 1


def test_pages_filters_and_cursor(store: Store) -> None:
    store.insert_receipts([new_receipt(i, MODEL_A if i <= 7 else MODEL_B) for i in range(1, 11)])
    page, total = store.receipts_page(limit=4)
    assert [r.request_id for r in page] == [1, 2, 3, 4] and total == 10
    page, _ = store.receipts_page(limit=4, after=4)
    assert [r.request_id for r in page] == [5, 6, 7, 8]
    page, _ = store.receipts_page(limit=4, offset=8)
    assert [r.request_id for r in page] == [9, 10]
    page, total = store.receipts_page(model_id=MODEL_B)
    assert [r.request_id for r in page] == [8, 9, 10] and total == 3
    page, total = store.receipts_page(status=ReceiptStatus.COMMITTED)
    assert page == [] and total == 0
    page, _ = store.receipts_page(limit=1000)
    assert len(page) == 10  # limit is capped at 100, not refused here


def test_batch_intent_then_commit_then_events(store: Store) -> None:
    store.insert_receipts([new_receipt(i) for i in range(1, 5)])
    intent = store.record_batch_intent(
        root=b"r" * 32, request_ids=[1, 2, 3], tx_hash=b"t" * 32, nonce=7, from_block=10
    )
    assert intent.status == BatchStatus.SENDING and intent.count == 3 and intent.batch_id is None
    assert (intent.first_request_id, intent.last_request_id) == (1, 3)
    assert store.batch_leaves(intent.row_id) == [new_receipt(i).receipt_leaf for i in (1, 2, 3)]
    assert store.batch_request_ids(intent.row_id) == [1, 2, 3]
    assert [r.request_id for r in store.unbatched(10)] == [4]
    r2 = store.receipt(2)
    assert r2 is not None and r2.leaf_index == 1 and r2.status == ReceiptStatus.PENDING

    store.mark_batch_committed(
        intent.row_id, batch_id=5, tx_hash=b"u" * 32, block=12, gas_used=80_000,
        gas_price=2, committed_at=1234,
    )  # fmt: skip
    batch = store.batch_by_chain_id(5)
    assert batch is not None and batch.status == BatchStatus.COMMITTED
    assert (batch.block, batch.gas_used, batch.gas_cost_wei, batch.tx_hash) == (
        12, 80_000, 160_000, b"u" * 32,
    )  # fmt: skip
    assert store.status_counts() == {"committed": 3, "pending": 1}
    page, total = store.receipts_page(batch_id=5)
    assert [r.request_id for r in page] == [1, 2, 3] and total == 3
    assert store.batch_totals()["gas_used"] == 80_000

    entry = DisputeEntry(2, "dispute_opened", "0x" + "33" * 20, None, None, "", b"x" * 32, 13, 1.0)
    with store.writing() as w:
        key = claim_key(0, 5, new_receipt(2).receipt_leaf)
        assert w.request_of_claim(key) is None  # not indexed yet, and no container given
        assert w.request_of_claim(key, source=0, container_id=6) is None  # not our batch
        assert w.request_of_claim(key, source=1, container_id=5) is None  # a request claim
        assert w.request_of_claim(b"9" * 32, source=0, container_id=5) is None
        assert w.request_of_claim(key, source=0, container_id=5) == 2
        assert w.request_of_claim(key) == 2  # indexed now
        w.dispute_opened(2)
        w.add_dispute(entry)
        w.set_cursor("events", 13)
    assert store.receipt(2).status == ReceiptStatus.DISPUTED  # type: ignore[union-attr]
    assert store.disputes_of(2) == [entry]
    assert store.cursor("events") == 13
    with store.writing() as w:
        w.dispute_closed(2)
        w.claim_slashed(3)
        assert w.batch_finalized(5)
        assert not w.batch_finalized(6)
        w.set_cursor("events", 20)
    statuses = {i: store.receipt(i).status for i in (1, 2, 3, 4)}  # type: ignore[union-attr]
    assert statuses == {
        1: ReceiptStatus.FINALIZED, 2: ReceiptStatus.FINALIZED,
        3: ReceiptStatus.SLASHED, 4: ReceiptStatus.PENDING,
    }  # fmt: skip
    assert store.cursor("events") == 20


def test_a_failed_write_transaction_changes_nothing(store: Store) -> None:
    store.insert_receipts([new_receipt(1)])
    with pytest.raises(RuntimeError), store.writing() as w:
        w.set_cursor("events", 50)
        w.dispute_opened(1)
        raise RuntimeError("crash in the middle")
    assert store.cursor("events") is None
    assert store.receipt(1).open_disputes == 0  # type: ignore[union-attr]


def test_released_batch_returns_its_receipts(store: Store) -> None:
    store.insert_receipts([new_receipt(i) for i in range(1, 3)])
    intent = store.record_batch_intent(
        root=b"r" * 32, request_ids=[1, 2], tx_hash=None, nonce=None, from_block=1
    )
    store.release_batch(intent.row_id)
    assert store.batch(intent.row_id).status == BatchStatus.FAILED  # type: ignore[union-attr]
    assert [r.request_id for r in store.unbatched(10)] == [1, 2]
    # The same receipts (same root) can be batched again.
    again = store.record_batch_intent(
        root=b"r" * 32, request_ids=[1, 2], tx_hash=None, nonce=None, from_block=2
    )
    assert again.row_id != intent.row_id


def test_data_challenges(store: Store) -> None:
    record = DataChallengeRecord(4, b"k" * 32, 1, 2, 999, "0x" + "44" * 20,
                                 ChallengeStatus.OPEN, None, "")  # fmt: skip
    with store.writing() as w:
        assert w.add_data_challenge(record)
        assert not w.add_data_challenge(record)
    assert store.data_challenges(ChallengeStatus.OPEN) == [record]
    with store.writing() as w:
        w.set_challenge_status(4, ChallengeStatus.PUBLISHED, response_tx=b"p" * 32)
    (got,) = store.data_challenges()
    assert got.status == ChallengeStatus.PUBLISHED and got.response_tx == b"p" * 32
    assert store.data_challenges(ChallengeStatus.OPEN) == []


def test_identity_is_bound_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'n.sqlite3'}"
    ident = {"chain_id": "31337", "market": "0xM", "node": "0xN"}
    Store(url).bind_identity(ident)
    Store(url).bind_identity(ident)  # same: fine
    with pytest.raises(StoreError, match="belongs to another deployment or node") as info:
        Store(url).bind_identity({**ident, "market": "0xOther"})
    assert "market: database has 0xM, node has 0xOther" in str(info.value)


def test_sqlite_runs_in_wal_mode_with_full_sync(store: Store) -> None:
    with store._engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_unusable_database_url_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="cannot open the database"):
        Store("sqlite:////nonexistent-dir/x/y.sqlite3")


@pytest.mark.parametrize(
    ("slashed", "open_disputes", "batch", "expected"),
    [
        (False, 0, None, ReceiptStatus.PENDING),
        (False, 0, BatchStatus.SENDING, ReceiptStatus.PENDING),
        (False, 0, BatchStatus.COMMITTED, ReceiptStatus.COMMITTED),
        (False, 0, BatchStatus.FINALIZED, ReceiptStatus.FINALIZED),
        (False, 2, BatchStatus.COMMITTED, ReceiptStatus.DISPUTED),
        (True, 0, BatchStatus.FINALIZED, ReceiptStatus.SLASHED),
        (True, 1, BatchStatus.COMMITTED, ReceiptStatus.SLASHED),
    ],
)
def test_status_rule(
    slashed: bool, open_disputes: int, batch: BatchStatus | None, expected: ReceiptStatus
) -> None:
    assert derive_status(slashed=slashed, open_disputes=open_disputes, batch=batch) == expected
