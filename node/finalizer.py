"""
The finalizer: calls ``finalizeBatch`` for this node's batches once their challenge window passed.

Introduction
------------
Anyone may finalize a batch; the node does it for its own so its receipts reach ``finalized``
without anyone else's help. A batch is due when the latest block's timestamp is at least its commit
timestamp plus the deployment's challenge window and none of its receipts has an open dispute. A
revert that says the batch is not ready (window open, disputes open) is not an error: the next round
tries again; ``BatchAlreadyFinalized`` means someone else did it, and the batch is recorded as
finalized either way (the watcher then sees the event too; applying it twice is harmless).
"""

from __future__ import annotations

import logging

from protocol import errors

from .chainio import NodeChain
from .metrics import NodeMetrics
from .records import BatchStatus, ReceiptStatus
from .store import Store

log = logging.getLogger(__name__)


def finalize_due(store: Store, chain: NodeChain, metrics: NodeMetrics | None = None) -> list[int]:
    """Finalizes every due batch of this node; returns their on-chain ids."""
    committed = store.batches_with_status(BatchStatus.COMMITTED)
    if not committed:
        return []
    _, now = chain.head()
    window = chain.params.challenge_window
    done: list[int] = []
    for batch in committed:
        if batch.batch_id is None or batch.committed_at is None:
            continue
        if now < batch.committed_at + window:
            continue
        if _has_open_disputes(store, batch.batch_id):
            continue
        try:
            tx = chain.send(chain.market.market.functions.finalizeBatch(batch.batch_id))
        except (errors.ChallengeWindowOpen, errors.DisputesOpen) as exc:
            log.debug("batch %d not ready: %s", batch.batch_id, exc)
            continue
        except errors.BatchAlreadyFinalized:
            pass
        else:
            if metrics is not None:
                metrics.gas_used.labels("finalizeBatch").inc(int(tx["gasUsed"]))
        with store.writing() as w:
            w.batch_finalized(batch.batch_id)
        done.append(batch.batch_id)
        log.info("finalized batch %d", batch.batch_id)
    return done


def _has_open_disputes(store: Store, batch_id: int) -> bool:
    _, total = store.receipts_page(batch_id=batch_id, status=ReceiptStatus.DISPUTED, limit=1)
    return total > 0
