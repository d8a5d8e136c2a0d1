"""
Disputes on the claims of the on-chain requests a node fulfilled.

Introduction
------------
A fulfilled on-chain request is a claim like a batch receipt (source ``Request``, container id =
the request id, protocol/receipts.py ``claim_key``), and every dispute game accepts it. Its
events reach the node through the watcher, which hands them to :func:`node.onchain.apply_event`
and so to :func:`apply_claim_event` here:

- the claim key is recognized from the events that name source and container
  (``DisputeOpened``, ``DisputeClosed``, ``ClaimSlashed``; the market emits one of them before any
  game's own event about the claim) by recomputing it from the stored receipt leaf
  (:meth:`node.store.StoreWriter.index_onchain_claim`), and from the index afterwards;
- every event about the claim is appended to the request's dispute history (the
  ``onchain_disputes`` table, read at ``GET /v1/requests/{id}``), like a receipt's;
- ``DataChallenged`` records a data challenge to answer, with the on-chain request id as its
  ``request_id``; ``DataPublished`` / ``DataChallengeTimedOut`` close it;
- proof-demand events (``ProofDemanded`` and its outcomes) are recorded in the history and left
  to the watcher as well, which records the demand for the prover.

:func:`answer_request_challenge` is the responder's side: it publishes the challenged vector of
the request's public trace (:mod:`node.request_traces`) with its Merkle proof against the trace
root the node committed with ``fulfil``, which pays the challenger's bond to the node.
"""

from __future__ import annotations

import logging

from protocol.receipts import CLAIM_SOURCE_REQUEST

from .chainio import NodeChain
from .disputes import (
    PROOF_OUTCOME_KINDS,
    claim_of,
    publish_vector,
    record_claim_event,
    record_data_challenge,
    record_data_closed,
    record_proof_demanded,
)
from .events import (
    ChainEvent,
    DataChallenged,
    DataChallengeTimedOut,
    DataPublished,
    ProofDemanded,
    ProofResolved,
)
from .metrics import NodeMetrics
from .records import ChallengeStatus, DataChallengeRecord, OnchainRequestRecord
from .request_traces import RequestTraceError, is_request_claim, request_trace
from .runtime import ModelRuntime
from .store import Store, StoreWriter

log = logging.getLogger(__name__)

__all__ = [
    "PROOF_OUTCOME_KINDS",
    "answer_request_challenge",
    "apply_claim_event",
    "onchain_claim_of",
    "request_of_challenge",
]


def onchain_claim_of(w: StoreWriter, event: ChainEvent) -> int | None:
    """
    The id of this node's on-chain request whose claim ``event`` names, if any.

    Parameters
    ----------
    w :
        The watcher's write transaction.
    event :
        A decoded chain event.

    Returns
    -------
    int or None
        The request id; ``None`` when the event names no claim, or a claim that is not one of
        this node's on-chain requests.
    """
    return claim_of(w, CLAIM_SOURCE_REQUEST, event)


def apply_claim_event(
    w: StoreWriter, node: str, event: ChainEvent, metrics: NodeMetrics | None = None
) -> int | None:
    """
    Applies an event about the claim of one of this node's on-chain requests.

    Parameters
    ----------
    w :
        The watcher's write transaction.
    node :
        This node's address.
    event :
        A decoded chain event.
    metrics :
        Where disputes are counted by kind.

    Returns
    -------
    int or None
        1 once applied; ``None`` when the event is not about such a claim, and also for the
        proof-demand events (recorded in the history here), which the watcher goes on to apply.
    """
    if isinstance(event, DataChallenged) and event.node.lower() != node.lower():
        return None
    request_id = onchain_claim_of(w, event)
    if request_id is None:
        return None
    if isinstance(event, DataChallenged):
        record_data_challenge(w, CLAIM_SOURCE_REQUEST, request_id, event, metrics)
        return 1
    if isinstance(event, (DataPublished, DataChallengeTimedOut)):
        record_data_closed(w, CLAIM_SOURCE_REQUEST, request_id, event, metrics)
        return 1
    if isinstance(event, ProofDemanded):
        record_proof_demanded(w, CLAIM_SOURCE_REQUEST, request_id, event, metrics)
        return None
    if not record_claim_event(w, CLAIM_SOURCE_REQUEST, request_id, event, metrics):
        return None
    return None if isinstance(event, ProofResolved) else 1


def request_of_challenge(
    store: Store, challenge: DataChallengeRecord
) -> OnchainRequestRecord | None:
    """
    The on-chain request a data challenge is about, if it is about one.

    Parameters
    ----------
    store :
        The node's store.
    challenge :
        A recorded data challenge (its ``request_id`` is a receipt's or an on-chain request's).

    Returns
    -------
    OnchainRequestRecord or None
        The request when the challenge's claim key is its claim's; ``None`` for a batch
        receipt's claim (the two id spaces collide, the claim keys never do).
    """
    if challenge.request_id is None:
        return None
    record = store.onchain_request(challenge.request_id)
    if record is None or record.receipt_leaf is None:
        return None
    return record if is_request_claim(record, challenge.claim_key) else None


def answer_request_challenge(
    store: Store,
    chain: NodeChain,
    runtime: ModelRuntime,
    challenge: DataChallengeRecord,
    record: OnchainRequestRecord,
    metrics: NodeMetrics | None = None,
) -> bool:
    """
    Publishes the challenged vector of an on-chain request's trace.

    Parameters
    ----------
    store :
        The node's store (the challenge's status is updated there).
    chain :
        The node's chain access.
    runtime :
        The node's runtime (the trace's shape, or its rebuild).
    challenge :
        The open data challenge.
    record :
        The on-chain request it names (:func:`request_of_challenge`).
    metrics :
        Where the gas of ``publish`` is counted.

    Returns
    -------
    bool
        True once published; False when the challenge cannot be answered (it is then closed as
        ``unanswerable`` with the reason).

    Raises
    ------
    protocol.errors.OpzkError
        From ``publish`` (``ChallengeNotOpen``, ``DeadlinePassed``, …): the responder decides.
    """
    try:
        trace = request_trace(runtime, record)
    except RequestTraceError as exc:
        _close(store, challenge, str(exc))
        return False
    index = challenge.trace_index
    vector = trace.vectors[index] if index < len(trace.vectors) else None
    if vector is None:
        _close(store, challenge, f"trace entry {index} is hidden")
        return False
    publish_vector(store, chain, challenge, vector.tobytes(), trace.proof(index), metrics)
    log.info("answered data challenge %d (on-chain request %d, entry %d)",
             challenge.challenge_id, record.request_id, index)  # fmt: skip
    return True


def _close(store: Store, challenge: DataChallengeRecord, detail: str) -> None:
    log.error("data challenge %d on on-chain request %s cannot be answered: %s",
              challenge.challenge_id, challenge.request_id, detail)  # fmt: skip
    with store.writing() as w:
        w.set_challenge_status(challenge.challenge_id, ChallengeStatus.UNANSWERABLE, detail=detail)
