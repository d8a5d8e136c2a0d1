"""
The watcher: follows chain events from a persisted cursor and drives receipt statuses.

Introduction
------------
:meth:`Watcher.poll_once` reads the logs of ``InferenceMarket`` and the dispute games from the
block after its cursor up to the head (minus ``confirmations``), in chunks, and applies each chunk's
events together with the new cursor in one database transaction, so an event takes effect exactly
once even across crashes. What each event does:

- ``BatchFinalized`` of one of this node's batches: its receipts become ``finalized`` (unless
  slashed);
- ``DisputeOpened`` / ``DisputeClosed`` on one of this node's claims: the receipt's open-dispute
  count goes up / down (``disputed`` while it is above zero);
- ``ClaimSlashed``: the receipt is ``slashed`` for good;
- ``InferenceRequested`` naming this node, ``RequestFulfilled``, ``RequestFinalized``,
  ``RequestRefunded`` and ``ClaimSlashed`` with source ``Request``: this node's on-chain requests
  (:func:`node.onchain.apply_event`); every event on the claim of one of them goes to that
  request's dispute history, a data challenge on it to the responder
  (:mod:`node.request_disputes`);
- ``DataChallenged`` against this node: a data challenge to answer (:mod:`node.responder`);
  ``DataPublished`` / ``DataChallengeTimedOut`` close it;
- ``FraudProven``, ``ProofDemanded`` and the proof outcomes go into the dispute history;
  ``ProofDemanded`` naming this node also records a demand for the prover (:mod:`node.prover`),
  on a batch receipt or on one of its on-chain requests (whose claim key
  :mod:`node.request_disputes` indexes from the ``DisputeOpened`` the market emits first), and the
  outcome events close it.

Every event about one of this node's receipts is appended to that receipt's dispute history.
Claims are recognized by their claim key (:meth:`node.store.StoreWriter.request_of_claim`), which
needs the batch's on-chain id: the watcher therefore never moves its cursor past a batch still
being sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from protocol.receipts import CLAIM_SOURCE_BATCH, CLAIM_SOURCE_REQUEST

from .chainio import NodeChain
from .disputes import (
    claim_of,
    record_claim_event,
    record_data_challenge,
    record_data_closed,
    record_proof_demanded,
)
from .events import (
    BatchFinalized,
    ChainEvent,
    ClaimSlashed,
    DataChallenged,
    DataChallengeTimedOut,
    DataPublished,
    DisputeClosed,
    DisputeOpened,
    ProofDemanded,
    ProofResolved,
)
from .metrics import NodeMetrics
from .onchain import apply_event
from .records import BatchStatus
from .store import ProofStatus, Store, StoreWriter

log = logging.getLogger(__name__)

CURSOR = "events"

_PROOF_OUTCOMES = {
    "ProofAccepted": ProofStatus.ACCEPTED,
    "ProofRejected": ProofStatus.REJECTED,
    "ProofDemandTimedOut": ProofStatus.TIMED_OUT,
}
"""Outcome event → the demand's final status (its history kind: ``node.disputes``)."""


class Watcher:
    """Applies chain events to the node's receipts."""

    def __init__(
        self,
        store: Store,
        chain: NodeChain,
        *,
        confirmations: int = 0,
        chunk_blocks: int = 2_000,
        metrics: NodeMetrics | None = None,
        on_data_challenge: Callable[[], None] | None = None,
        on_proof_demand: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.chain = chain
        self.confirmations = confirmations
        self.chunk_blocks = chunk_blocks
        self.metrics = metrics
        self.on_data_challenge = on_data_challenge
        self.on_proof_demand = on_proof_demand
        self.node = chain.address

    def poll_once(self) -> int:
        """Applies every new event; returns how many concerned this node."""
        head = self.chain.block_number()
        if self.metrics is not None:
            self.metrics.head_block.set(head)
        target = head - self.confirmations
        sending = self.store.batches_with_status(BatchStatus.SENDING)
        if sending:
            target = min(target, min(b.from_block for b in sending) - 1)
        cursor = self.store.cursor(CURSOR)
        if cursor is None:
            cursor = self.chain.deployment.start_block - 1
        applied = 0
        challenged = demanded = False
        while cursor < target:
            end = min(target, cursor + self.chunk_blocks)
            events = self.chain.decoder.decode(self.chain.logs(cursor + 1, end))
            with self.store.writing() as writer:
                for event in events:
                    mine = self.apply(writer, event)
                    applied += mine
                    challenged |= bool(mine) and isinstance(event, DataChallenged)
                    demanded |= bool(mine) and isinstance(event, ProofDemanded)
                writer.set_cursor(CURSOR, end)
            cursor = end
            if self.metrics is not None:
                self.metrics.cursor_block.set(cursor)
        if challenged and self.on_data_challenge is not None:
            self.on_data_challenge()
        if demanded and self.on_proof_demand is not None:
            self.on_proof_demand()
        return applied

    def apply(self, w: StoreWriter, event: ChainEvent) -> int:
        """Applies one event inside ``w``'s transaction; 1 if it concerned this node, else 0."""
        onchain = apply_event(w, self.node, event, self.metrics)
        if onchain is not None:
            return onchain
        if isinstance(event, BatchFinalized):
            return int(w.batch_finalized(event.batch_id))
        if isinstance(event, DataChallenged):
            return self._data_challenged(w, event)
        if isinstance(event, (DataPublished, DataChallengeTimedOut)):
            return self._data_closed(w, event)
        if isinstance(event, ProofDemanded):
            return self._proof_demanded(w, event)
        resolved = isinstance(event, ProofResolved) and w.proof_resolved(
            event.demand_id, _PROOF_OUTCOMES[event.kind], event.slashed
        )
        request_id = claim_of(w, CLAIM_SOURCE_BATCH, event)
        if request_id is None:
            return int(resolved)
        if isinstance(event, DisputeOpened):
            w.dispute_opened(request_id)
        elif isinstance(event, DisputeClosed):
            w.dispute_closed(request_id)
        elif isinstance(event, ClaimSlashed):
            w.claim_slashed(request_id)
        return int(record_claim_event(w, CLAIM_SOURCE_BATCH, request_id, event, self.metrics))

    def _proof_demanded(self, w: StoreWriter, event: ProofDemanded) -> int:
        """A demand on one of this node's claims: recorded for the prover (and the history)."""
        if event.node.lower() != self.node.lower():
            return 0
        source: int | None = CLAIM_SOURCE_BATCH
        request_id = w.request_of_claim(event.claim_key)
        if request_id is None:
            source, request_id = CLAIM_SOURCE_REQUEST, w.onchain_request_of_claim(event.claim_key)
        if request_id is None:
            source = None
            log.error(
                "proof demand %d names claim 0x%s, which this node has no record of",
                event.demand_id, event.claim_key.hex(),
            )  # fmt: skip
        new = w.add_proof_demand(
            demand_id=event.demand_id, claim_key=event.claim_key, source=source,
            request_id=request_id, partition_index=event.partition_index,
            deadline=event.deadline, challenger=event.challenger, game=event.address,
            block=event.block,
        )  # fmt: skip
        if not new:
            return 1
        log.warning(
            "proof demand %d on partition %d of %s %s, deadline %d",
            event.demand_id, event.partition_index,
            "on-chain request" if source == CLAIM_SOURCE_REQUEST else "request",
            request_id, event.deadline,
        )  # fmt: skip
        if source == CLAIM_SOURCE_BATCH and request_id is not None:
            record_proof_demanded(w, CLAIM_SOURCE_BATCH, request_id, event, self.metrics)
        return 1

    def _data_challenged(self, w: StoreWriter, event: DataChallenged) -> int:
        if event.node.lower() != self.node.lower():
            return 0
        request_id = w.request_of_claim(event.claim_key)
        if request_id is None:
            log.error(
                "data challenge %d names claim 0x%s, which this node has no record of",
                event.challenge_id, event.claim_key.hex(),
            )  # fmt: skip
        record_data_challenge(w, CLAIM_SOURCE_BATCH, request_id, event, self.metrics)
        return 1

    def _data_closed(self, w: StoreWriter, event: DataPublished | DataChallengeTimedOut) -> int:
        request_id = w.request_of_claim(event.claim_key)
        if request_id is None:
            return 0
        record_data_closed(w, CLAIM_SOURCE_BATCH, request_id, event, self.metrics)
        return 1
