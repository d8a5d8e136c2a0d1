"""
The batcher: posts the Merkle root of pending receipts on-chain, crash-safely, with gas accounting.

Introduction
------------
Every T seconds (and as soon as N receipts are pending) :meth:`Batcher.run_once` takes the oldest
receipts not yet in a batch (at most N), builds their tree (:class:`protocol.merkle.MerkleTree`,
leaves in request-id order, hashed by :func:`node.hashing.merkle_tree`) and posts
``commitBatch(root, count)``:

1. estimate and sign the transaction (a revert, e.g. ``NodeNotActive``, stops here: nothing
   recorded, nothing sent);
2. record the intent in one transaction: batch row in status ``sending`` with the root, the
   transaction hash and nonce, and each receipt's leaf index;
3. broadcast and wait for it;
4. record the result: on-chain batch id, block, its timestamp, gas used and price; the batch's
   receipts become ``committed`` (no receipt row is rewritten: :mod:`node.store`).

A crash anywhere leaves either nothing (before 2: the receipts are still pending and go into the
next batch) or a ``sending`` batch, which :meth:`Batcher.recover` finishes before anything else:
if this node's ``BatchCommitted`` event with that root is on-chain, the batch is recorded from it;
else if the transaction is known to the chain it is awaited; else it is signed again (with the
same receipts, so the same root) and sent. A transaction mined but failed releases the receipts
to the next batch. Proofs are not stored: they are rebuilt from the stored leaves when asked for
(:mod:`node.proofs`).

The chain side is the :class:`BatchChain` protocol (:class:`node.chainio.NodeChain` in a node).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from opzk.chain import TransactionFailedError

from .chainio import CommitResult, SignedTx
from .hashing import merkle_tree
from .metrics import NodeMetrics
from .records import BatchRecord, BatchStatus
from .store import Store

log = logging.getLogger(__name__)


class BatchChain(Protocol):
    """What the batcher needs from the chain."""

    @property
    def lock(self) -> AbstractContextManager[Any]: ...

    def block_number(self) -> int: ...

    def sign_commit(self, root: bytes, count: int) -> SignedTx: ...

    def broadcast(self, tx: SignedTx) -> None: ...

    def wait_commit(self, tx_hash: bytes, root: bytes) -> CommitResult: ...

    def find_commit(self, root: bytes, from_block: int) -> CommitResult | None: ...

    def tx_known(self, tx_hash: bytes) -> bool: ...


class Batcher:
    """Posts batches of this node's pending receipts."""

    def __init__(
        self,
        store: Store,
        chain: BatchChain,
        *,
        max_batch_size: int,
        metrics: NodeMetrics | None = None,
    ) -> None:
        self.store = store
        self.chain = chain
        self.max_batch_size = max_batch_size
        self.metrics = metrics
        self.trigger: Callable[[], None] | None = None
        """Called when N receipts are pending (the service sets it to run the job now)."""
        self._pending = 0
        self._pending_lock = threading.Lock()

    # ---- triggering ------------------------------------------------------------------------------

    def reset_pending(self) -> None:
        """Re-reads how many receipts wait for a batch."""
        with self._pending_lock:
            self._pending = self.store.count_unbatched()

    def notify_committed(self, count: int) -> None:
        """``count`` more receipts were stored (called by the receipt writer)."""
        with self._pending_lock:
            self._pending += count
            full = self._pending >= self.max_batch_size
        if full and self.trigger is not None:
            self.trigger()

    # ---- the job ---------------------------------------------------------------------------------

    def run_once(self) -> list[BatchRecord]:
        """Finishes interrupted batches, then posts every pending receipt in batches of ≤ N."""
        posted = self.recover()
        while True:
            pending = self.store.unbatched_leaves(self.max_batch_size)
            if not pending:
                break
            batch = self.post([rid for rid, _ in pending], [leaf for _, leaf in pending])
            if batch is not None:
                posted.append(batch)
            if len(pending) < self.max_batch_size:
                break
        self.reset_pending()
        return posted

    def post(self, request_ids: Sequence[int], leaves: Sequence[bytes]) -> BatchRecord | None:
        """Posts one batch over ``leaves`` (in order); returns it as recorded."""
        tree = merkle_tree(leaves)
        with self.chain.lock:
            from_block = self.chain.block_number()
            signed = self.chain.sign_commit(tree.root, len(leaves))
            batch = self.store.record_batch_intent(
                root=tree.root,
                request_ids=request_ids,
                tx_hash=signed.tx_hash,
                nonce=signed.nonce,
                from_block=from_block,
            )
            self.chain.broadcast(signed)
            return self._await(batch, signed.tx_hash)

    def recover(self) -> list[BatchRecord]:
        """Finishes every batch left in status ``sending`` (see the module docstring)."""
        done: list[BatchRecord] = []
        for batch in self.store.batches_with_status(BatchStatus.SENDING):
            with self.chain.lock:
                found = self.chain.find_commit(batch.root, batch.from_block)
                if found is not None:
                    log.info("batch root 0x%s was committed before a restart", batch.root.hex())
                    done.append(self._record(batch, found))
                    continue
                if batch.tx_hash is not None and self.chain.tx_known(batch.tx_hash):
                    recorded = self._await(batch, batch.tx_hash)
                else:
                    signed = self.chain.sign_commit(batch.root, batch.count)
                    self.store.set_batch_tx(batch.row_id, signed.tx_hash, signed.nonce)
                    log.info(
                        "re-sending batch root 0x%s (nonce %d)", batch.root.hex(), signed.nonce
                    )
                    self.chain.broadcast(signed)
                    recorded = self._await(batch, signed.tx_hash)
                if recorded is not None:
                    done.append(recorded)
        return done

    def _await(self, batch: BatchRecord, tx_hash: bytes) -> BatchRecord | None:
        try:
            result = self.chain.wait_commit(tx_hash, batch.root)
        except TransactionFailedError as exc:
            log.error("batch transaction 0x%s failed (%s); its receipts go to the next batch",
                      tx_hash.hex(), exc)  # fmt: skip
            self.store.release_batch(batch.row_id)
            return None
        return self._record(batch, result)

    def _record(self, batch: BatchRecord, result: CommitResult) -> BatchRecord:
        self.store.mark_batch_committed(
            batch.row_id,
            batch_id=result.batch_id,
            tx_hash=result.tx_hash,
            block=result.block,
            gas_used=result.gas_used,
            gas_price=result.gas_price,
            committed_at=result.committed_at,
        )
        if self.metrics is not None:
            self.metrics.batches_posted.inc()
            self.metrics.batch_size.observe(batch.count)
            self.metrics.gas_used.labels("commitBatch").inc(result.gas_used)
        log.info("committed batch %d: %d receipts, %d gas",
                 result.batch_id, batch.count, result.gas_used)  # fmt: skip
        recorded = self.store.batch(batch.row_id)
        assert recorded is not None
        return recorded
