"""
The responder: answers data-availability challenges against this node before their deadline.

Introduction
------------
A challenger who could not get a committed trace vector from the node opens a challenge on-chain
(``DataAvailabilityGame.challenge``); the watcher records it. :func:`answer_challenges` publishes
the stored vector with its proof against the receipt's trace root
(``DataAvailabilityGame.publish``), which pays the challenger's bond to the node; a challenge on
the claim of one of its on-chain requests is answered from that request's trace
(:func:`node.request_disputes.answer_request_challenge`). A challenge that is no longer open
on-chain (someone else published, or it timed out) or whose claim the node has no record of is
marked so and left; any other failure is retried at the next round, until the deadline. A node
in cheat mode (:mod:`node.cheats`, Anvil only) never publishes a vector of a trace it withholds
(on-chain requests are never cheated on).
"""

from __future__ import annotations

import logging

from protocol import errors
from protocol.trace import trace_tree

from .chainio import NodeChain
from .claims import split_trace
from .disputes import publish_vector
from .metrics import NodeMetrics
from .records import ChallengeStatus, DataChallengeRecord
from .request_disputes import answer_request_challenge, request_of_challenge
from .runtime import ModelRuntime
from .store import Store

log = logging.getLogger(__name__)

_CHAIN_STATUS = {2: ChallengeStatus.PUBLISHED, 3: ChallengeStatus.TIMED_OUT}
"""``DataAvailabilityGame.Status`` values that close a challenge."""


def answer_challenges(
    store: Store, chain: NodeChain, runtime: ModelRuntime, metrics: NodeMetrics | None = None
) -> list[int]:
    """Publishes the vector of every open challenge; returns the ids answered now."""
    answered: list[int] = []
    for challenge in store.data_challenges(ChallengeStatus.OPEN):
        try:
            if _answer(store, chain, runtime, challenge, metrics):
                answered.append(challenge.challenge_id)
        except errors.ChallengeNotOpen:
            status = int(chain.market.data.functions.getChallenge(challenge.challenge_id).call()[4])
            _close(store, challenge, _CHAIN_STATUS.get(status, ChallengeStatus.UNANSWERABLE))
        except errors.DeadlinePassed:
            log.error("data challenge %d: deadline passed before the node could publish",
                      challenge.challenge_id)  # fmt: skip
            _close(store, challenge, ChallengeStatus.TIMED_OUT, "deadline passed")
    return answered


def _answer(
    store: Store,
    chain: NodeChain,
    runtime: ModelRuntime,
    challenge: DataChallengeRecord,
    metrics: NodeMetrics | None,
) -> bool:
    onchain = request_of_challenge(store, challenge)
    if onchain is not None:
        return answer_request_challenge(store, chain, runtime, challenge, onchain, metrics)
    receipt = store.receipt(challenge.request_id) if challenge.request_id is not None else None
    if receipt is None:
        _close(store, challenge, ChallengeStatus.UNANSWERABLE, "unknown claim")
        return False
    served = runtime.models.get(receipt.model_id)
    if served is None:
        _close(store, challenge, ChallengeStatus.UNANSWERABLE, "model no longer served")
        return False
    cheats = runtime.cheats
    if cheats is not None and cheats.withholds(receipt.request_id):
        log.warning("CHEAT: not answering data challenge %d (request %d's trace is withheld)",
                    challenge.challenge_id, receipt.request_id)  # fmt: skip
        _close(store, challenge, ChallengeStatus.UNANSWERABLE, "withheld (cheat mode)")
        return False
    vectors = split_trace(served, receipt.trace)
    index = challenge.trace_index
    vector = vectors[index] if index < len(vectors) else None
    if vector is None:
        _close(store, challenge, ChallengeStatus.UNANSWERABLE, f"trace entry {index} is hidden")
        return False
    hashes = (
        receipt.activation_hash_list()
        if cheats is None
        else cheats.committed_hashes(receipt, vectors)
    )
    publish_vector(
        store, chain, challenge, vector.tobytes(), trace_tree(hashes).proof(index), metrics
    )
    log.info("answered data challenge %d (request %d, entry %d)",
             challenge.challenge_id, receipt.request_id, index)  # fmt: skip
    return True


def _close(
    store: Store, challenge: DataChallengeRecord, status: ChallengeStatus, detail: str = ""
) -> None:
    with store.writing() as w:
        w.set_challenge_status(challenge.challenge_id, status, detail=detail or None)
