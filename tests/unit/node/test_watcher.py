"""
What each chain event does to the node's receipts (``Watcher.apply`` on a real store, with
synthetic decoded events; the follow-the-chain loop itself runs against Anvil in
``tests/integration/node``).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from node.events import (
    BatchFinalized,
    ClaimSlashed,
    DataChallenged,
    DataChallengeTimedOut,
    DataPublished,
    DisputeClosed,
    DisputeOpened,
    FraudProven,
    ProofDemanded,
)
from node.hashing import claim_key
from node.records import ChallengeStatus, NewReceipt, ReceiptStatus
from node.store import Store
from node.watcher import Watcher

NODE = "0x1111111111111111111111111111111111111111"
OTHER = "0x3333333333333333333333333333333333333333"
GAME = "0x4444444444444444444444444444444444444444"
LEAF = {i: bytes([i]) * 32 for i in (1, 2)}
KEY = {i: claim_key(0, 7, LEAF[i]) for i in (1, 2)}
WHERE = {"block": 5, "log_index": 0, "tx_hash": b"\xee" * 32, "address": GAME}


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'n.sqlite3'}")
    s.insert_receipts(
        [
            NewReceipt(
                i, b"m" * 32, NODE, b"", b"", b"", bytes(64), bytes(32), bytes([i]) * 32, 0.0
            )
            for i in (1, 2)
        ]
    )
    intent = s.record_batch_intent(
        root=b"r" * 32, request_ids=[1, 2], tx_hash=None, nonce=None, from_block=1
    )
    s.mark_batch_committed(
        intent.row_id, batch_id=7, tx_hash=b"t" * 32, block=3, gas_used=1, gas_price=1,
        committed_at=10,
    )  # fmt: skip
    return s


def _apply(store: Store, *events: object) -> int:
    watcher = Watcher(store, SimpleNamespace(address=NODE))  # type: ignore[arg-type]
    with store.writing() as w:
        return sum(watcher.apply(w, e) for e in events)  # type: ignore[arg-type]


def _status(store: Store, request_id: int) -> ReceiptStatus:
    r = store.receipt(request_id)
    assert r is not None
    return r.status


def test_dispute_opened_and_closed(store: Store) -> None:
    assert (
        _apply(store, DisputeOpened(**WHERE, claim_key=KEY[1], source=0, container_id=7, game=GAME))
        == 1
    )
    assert _status(store, 1) == ReceiptStatus.DISPUTED
    assert _status(store, 2) == ReceiptStatus.COMMITTED
    _apply(store, DisputeOpened(**WHERE, claim_key=KEY[1], source=0, container_id=7, game=GAME))
    _apply(
        store,
        DisputeClosed(**WHERE, claim_key=KEY[1], source=0, container_id=7, game=GAME, fraud=False),
    )
    assert _status(store, 1) == ReceiptStatus.DISPUTED  # one still open
    _apply(
        store,
        DisputeClosed(**WHERE, claim_key=KEY[1], source=0, container_id=7, game=GAME, fraud=False),
    )
    assert _status(store, 1) == ReceiptStatus.COMMITTED
    kinds = [d.kind for d in store.disputes_of(1)]
    assert kinds == ["dispute_opened", "dispute_opened", "dispute_closed", "dispute_closed"]
    assert store.disputes_of(1)[-1].detail == "no fraud"


def test_slashed_is_final(store: Store) -> None:
    _apply(
        store,
        ClaimSlashed(**WHERE, claim_key=KEY[2], source=0, container_id=7, node=NODE),
        FraudProven(**WHERE, claim_key=KEY[2], node=NODE, challenger=OTHER, layer=2, slashed=5),
        BatchFinalized(**WHERE, batch_id=7),
    )
    assert _status(store, 2) == ReceiptStatus.SLASHED
    assert _status(store, 1) == ReceiptStatus.FINALIZED
    assert [d.kind for d in store.disputes_of(2)] == ["claim_slashed", "fraud_proven"]
    assert store.disputes_of(2)[1].detail == "layer 2, slashed 5 wei"


def test_events_about_others_change_nothing(store: Store) -> None:
    before = store.row_counts()
    applied = _apply(
        store,
        DisputeOpened(**WHERE, claim_key=b"\x09" * 32, source=0, container_id=7, game=GAME),
        BatchFinalized(**WHERE, batch_id=8),
        DataChallenged(
            **WHERE,
            challenge_id=1,
            claim_key=b"\x09" * 32,
            node=OTHER,
            challenger=OTHER,
            index=1,
            deadline=99,
        ),
    )
    assert applied == 0
    assert store.row_counts() == before
    assert _status(store, 1) == ReceiptStatus.COMMITTED


def _opened(key: bytes) -> DisputeOpened:
    """The market's event that precedes every game's event about a claim (same transaction)."""
    return DisputeOpened(**WHERE, claim_key=key, source=0, container_id=7, game=GAME)


def test_data_challenge_lifecycle(store: Store) -> None:
    _apply(
        store,
        _opened(KEY[1]),
        DataChallenged(
            **WHERE,
            challenge_id=3,
            claim_key=KEY[1],
            node=NODE,
            challenger=OTHER,
            index=2,
            deadline=99,
        ),
    )
    (challenge,) = store.data_challenges(ChallengeStatus.OPEN)
    assert (challenge.request_id, challenge.trace_index, challenge.deadline) == (1, 2, 99)
    _apply(store, DataPublished(**WHERE, challenge_id=3, claim_key=KEY[1], index=2))
    assert store.data_challenges(ChallengeStatus.PUBLISHED)[0].challenge_id == 3
    _apply(
        store,
        _opened(KEY[2]),
        DataChallenged(
            **WHERE,
            challenge_id=4,
            claim_key=KEY[2],
            node=NODE,
            challenger=OTHER,
            index=1,
            deadline=99,
        ),
        DataChallengeTimedOut(**WHERE, challenge_id=4, claim_key=KEY[2], slashed=5),
    )
    assert store.data_challenges(ChallengeStatus.TIMED_OUT)[0].challenge_id == 4
    assert [d.kind for d in store.disputes_of(2)] == [
        "dispute_opened",
        "data_challenged",
        "data_timed_out",
    ]


def test_a_challenge_on_an_unknown_claim_is_recorded_as_unanswerable(store: Store) -> None:
    _apply(
        store,
        DataChallenged(
            **WHERE,
            challenge_id=5,
            claim_key=b"\x08" * 32,
            node=NODE,
            challenger=OTHER,
            index=1,
            deadline=99,
        ),
    )
    (challenge,) = store.data_challenges()
    assert challenge.status == ChallengeStatus.UNANSWERABLE and challenge.request_id is None


def test_proof_demands_are_recorded(store: Store) -> None:
    _apply(
        store,
        _opened(KEY[1]),
        ProofDemanded(
            **WHERE,
            demand_id=1,
            claim_key=KEY[1],
            node=NODE,
            challenger=OTHER,
            partition_index=1,
            deadline=50,
        ),
    )
    assert [d.kind for d in store.disputes_of(1)] == ["dispute_opened", "proof_demanded"]
