"""
The batcher against a fake chain (a unit collaborator): trees and proofs equal the protocol's,
batches of at most N, the N-pending trigger, and recovery of batches interrupted by a crash.
The same paths run against the real contracts in ``tests/integration/node``.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from node.batcher import Batcher
from node.chainio import CommitResult, SignedTx
from node.claims import build_receipts
from node.hashing import claim_key, keccak
from node.proofs import BatchProofs
from node.records import BatchStatus, ReceiptStatus
from node.runtime import ModelRuntime, serve_model
from node.store import Store
from opzk.chain import TransactionFailedError
from protocol.merkle import MerkleTree, verify_merkle_proof
from protocol.receipts import Receipt, batch_tree
from protocol.types import to_address
from tests.unit.node.helpers import CLIENT, NODE, model_files


class CrashError(Exception):
    pass


class FakeChain:
    """Records commits like the contract would; can crash or fail on demand."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.commits: list[tuple[bytes, int]] = []
        self.sent: dict[bytes, tuple[bytes, int]] = {}
        self.block = 100
        self.nonce = 0
        self.crash_before_broadcast = False
        self.crash_after_broadcast = False
        self.fail_mined = False

    def block_number(self) -> int:
        return self.block

    def sign_commit(self, root: bytes, count: int) -> SignedTx:
        self.nonce += 1
        tx_hash = keccak(root + self.nonce.to_bytes(8, "big"))
        self.sent[tx_hash] = (root, count)
        return SignedTx(b"raw", tx_hash, self.nonce)

    def broadcast(self, tx: SignedTx) -> None:
        if self.crash_before_broadcast:
            raise CrashError
        self.block += 1
        root, count = self.sent[tx.tx_hash]
        if not self.fail_mined:
            self.commits.append((root, count))
        if self.crash_after_broadcast:
            raise CrashError

    def _result(self, tx_hash: bytes, root: bytes) -> CommitResult:
        batch_id = [r for r, _ in self.commits].index(root) + 1
        return CommitResult(batch_id, tx_hash, self.block, 80_000, 2, 1_000 + batch_id)

    def wait_commit(self, tx_hash: bytes, root: bytes) -> CommitResult:
        if self.fail_mined:
            raise TransactionFailedError("reverted")
        return self._result(tx_hash, root)

    def find_commit(self, root: bytes, from_block: int) -> CommitResult | None:
        if root not in [r for r, _ in self.commits]:
            return None
        return self._result(b"\x09" * 32, root)

    def tx_known(self, tx_hash: bytes) -> bool:
        return False


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'node.sqlite3'}")
    served = serve_model(model_files(tmp_path / "models")["public"])
    runtime = ModelRuntime([served], backend="numpy")
    xs = np.random.default_rng(0).integers(-128, 128, (10, served.in_dim)).astype(np.int8)
    rows = build_receipts(
        served, runtime.run(served.model_id, xs), range(1, 11), node=NODE,
        clients=[CLIENT] * 10, created_at=0.0,
    )  # fmt: skip
    s.insert_receipts(rows)
    return s


def _protocol_receipt(store: Store, request_id: int) -> Receipt:
    r = store.receipt(request_id)
    assert r is not None
    return Receipt(
        request_id=r.request_id,  # type: ignore[arg-type]
        model_id=r.model_id,  # type: ignore[arg-type]
        input_hash=r.input_hash,  # type: ignore[arg-type]
        output_hash=r.output_hash,  # type: ignore[arg-type]
        trace_root=r.trace_root,  # type: ignore[arg-type]
        node=to_address(NODE),
        client=to_address(r.client),
    )


def test_batches_of_at_most_n_with_the_protocol_tree(store: Store) -> None:
    chain = FakeChain()
    posted = Batcher(store, chain, max_batch_size=4).run_once()  # type: ignore[arg-type]
    assert [b.count for b in posted] == [4, 4, 2]
    assert [b.batch_id for b in posted] == [1, 2, 3]
    proofs = BatchProofs(store)
    for batch, ids in zip(posted, [range(1, 5), range(5, 9), range(9, 11)], strict=True):
        tree = batch_tree([_protocol_receipt(store, i) for i in ids])
        assert batch.root == tree.root == chain.commits[batch.batch_id - 1][0]  # type: ignore[operator]
        assert batch.status == BatchStatus.COMMITTED and batch.gas_used == 80_000
        for index, rid in enumerate(ids):
            r = store.receipt(rid)
            assert r is not None and r.status == ReceiptStatus.COMMITTED
            assert r.leaf_index == index
            assert r.claim_key == claim_key(0, batch.batch_id, r.receipt_leaf)  # type: ignore[arg-type]
            proof = proofs.proof(batch.row_id, index)
            assert proof == tree.proof(index)
            assert verify_merkle_proof(proof, tree.root, r.receipt_leaf)
    assert Batcher(store, chain, max_batch_size=4).run_once() == []  # type: ignore[arg-type]
    assert len(chain.commits) == 3


def test_trigger_fires_once_n_receipts_are_pending(store: Store) -> None:
    batcher = Batcher(store, FakeChain(), max_batch_size=12)  # type: ignore[arg-type]
    fired: list[int] = []
    batcher.trigger = lambda: fired.append(1)
    batcher.reset_pending()  # 10 pending
    batcher.notify_committed(1)
    assert fired == []
    batcher.notify_committed(1)
    assert fired == [1]


@pytest.mark.parametrize("where", ["crash_before_broadcast", "crash_after_broadcast"])
def test_a_crash_while_posting_is_recovered_exactly_once(store: Store, where: str) -> None:
    chain = FakeChain()
    setattr(chain, where, True)
    with pytest.raises(CrashError):
        Batcher(store, chain, max_batch_size=64).run_once()  # type: ignore[arg-type]
    (intent,) = store.batches_with_status(BatchStatus.SENDING)
    assert intent.count == 10 and intent.tx_hash is not None
    setattr(chain, where, False)
    posted = Batcher(store, chain, max_batch_size=64).run_once()  # type: ignore[arg-type]
    assert len(chain.commits) == 1  # posted exactly once
    assert [b.row_id for b in posted] == [intent.row_id]
    assert store.status_counts() == {"committed": 10}


def test_a_failed_transaction_releases_the_receipts(store: Store) -> None:
    chain = FakeChain()
    chain.fail_mined = True
    assert Batcher(store, chain, max_batch_size=64).run_once() == []  # type: ignore[arg-type]
    assert store.count_unbatched() == 10
    chain.fail_mined = False
    (batch,) = Batcher(store, chain, max_batch_size=64).run_once()  # type: ignore[arg-type]
    assert batch.count == 10 and store.status_counts() == {"committed": 10}


def test_proof_cache_rebuilds_the_same_tree(store: Store) -> None:
    chain = FakeChain()
    (batch,) = Batcher(store, chain, max_batch_size=64).run_once()  # type: ignore[arg-type]
    proofs = BatchProofs(store, capacity=1)
    first = proofs.tree(batch.row_id)
    assert proofs.tree(batch.row_id) is first
    assert first == MerkleTree.from_leaves(store.batch_leaves(batch.row_id))
