"""
On-chain requests: serving ``InferenceMarket.requestInference`` calls assigned to this node.

Introduction
------------
A client may pay for an inference on-chain: ``requestInference(modelId, input)`` assigns it
round-robin to a node that called ``serveModel(modelId)`` (:func:`ensure_serving`, run by
``opzk node run`` when ``serve_onchain`` is set), and that node must ``fulfil`` it before its
deadline. The pieces:

- the watcher (:mod:`node.watcher`) records every ``InferenceRequested`` naming this node in the
  ``onchain_requests`` table (status ``pending``) in the same transaction as its cursor, so each is
  seen exactly once, and applies ``RequestFulfilled`` (``committed``), ``RequestFinalized``
  (``finalized``), ``RequestRefunded`` (``refunded``) and ``ClaimSlashed`` with source ``Request``
  (``slashed``); every dispute event on a request's claim goes to its dispute history, and a data
  challenge on it to the responder (:mod:`node.request_disputes`);
- :meth:`OnchainRequests.fulfil_once` (the ``onchain`` job) runs the model on the pending
  requests, stores output and trace, and fulfils every one still before its deadline in **one**
  ``fulfil`` transaction per round. As for batches, the transaction hash is recorded before it is
  broadcast, so a restart waits for a transaction already sent instead of sending it twice.
  Requests past their deadline are skipped and stay ``pending`` until their ``RequestRefunded``
  arrives;
- :meth:`OnchainRequests.finalize_due` (with the finalizer) calls ``finalizeRequests`` once for
  all the node's fulfilled requests whose windows passed, so their fees are credited.

Id spaces: on-chain request ids are the contract's ``requestId`` and collide with the node's own
off-chain request ids, so they live in their own table and are read at ``GET /v1/requests`` and
``GET /v1/requests/{onchain_id}`` (with ``source: "request"``, the fulfil transaction, the status
and the dispute history), their traces at ``GET /v1/requests/{onchain_id}/trace``
(:mod:`node.request_traces`); ``/v1/receipts`` stays the off-chain (batched) receipts. A
request's receipt leaf is built exactly like an off-chain one (:func:`node.claims.build_receipts`),
with the on-chain id.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from protocol import errors

from .chainio import NodeChain
from .claims import build_receipts
from .events import (
    ChainEvent,
    ClaimSlashed,
    InferenceRequested,
    RequestFinalized,
    RequestFulfilled,
    RequestRefunded,
)
from .metrics import NodeMetrics
from .records import OnchainRequestRecord, OnchainStatus
from .request_disputes import apply_claim_event
from .runtime import ModelRuntime
from .store import Store, StoreWriter

log = logging.getLogger(__name__)

CLAIM_SOURCE_REQUEST = 1


def ensure_serving(chain: NodeChain, model_ids: Sequence[bytes]) -> list[bytes]:
    """Calls ``serveModel`` for each model this node is not yet serving; returns those."""
    started: list[bytes] = []
    for model_id in model_ids:
        if not chain.is_registered(model_id):
            log.warning("model 0x%s is not registered: not serving it on-chain", model_id.hex())
            continue
        servers = chain.client.call(chain.market.market.functions.servers(model_id))
        if any(str(a).lower() == chain.address.lower() for a in servers):
            continue
        try:
            chain.send(chain.market.market.functions.serveModel(model_id))
        except errors.ServingUnchanged:
            continue
        started.append(model_id)
        log.info("serving on-chain requests of model 0x%s", model_id.hex())
    return started


def apply_event(
    w: StoreWriter, node: str, event: ChainEvent, metrics: NodeMetrics | None = None
) -> int | None:
    """
    Applies an on-chain request event inside the watcher's transaction: 1 if it concerned this
    node, 0 if not, None if ``event`` is not about on-chain requests (nor about the claim of one
    of this node's: :func:`node.request_disputes.apply_claim_event`).
    """
    if isinstance(event, InferenceRequested):
        if event.node.lower() != node.lower():
            return 0
        w.onchain_requested(
            request_id=event.request_id, model_id=event.model_id, client=event.client,
            fee=event.fee, deadline=event.deadline, input=event.input, block=event.block,
            tx_hash=event.tx_hash,
        )  # fmt: skip
        return 1
    if isinstance(event, RequestFulfilled):
        if event.node.lower() != node.lower():
            return 0
        w.onchain_fulfilled(event.request_id, tx_hash=event.tx_hash, block=event.block)
        return 1
    if isinstance(event, RequestFinalized):
        if event.node.lower() != node.lower():
            return 0
        return int(
            w.onchain_status(event.request_id, OnchainStatus.FINALIZED, tx_hash=event.tx_hash)
        )
    if isinstance(event, RequestRefunded):
        # Also emitted after a slash: a slashed request stays slashed (onchain_status).
        return int(
            w.onchain_status(event.request_id, OnchainStatus.REFUNDED, tx_hash=event.tx_hash)
        )
    if isinstance(event, ClaimSlashed) and event.source == CLAIM_SOURCE_REQUEST:
        if event.node.lower() != node.lower():
            return 0
        slashed = w.onchain_status(event.container_id, OnchainStatus.SLASHED, tx_hash=event.tx_hash)
        return max(int(slashed), apply_claim_event(w, node, event, metrics) or 0)
    return apply_claim_event(w, node, event, metrics)


class OnchainRequests:
    """Fulfils and finalizes the on-chain requests assigned to this node."""

    def __init__(
        self,
        store: Store,
        chain: NodeChain,
        runtime: ModelRuntime,
        *,
        max_per_tx: int = 64,
        metrics: NodeMetrics | None = None,
    ) -> None:
        self.store = store
        self.chain = chain
        self.runtime = runtime
        self.max_per_tx = max_per_tx
        self.metrics = metrics

    # ---- fulfilling ------------------------------------------------------------------------------

    def fulfil_once(self) -> list[int]:
        """Fulfils the pending requests still before their deadlines; returns their ids."""
        pending = self.store.onchain_requests(OnchainStatus.PENDING)
        if not pending:
            return []
        pending = self._recover(pending)
        self._compute([r for r in pending if r.output is None])
        _, now = self.chain.head()
        due: list[OnchainRequestRecord] = []
        for r in self.store.onchain_requests(OnchainStatus.PENDING):
            if r.output is None or r.trace_root is None:
                continue
            if now + 1 > r.deadline:
                log.debug("on-chain request %d is past its deadline; not fulfilling", r.request_id)
                continue
            due.append(r)
        done: list[int] = []
        for start in range(0, len(due), self.max_per_tx):
            done.extend(self._send(due[start : start + self.max_per_tx]))
        return done

    def _recover(self, pending: list[OnchainRequestRecord]) -> list[OnchainRequestRecord]:
        """Waits for ``fulfil`` transactions sent before a restart; returns the rest."""
        sent: dict[bytes, list[int]] = {}
        for r in pending:
            if r.fulfil_tx is not None:
                sent.setdefault(r.fulfil_tx, []).append(r.request_id)
        for tx_hash, ids in sent.items():
            with self.chain.lock:
                if not self.chain.tx_known(tx_hash):
                    self.store.onchain_fulfil_intent(ids, None)
                    continue
                self._await(ids, tx_hash)
        return [r for r in pending if r.fulfil_tx is None]

    def _compute(self, todo: list[OnchainRequestRecord]) -> None:
        by_model: dict[bytes, list[OnchainRequestRecord]] = {}
        for r in todo:
            by_model.setdefault(r.model_id, []).append(r)
        for model_id, requests in by_model.items():
            try:
                served = self.runtime.get(model_id)
                inputs = np.stack([np.frombuffer(r.input, dtype=np.int8) for r in requests])
                trace = self.runtime.run(model_id, inputs)
            except Exception as exc:
                log.error("cannot run on-chain requests of model 0x%s: %s", model_id.hex(), exc)
                continue
            rows = build_receipts(
                served,
                trace,
                [r.request_id for r in requests],
                node=self.chain.address,
                clients=[r.client for r in requests],
                created_at=requests[0].created_at,
            )
            self.store.onchain_set_results(rows)

    def _send(self, due: list[OnchainRequestRecord]) -> list[int]:
        ids = [r.request_id for r in due]
        fn = self.chain.market.market.functions.fulfil(
            ids,
            [r.output for r in due],
            [r.trace_root for r in due],
        )
        with self.chain.lock:
            signed = self.chain.sign(fn)
            self.store.onchain_fulfil_intent(ids, signed.tx_hash)
            self.chain.broadcast(signed)
            return self._await(ids, signed.tx_hash)

    def _await(self, ids: list[int], tx_hash: bytes) -> list[int]:
        try:
            receipt = self.chain.wait(tx_hash)
        except errors.OpzkError as exc:
            log.error("fulfil transaction 0x%s failed: %s", tx_hash.hex(), exc)
            self.store.onchain_fulfil_intent(ids, None)
            return []
        block = int(receipt["blockNumber"])
        self.store.onchain_mark_committed(
            ids, tx_hash=tx_hash, block=block, fulfilled_at=self.chain.block_timestamp(block)
        )
        if self.metrics is not None:
            self.metrics.gas_used.labels("fulfil").inc(int(receipt["gasUsed"]))
        log.info("fulfilled %d on-chain requests in 0x%s", len(ids), tx_hash.hex())
        return ids

    # ---- finalizing ------------------------------------------------------------------------------

    def finalize_due(self) -> list[int]:
        """Finalizes (``finalizeRequests``, one transaction) the fulfilled requests now due."""
        committed = self.store.onchain_requests(OnchainStatus.COMMITTED)
        if not committed:
            return []
        _, now = self.chain.head()
        window = self.chain.params.challenge_window
        due: list[int] = []
        for r in committed:
            fulfilled_at = r.fulfilled_at
            if fulfilled_at is None and r.fulfil_block is not None:
                fulfilled_at = self.chain.block_timestamp(r.fulfil_block)
            if fulfilled_at is not None and now >= fulfilled_at + window:
                due.append(r.request_id)
        if not due:
            return []
        try:
            tx = self.chain.send(self.chain.market.market.functions.finalizeRequests(due))
        except errors.OpzkError as exc:
            # One of them is not ready (a dispute, or someone else finalized it): one at a time.
            log.info("finalizeRequests of %d requests reverted (%s); trying each", len(due), exc)
            return [i for i in due if self._finalize([i])]
        self._finalized(due, bytes(tx["transactionHash"]), int(tx["gasUsed"]))
        return due

    def _finalize(self, ids: list[int]) -> bool:
        try:
            tx = self.chain.send(self.chain.market.market.functions.finalizeRequests(ids))
        except errors.OpzkError as exc:
            log.debug("on-chain requests %s not finalized: %s", ids, exc)
            return False
        self._finalized(ids, bytes(tx["transactionHash"]), int(tx["gasUsed"]))
        return True

    def _finalized(self, ids: list[int], tx_hash: bytes, gas: int) -> None:
        with self.store.writing() as w:
            for i in ids:
                w.onchain_status(i, OnchainStatus.FINALIZED, tx_hash=tx_hash)
        if self.metrics is not None:
            self.metrics.gas_used.labels("finalizeRequests").inc(gas)
        log.info("finalized %d on-chain requests", len(ids))
