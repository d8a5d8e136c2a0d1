"""
Dispute handling shared by the two kinds of claims a node makes.

Introduction
------------
A claim is either a batch receipt's (source ``Batch``, applied by :mod:`node.watcher`) or an
on-chain request's (source ``Request``, applied by :mod:`node.request_disputes`). The events
about either are handled alike; what differs is the claim source, which picks the id space the
claim key resolves to (receipt ids or on-chain request ids) and the dispute-history table an
event is appended to (``disputes`` or ``onchain_disputes``). The helpers here take that source:

- :func:`claim_of` resolves an event's claim key to a request id in the source's id space;
- :func:`record_dispute` appends one entry to the source's dispute history;
- :func:`record_claim_event`, :func:`record_data_challenge`, :func:`record_data_closed` and
  :func:`record_proof_demanded` apply the events both kinds of claims share;
- :func:`publish_vector` sends a challenged trace vector (``DataAvailabilityGame.publish``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from protocol.receipts import CLAIM_SOURCE_BATCH, CLAIM_SOURCE_REQUEST

from .chainio import NodeChain
from .events import (
    ChainEvent,
    ClaimSlashed,
    DataChallenged,
    DataChallengeTimedOut,
    DataPublished,
    DisputeClosed,
    DisputeOpened,
    FraudProven,
    ProofDemanded,
    ProofResolved,
)
from .metrics import NodeMetrics
from .records import ChallengeStatus, DataChallengeRecord, DisputeEntry
from .store import Store, StoreWriter

PROOF_OUTCOME_KINDS = {
    "ProofAccepted": "proof_accepted",
    "ProofRejected": "proof_rejected",
    "ProofDemandTimedOut": "proof_timed_out",
}
"""Outcome event of a proof demand → its kind in the dispute history."""


def claim_of(w: StoreWriter, source: int, event: ChainEvent) -> int | None:
    """
    The id of this node's claim of ``source`` that ``event`` names, if any.

    A batch claim is looked up (and indexed, when the event names its batch) with
    :meth:`node.store.StoreWriter.request_of_claim`; an on-chain request's claim with
    :meth:`node.store.StoreWriter.index_onchain_claim` when the event names the request, else
    :meth:`node.store.StoreWriter.onchain_request_of_claim`.

    Parameters
    ----------
    w :
        The watcher's write transaction.
    source :
        ``CLAIM_SOURCE_BATCH`` (a receipt id) or ``CLAIM_SOURCE_REQUEST`` (an on-chain request id).
    event :
        A decoded chain event.

    Returns
    -------
    int or None
        The id; ``None`` when the event names no claim, or none of this node's of that source.
    """
    key = getattr(event, "claim_key", None)
    if key is None:
        return None
    named_source = getattr(event, "source", None)
    container_id = getattr(event, "container_id", None)
    if source == CLAIM_SOURCE_BATCH:
        return w.request_of_claim(key, source=named_source, container_id=container_id)
    if named_source == CLAIM_SOURCE_REQUEST and container_id is not None:
        return w.index_onchain_claim(bytes(key), int(container_id))
    return w.onchain_request_of_claim(bytes(key))


def record_dispute(
    w: StoreWriter,
    source: int,
    request_id: int,
    kind: str,
    event: ChainEvent,
    metrics: NodeMetrics | None,
    *,
    challenge_id: int | None = None,
    trace_index: int | None = None,
    detail: str = "",
) -> None:
    """Appends ``event`` to the dispute history of claim ``request_id`` of ``source``."""
    entry = DisputeEntry(
        request_id=request_id,
        kind=kind,
        game=event.address,
        challenge_id=challenge_id,
        trace_index=trace_index,
        detail=detail,
        tx_hash=event.tx_hash,
        block=event.block,
        recorded_at=time.time(),
    )
    if source == CLAIM_SOURCE_BATCH:
        w.add_dispute(entry)
    else:
        w.add_onchain_dispute(entry)
    if metrics is not None:
        metrics.disputes.labels(kind).inc()


def record_claim_event(
    w: StoreWriter, source: int, request_id: int, event: ChainEvent, metrics: NodeMetrics | None
) -> bool:
    """
    Records a market or game event about a claim in its dispute history.

    Handles ``DisputeOpened``, ``DisputeClosed``, ``ClaimSlashed``, ``FraudProven`` and the proof
    outcomes (``ProofResolved``); returns False, recording nothing, for any other event.
    """
    challenge_id = None
    if isinstance(event, DisputeOpened):
        kind, detail = "dispute_opened", ""
    elif isinstance(event, DisputeClosed):
        kind, detail = "dispute_closed", ("fraud" if event.fraud else "no fraud")
    elif isinstance(event, ClaimSlashed):
        kind, detail = "claim_slashed", ""
    elif isinstance(event, FraudProven):
        kind, detail = "fraud_proven", f"layer {event.layer}, slashed {event.slashed} wei"
    elif isinstance(event, ProofResolved):
        kind = PROOF_OUTCOME_KINDS.get(event.kind, event.kind)
        detail = f"slashed {event.slashed} wei" if event.slashed else ""
        challenge_id = event.demand_id
    else:
        return False
    record_dispute(
        w, source, request_id, kind, event, metrics, challenge_id=challenge_id, detail=detail
    )
    return True


def record_data_challenge(
    w: StoreWriter,
    source: int,
    request_id: int | None,
    event: DataChallenged,
    metrics: NodeMetrics | None,
) -> None:
    """
    Records a data challenge against this node on claim ``request_id`` of ``source``.

    With ``request_id`` ``None`` (a claim the node has no record of) the challenge is recorded
    ``unanswerable`` and no history is written.
    """
    known = request_id is not None
    w.add_data_challenge(
        DataChallengeRecord(
            challenge_id=event.challenge_id,
            claim_key=event.claim_key,
            request_id=request_id,
            trace_index=event.index,
            deadline=event.deadline,
            challenger=event.challenger,
            status=ChallengeStatus.OPEN if known else ChallengeStatus.UNANSWERABLE,
            response_tx=None,
            detail="" if known else "unknown claim",
        )
    )
    if request_id is not None:
        record_dispute(
            w, source, request_id, "data_challenged", event, metrics,
            challenge_id=event.challenge_id, trace_index=event.index,
            detail=f"by {event.challenger}, deadline {event.deadline}",
        )  # fmt: skip


def record_data_closed(
    w: StoreWriter,
    source: int,
    request_id: int,
    event: DataPublished | DataChallengeTimedOut,
    metrics: NodeMetrics | None,
) -> None:
    """A data challenge was answered or timed out: its status, and the claim's history."""
    if isinstance(event, DataPublished):
        w.set_challenge_status(
            event.challenge_id, ChallengeStatus.PUBLISHED, response_tx=event.tx_hash
        )
        record_dispute(
            w, source, request_id, "data_published", event, metrics,
            challenge_id=event.challenge_id, trace_index=event.index,
        )  # fmt: skip
    else:
        w.set_challenge_status(event.challenge_id, ChallengeStatus.TIMED_OUT)
        record_dispute(
            w, source, request_id, "data_timed_out", event, metrics,
            challenge_id=event.challenge_id, detail=f"slashed {event.slashed} wei",
        )  # fmt: skip


def record_proof_demanded(
    w: StoreWriter,
    source: int,
    request_id: int,
    event: ProofDemanded,
    metrics: NodeMetrics | None,
) -> None:
    """Appends a proof demand to the history of claim ``request_id`` of ``source``."""
    record_dispute(
        w, source, request_id, "proof_demanded", event, metrics,
        challenge_id=event.demand_id,
        detail=f"partition {event.partition_index}, deadline {event.deadline}",
    )  # fmt: skip


def publish_vector(
    store: Store,
    chain: NodeChain,
    challenge: DataChallengeRecord,
    vector: bytes,
    proof: Sequence[bytes],
    metrics: NodeMetrics | None,
) -> None:
    """
    Answers ``challenge`` with ``DataAvailabilityGame.publish`` and marks it ``published``.

    Raises
    ------
    protocol.errors.OpzkError
        From ``publish`` (``ChallengeNotOpen``, ``DeadlinePassed``, …): the caller decides.
    """
    tx = chain.send(
        chain.market.data.functions.publish(challenge.challenge_id, vector, list(proof))
    )
    with store.writing() as w:
        w.set_challenge_status(
            challenge.challenge_id,
            ChallengeStatus.PUBLISHED,
            response_tx=bytes(tx["transactionHash"]),
        )
    if metrics is not None:
        metrics.gas_used.labels("publish").inc(int(tx["gasUsed"]))
