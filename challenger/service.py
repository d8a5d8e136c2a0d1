"""
The challenger's jobs, and the service that schedules them.

Introduction
------------
:class:`Challenger` holds the parts (state, watcher, trace source, re-executor, sampler,
responder) and exposes one method per job; each is safe to call at any time and any number of
times (tests call them directly instead of sleeping):

- :meth:`Challenger.watch` — events from the cursor into the state;
- :meth:`Challenger.list_batches` — the receipt leaves of new batches from the node API, checked
  against the on-chain root; each claim is sampled (secret-keyed, see ``sampling``). A batch the
  node does not list yet (it may not have recorded its own commit) is asked again with
  exponential backoff until its challenge window closes;
- :meth:`Challenger.list_requests` — the claims of fulfilled on-chain requests (source
  ``Request``), built from the chain's events alone (``InferenceRequested`` gives the model,
  input, node and client, ``RequestFulfilled`` the output hash and trace root) and sampled the
  same way;
- :meth:`Challenger.reexecute` — receipts and traces of sampled claims, checked against the
  committed trace root, re-executed in batches (:class:`~challenger.reexec.ReExecutor`). For an
  on-chain request the challenger first rebuilds the trace itself from the on-chain input (and
  the claimed output): when that rebuilds the committed root it holds every committed vector
  without asking the node; otherwise it asks the node for the request's trace, and what is still
  missing is challenged for data availability;
- :meth:`Challenger.act` — :func:`~challenger.solver.decide` per active claim and
  :class:`~challenger.responder.Responder` for the result, until it says ``Wait``/``Ignore``. A
  claim drawn at ``p_zk`` (with ``proofs_enabled``) is demanded a proof of each sensitive
  partition once its receipt is known (a batch claim's receipt comes from the node; its trace is
  not needed), and stays active until the demand is answered or, past its deadline, resolved;
- :meth:`Challenger.claim_credits` — withdraw StakeManager credits past the threshold.

:func:`run_service` builds a challenger from :class:`~challenger.config.ChallengerSettings`
(refusing one that breaks the PoSP condition or uses an Anvil key off Anvil) and runs the jobs with
apscheduler on one worker thread (jobs never overlap, so one SQLite connection suffices) until
SIGINT/SIGTERM, then shuts down cleanly.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from opzk.marketplace import Marketplace
from protocol.activations import act_hash
from protocol.economics import PospCheck, check_posp, default_cheat_gain
from protocol.merkle import MerkleTree
from protocol.model import QuantizedModel
from protocol.params import MarketParams
from protocol.receipts import (
    CLAIM_SOURCE_BATCH,
    CLAIM_SOURCE_REQUEST,
    Receipt,
    claim_key,
    receipt_leaf,
)
from protocol.trace import trace_activation_hashes, trace_root
from protocol.types import ZERO_HASH, Hash32, ModelId, RequestId, to_address

from .reexec import ReExecutor
from .responder import Outcome, Responder
from .sampling import Sampler
from .solver import (
    ClaimCredits,
    Ignore,
    Observation,
    SolverParams,
    TraceStatus,
    Wait,
    WrongAt,
    decide,
    decide_credits,
)
from .source import ServedTrace, SourceUnavailableError, TraceSource
from .state import DATA, PROOF, ChallengerState, ClaimRow, RequestRow
from .watcher import EventSource, Watcher

log = logging.getLogger(__name__)

MAX_STEPS_PER_CLAIM = 32
"""Actions taken for one claim in one round at most (each one changes what ``decide`` sees)."""

NEVER = 1e18
"""A retry time that never comes (wall clock, seconds)."""


@dataclass(frozen=True)
class CheckedTrace:
    """A trace after checking what was served against the commitments."""

    hashes: tuple[Hash32, ...] | None
    """The committed activation hashes, when known (they rebuild the receipt's trace root)."""
    vectors: tuple[npt.NDArray[np.int8] | None, ...]
    """Public vectors that match their committed hash (None where hidden or missing)."""
    missing: tuple[int, ...]
    endpoint_fraud: int | None


def check_trace(
    model: QuantizedModel,
    receipt: Receipt,
    served: ServedTrace | None,
    published: Mapping[int, bytes],
) -> CheckedTrace:
    """
    What of a served trace can be trusted.

    Must hold: a vector is kept only if it hashes to its committed activation hash (or was
    published on-chain, where the contract checked it); hashes are kept only if they rebuild
    ``receipt.trace_root``; ``missing`` lists every public index without a kept vector;
    ``endpoint_fraud`` is 0 (or L) when the committed entry 0 (or L) is not the receipt's input
    (or output) hash.
    """
    last = len(model.layers)
    hidden = model.hidden_indices()
    public = [i for i in range(last + 1) if i not in hidden]
    hashes: list[Hash32] | None = None
    if served is not None and len(served.hashes) == last + 1:
        cand = [Hash32(bytes(h)) if h is not None else None for h in served.hashes]
        if all(h is not None for h in cand) and all(cand[i] == ZERO_HASH for i in hidden):
            full = [h for h in cand if h is not None]
            if trace_root(full) == receipt.trace_root:
                hashes = full
    offered: list[npt.NDArray[np.int8] | None] = [None] * (last + 1)
    for i in public:
        if i in published:
            offered[i] = np.frombuffer(published[i], dtype=np.int8).copy()
        elif served is not None and i < len(served.vectors) and served.vectors[i] is not None:
            offered[i] = served.vectors[i]
    if hashes is None and all(offered[i] is not None for i in public):
        cand2 = trace_activation_hashes(offered, hidden)
        if trace_root(cand2) == receipt.trace_root:
            hashes = cand2
    vectors: list[npt.NDArray[np.int8] | None] = [None] * (last + 1)
    for i in public:
        v = offered[i]
        if v is None:
            continue
        if (hashes is not None and act_hash(v) == hashes[i]) or (hashes is None and i in published):
            vectors[i] = v
    missing = tuple(i for i in public if vectors[i] is None)
    endpoint = None
    if hashes is not None:
        if hashes[0] != receipt.input_hash:
            endpoint = 0
        elif hashes[last] != receipt.output_hash:
            endpoint = last
    return CheckedTrace(
        None if hashes is None else tuple(hashes), tuple(vectors), missing, endpoint
    )


@dataclass(frozen=True)
class _Fetched:
    """What a node served for one batch claim."""

    claim: ClaimRow
    receipt_failed: bool
    """The receipt could not be asked (transport error): try again later."""
    receipt: Receipt | None = None
    """The receipt, when served and matching the claim's leaf."""
    trace_failed: bool = False
    """The trace could not be asked (transport error)."""
    served: ServedTrace | None = None
    """The trace as served (None: withheld)."""


class Challenger:
    """
    One challenger: its state, its view of the chain and the nodes, and its jobs.

    Parameters
    ----------
    market :
        The marketplace acting as the challenger's account.
    state :
        The persisted state.
    source :
        Where receipts and traces come from (the node API).
    events :
        Where events come from (:class:`~challenger.watcher.Web3EventSource` in production).
    models :
        The models this challenger can re-execute, by model id.
    sampler :
        The secret-keyed sampling rules.
    solver_params :
        Tuning of :func:`~challenger.solver.decide`.
    credit_threshold :
        Withdraw StakeManager credits once they reach this many wei.
    fetch_attempts :
        Tries to fetch a claim's receipt and trace before counting it withheld.
    device :
        Torch device for re-execution.
    start_block :
        Where an empty state starts following events.
    max_block_range :
        Largest ``eth_getLogs`` range.
    retry_backoff_s, max_retry_backoff_s :
        A failed fetch from a node is retried after ``retry_backoff_s · 2^k`` seconds (``k``
        failures so far), at most ``max_retry_backoff_s``.
    clock :
        Wall clock for those retries (injected by tests).
    fetch_concurrency :
        Receipts and traces fetched from the nodes at once (threads).
    max_claims_per_round :
        Claims fetched and re-executed in one round of :meth:`reexecute` at most.
    """

    def __init__(
        self,
        *,
        market: Marketplace,
        state: ChallengerState,
        source: TraceSource,
        events: EventSource,
        models: Mapping[bytes, QuantizedModel],
        sampler: Sampler,
        solver_params: SolverParams | None = None,
        credit_threshold: int = 10**17,
        fetch_attempts: int = 5,
        device: str = "auto",
        start_block: int = 0,
        max_block_range: int = 2_000,
        retry_backoff_s: float = 1.0,
        max_retry_backoff_s: float = 30.0,
        clock: Callable[[], float] = time.time,
        fetch_concurrency: int = 8,
        max_claims_per_round: int = 4096,
    ) -> None:
        self.market = market
        self.params: MarketParams = market.deployment.params
        self.state = state
        self.source = source
        self.models = dict(models)
        self.sampler = sampler
        self.solver_params = solver_params or SolverParams()
        self.credit_threshold = credit_threshold
        self.fetch_attempts = fetch_attempts
        self.watcher = Watcher(
            events,
            state,
            self.params.challenge_window,
            start_block=start_block,
            max_range=max_block_range,
        )
        self.retry_backoff_s = retry_backoff_s
        self.max_retry_backoff_s = max_retry_backoff_s
        self.clock = clock
        self.fetch_concurrency = fetch_concurrency
        self.max_claims_per_round = max_claims_per_round
        self.responder = Responder(market, state, self.models)
        self._reexec = {mid: ReExecutor(m, device) for mid, m in self.models.items()}

    @property
    def me(self) -> str:
        """The challenger's address."""
        return self.market.address

    def now(self) -> int:
        """The latest block's timestamp (the contracts' clock)."""
        return int(self.market.client.w3.eth.get_block("latest")["timestamp"])

    # ---- jobs ------------------------------------------------------------------------------------

    def watch(self) -> int:
        """Job: apply new events; returns how many."""
        return self.watcher.poll()

    def _retry_at(self, failures: int) -> float:
        """Wall-clock time of the next try after ``failures`` failed ones."""
        delay = min(self.retry_backoff_s * 2.0 ** max(failures - 1, 0), self.max_retry_backoff_s)
        return self.clock() + delay

    def _claim_row(
        self,
        key: bytes,
        source: int,
        container_id: int,
        leaf_index: int,
        request_id: int,
        leaf: bytes,
        node: str,
        window_end: int,
        receipt: Receipt | None,
        proof: tuple[Hash32, ...] | None,
    ) -> ClaimRow:
        sampled = self.sampler.reexec(key)
        zk = self.sampler.zk(key)
        return ClaimRow(
            claim_key=key,
            source=source,
            container_id=container_id,
            leaf_index=leaf_index,
            request_id=request_id,
            leaf=leaf,
            node=node,
            window_end=window_end,
            sampled=sampled,
            zk_sampled=zk,
            receipt=receipt,
            proof=proof if sampled or zk else None,
            trace_status=TraceStatus.PENDING,
            hashes=None,
            vectors=None,
            missing=(),
            endpoint_fraud=None,
            wrong=None,
            fetch_attempts=0,
            settled=not (sampled or zk),
        )

    def list_batches(self) -> int:
        """
        Job: list and sample the claims of new batches; returns how many claims were listed.

        Must hold: a batch is listed only with leaves that rebuild its on-chain root and count; a
        failed listing is retried (with backoff) while the batch's challenge window is open.
        """
        batches = self.state.unlisted_batches(now=self.clock())
        if not batches:
            return 0
        window = self.params.challenge_window
        open_after = self.now() - window
        listed = 0
        for batch in batches:
            if batch.committed_at <= open_after:
                # Too late to dispute anything in it: never asked again.
                self.state.batch_listing_failed(batch.batch_id, "challenge window closed", NEVER)
                self.state.bump("batches_expired_unlisted")
                continue
            try:
                leaves = list(self.source.batch_leaves(batch.batch_id))
            except SourceUnavailableError as exc:
                self.state.batch_listing_failed(
                    batch.batch_id, str(exc), self._retry_at(batch.attempts + 1)
                )
                continue
            raw = [bytes(x.leaf) for x in leaves]
            if len(raw) != batch.count or MerkleTree.from_leaves(raw).root != batch.root:
                self.state.batch_listing_failed(
                    batch.batch_id,
                    f"served {len(raw)} leaves that do not rebuild the root",
                    self._retry_at(batch.attempts + 1),
                )
                self.state.bump("batches_unlisted")
                continue
            tree = MerkleTree.from_leaves(raw)
            window_end = batch.committed_at + window
            rows: list[ClaimRow] = []
            for index, info in enumerate(leaves):
                key = claim_key(CLAIM_SOURCE_BATCH, batch.batch_id, raw[index])
                rows.append(
                    self._claim_row(
                        key,
                        CLAIM_SOURCE_BATCH,
                        batch.batch_id,
                        index,
                        info.request_id,
                        raw[index],
                        batch.node,
                        window_end,
                        None,
                        tuple(tree.proof(index)),
                    )
                )
            self.state.add_claims(batch.batch_id, rows)
            self.state.bump("claims_listed", len(rows))
            self.state.bump("claims_sampled", sum(r.sampled for r in rows))
            self.state.bump("claims_zk_sampled", sum(r.zk_sampled for r in rows))
            listed += len(rows)
        return listed

    def _request_receipt(self, req: RequestRow) -> Receipt | None:
        """
        The receipt an on-chain request's fulfilment claims, from the chain alone: the request's
        fields from ``InferenceRequested`` (or the market's ``request`` view when that event was
        not seen), the result from ``RequestFulfilled``.
        """
        if req.output_hash is None or req.trace_root is None:
            return None
        if req.model_id is not None and req.input is not None and req.client is not None:
            model_id, input_hash = req.model_id, bytes(act_hash(req.input))
            node, client = req.node, req.client
        else:
            view = self.market.client.call(self.market.market.functions.request(req.request_id))
            client, node = str(view[0]), str(view[2])
            model_id, input_hash = bytes(view[6]), bytes(view[7])
        if node is None:
            return None
        return Receipt(
            request_id=RequestId(req.request_id),
            model_id=ModelId(Hash32(model_id)),
            input_hash=Hash32(input_hash),
            output_hash=Hash32(req.output_hash),
            trace_root=Hash32(req.trace_root),
            node=to_address(node),
            client=to_address(client),
        )

    def list_requests(self) -> int:
        """
        Job: list and sample the claims of fulfilled on-chain requests; returns how many.

        Must hold: the claim key is the market's (``claimKey(Request, requestId, receiptLeaf)``
        of the receipt the fulfilment committed to); a claim is sampled with the same rule as a
        batch claim.
        """
        rows: list[ClaimRow] = []
        ids: list[int] = []
        window = self.params.challenge_window
        for req in self.state.unlisted_requests():
            receipt = self._request_receipt(req)
            ids.append(req.request_id)
            if receipt is None or req.fulfilled_at is None:
                continue
            leaf = bytes(receipt_leaf(receipt))
            key = claim_key(CLAIM_SOURCE_REQUEST, req.request_id, leaf)
            rows.append(
                self._claim_row(
                    key,
                    CLAIM_SOURCE_REQUEST,
                    req.request_id,
                    0,
                    req.request_id,
                    leaf,
                    str(receipt.node),
                    req.fulfilled_at + window,
                    receipt,
                    (),
                )
            )
        if ids:
            self.state.add_request_claims(ids, rows)
            self.state.bump("claims_listed", len(rows))
            self.state.bump("requests_listed", len(rows))
            self.state.bump("claims_sampled", sum(r.sampled for r in rows))
            self.state.bump("claims_zk_sampled", sum(r.zk_sampled for r in rows))
        return len(rows)

    def _honest_traces(
        self, model_id: bytes, inputs: Sequence[npt.NDArray[np.int8]]
    ) -> list[list[npt.NDArray[np.int8] | None]]:
        """
        The honest public trace of each input, as far as the challenger can compute it: every
        public layer up to the first sensitive one (``None`` from there on).
        """
        model = self.models[model_id]
        last = len(model.layers)
        traces: list[list[npt.NDArray[np.int8] | None]] = [[x, *([None] * last)] for x in inputs]
        if not inputs:
            return traces
        if any(len(x) != model.layers[0].in_dim for x in inputs):
            return [[None] * (last + 1) for _ in inputs]
        current = np.stack(inputs).astype(np.int8)
        for layer in range(1, last + 1):
            if model.is_sensitive_layer(layer):
                break
            current = self._reexec[model_id].expected(layer, current)
            for t, row in zip(traces, current, strict=True):
                t[layer] = row.copy()
        return traces

    def _request_candidates(
        self,
        req: RequestRow | None,
        honest: Sequence[npt.NDArray[np.int8] | None] | None,
        last: int,
    ) -> list[tuple[npt.NDArray[np.int8] | None, ...]]:
        """
        Traces the node may have committed for an on-chain request: the honest one, and the
        honest one ending in the output the fulfilment published.
        """
        if honest is None:
            return []
        out: list[tuple[npt.NDArray[np.int8] | None, ...]] = [tuple(honest)]
        if req is not None and req.output is not None and honest[last - 1] is not None:
            claimed = np.frombuffer(req.output, dtype=np.int8).copy()
            h_last = honest[last]
            if h_last is None or not np.array_equal(claimed, h_last):
                out.append((*honest[:last], claimed))
        return out

    def _check_request(
        self,
        model: QuantizedModel,
        receipt: Receipt,
        candidates: Sequence[Sequence[npt.NDArray[np.int8] | None]],
        served: ServedTrace | None,
        published: Mapping[int, bytes],
    ) -> CheckedTrace:
        """The first of ``candidates`` (then ``served``) that rebuilds the committed root."""
        nothing = (None,) * (len(model.layers) + 1)
        for cand in candidates:
            checked = check_trace(model, receipt, ServedTrace(nothing, tuple(cand)), published)
            if checked.hashes is not None:
                return checked
        return check_trace(model, receipt, served, published)

    def reexecute(self) -> int:
        """
        Job: fetch and check the traces of sampled claims, re-executed in batches per model.

        Must hold: a vector is used only once checked against the committed trace root (or
        published on-chain); a failed fetch is retried with backoff, at most ``fetch_attempts``
        times, before the trace counts as withheld.
        """
        todo: dict[bytes, list[tuple[ClaimRow, Receipt, CheckedTrace]]] = {}
        claims = self.state.claims_to_fetch(
            self.fetch_attempts, now=self.clock(), limit=self.max_claims_per_round
        )
        requests = [c for c in claims if c.source == CLAIM_SOURCE_REQUEST]
        batched = [c for c in claims if c.source != CLAIM_SOURCE_REQUEST]
        for item in self._fetch_requests(requests):
            todo.setdefault(bytes(item[1].model_id), []).append(item)
        if len(batched) > 1 and self.fetch_concurrency > 1:
            with ThreadPoolExecutor(self.fetch_concurrency, "challenger-fetch") as pool:
                fetched = list(pool.map(self._fetch_batch_claim, batched))
        else:
            fetched = [self._fetch_batch_claim(c) for c in batched]
        with self.state.transaction():
            for got in fetched:
                checked_item = self._checked_batch_claim(got)
                if checked_item is not None:
                    todo.setdefault(bytes(checked_item[1].model_id), []).append(checked_item)
        done = 0
        for model_id, items in todo.items():
            wrongs = self._reexec[model_id].first_wrong(
                [
                    c.vectors if c.hashes is not None else [None] * len(c.vectors)
                    for _, _, c in items
                ]
            )
            with self.state.transaction():
                for (claim, _, checked), wrong in zip(items, wrongs, strict=True):
                    self._store(claim.claim_key, checked, wrong)
                    done += 1
        self.state.bump("reexecuted", done)
        return done

    def _fetch_batch_claim(self, claim: ClaimRow) -> _Fetched:
        """
        The receipt and trace of a batch claim as the node serves them (no state access: runs
        on the fetch threads).
        """
        try:
            receipt = self.source.receipt(claim.request_id)
        except SourceUnavailableError:
            return _Fetched(claim, receipt_failed=True)
        if receipt is None or receipt_leaf(receipt) != claim.leaf:
            return _Fetched(claim, receipt_failed=False)
        if bytes(receipt.model_id) not in self.models:
            return _Fetched(claim, receipt_failed=False, receipt=receipt)
        try:
            served = self.source.trace(claim.request_id)
        except SourceUnavailableError:
            return _Fetched(claim, receipt_failed=False, receipt=receipt, trace_failed=True)
        return _Fetched(claim, receipt_failed=False, receipt=receipt, served=served)

    def _checked_batch_claim(self, got: _Fetched) -> tuple[ClaimRow, Receipt, CheckedTrace] | None:
        """Records a fetch's outcome; the checked trace when there is one to re-execute."""
        claim = got.claim
        last_try = claim.fetch_attempts + 1 >= self.fetch_attempts
        retry_at = self._retry_at(claim.fetch_attempts + 1)
        if got.receipt_failed:
            self.state.fetch_failed(claim.claim_key, retry_at)
            return None
        receipt = got.receipt
        if receipt is None:
            # Without the receipt's fields no dispute can name the claim.
            self.state.fetch_failed(claim.claim_key, retry_at)
            if last_try:
                self.state.bump("receipts_withheld")
                self.state.settle(claim.claim_key)
            return None
        model = self.models.get(bytes(receipt.model_id))
        if model is None:
            self.state.bump("unknown_model")
            self.state.settle(claim.claim_key)
            return None
        assert claim.proof is not None
        self.state.set_claim_details(claim.claim_key, receipt, claim.proof)
        if got.trace_failed:
            self.state.fetch_failed(claim.claim_key, retry_at)
            if not last_try:
                return None
        checked = check_trace(model, receipt, got.served, self.state.published_of(claim.claim_key))
        return claim, receipt, checked

    def _fetch_requests(
        self, claims: Sequence[ClaimRow]
    ) -> list[tuple[ClaimRow, Receipt, CheckedTrace]]:
        """
        Checked traces of sampled on-chain request claims: rebuilt locally from the on-chain
        input when possible (no node needed), else as the node serves them.
        """
        by_model: dict[bytes, list[tuple[ClaimRow, Receipt, RequestRow | None]]] = {}
        for claim in claims:
            receipt = claim.receipt
            assert receipt is not None  # built from the chain when listed
            if bytes(receipt.model_id) not in self.models:
                self.state.bump("unknown_model")
                self.state.settle(claim.claim_key)
                continue
            req = self.state.request(claim.request_id)
            by_model.setdefault(bytes(receipt.model_id), []).append((claim, receipt, req))
        out: list[tuple[ClaimRow, Receipt, CheckedTrace]] = []
        for model_id, items in by_model.items():
            model = self.models[model_id]
            last = len(model.layers)
            known = [
                (i, np.frombuffer(req.input, dtype=np.int8).copy())
                for i, (_, _, req) in enumerate(items)
                if req is not None and req.input is not None
            ]
            honest_of: dict[int, list[npt.NDArray[np.int8] | None]] = dict(
                zip(
                    (i for i, _ in known),
                    self._honest_traces(model_id, [x for _, x in known]),
                    strict=True,
                )
            )
            for i, (claim, receipt, req) in enumerate(items):
                published = self.state.published_of(claim.claim_key)
                candidates = self._request_candidates(req, honest_of.get(i), last)
                checked = self._check_request(model, receipt, candidates, None, published)
                if checked.hashes is None:
                    try:
                        served = self.source.request_trace(claim.request_id)
                    except SourceUnavailableError:
                        self.state.fetch_failed(
                            claim.claim_key, self._retry_at(claim.fetch_attempts + 1)
                        )
                        if claim.fetch_attempts + 1 < self.fetch_attempts:
                            continue
                        served = None
                    checked = self._check_request(model, receipt, (), served, published)
                else:
                    self.state.bump("requests_rebuilt")
                out.append((claim, receipt, checked))
        return out

    def _store(self, key: bytes, checked: CheckedTrace, wrong: Any) -> None:
        at = None if wrong is None else WrongAt(wrong.layer, wrong.row, wrong.wrong_length)
        self.state.set_trace(
            key,
            checked.hashes or [],
            checked.vectors,
            checked.missing,
            checked.endpoint_fraud,
            at if checked.hashes is not None else None,
        )

    def _recheck(self, claim: ClaimRow) -> ClaimRow:
        """Re-evaluates a claim after vectors it lacked were published on-chain."""
        published = self.state.published_of(claim.claim_key)
        if claim.receipt is None or not set(published) & set(claim.missing):
            return claim
        model_id = bytes(claim.receipt.model_id)
        model = self.models[model_id]
        served = ServedTrace(
            tuple(claim.hashes) if claim.hashes else (),
            claim.vectors or (),
        )
        if claim.source == CLAIM_SOURCE_REQUEST:
            req = self.state.request(claim.request_id)
            honest = None
            if req is not None and req.input is not None:
                (honest,) = self._honest_traces(
                    model_id, [np.frombuffer(req.input, dtype=np.int8).copy()]
                )
            candidates = self._request_candidates(req, honest, len(model.layers))
            checked = self._check_request(model, claim.receipt, candidates, served, published)
        else:
            checked = check_trace(model, claim.receipt, served, published)
        wrong = None
        if checked.hashes is not None:
            (wrong,) = self._reexec[bytes(claim.receipt.model_id)].first_wrong([checked.vectors])
        self._store(claim.claim_key, checked, wrong)
        fresh = self.state.claim(claim.claim_key)
        assert fresh is not None
        return fresh

    def observe(self, claim: ClaimRow) -> Observation:
        """The solver's view of a stored claim."""
        partitions: tuple[int, ...] = ()
        known = claim.receipt is not None and (
            claim.proof is not None or claim.source == CLAIM_SOURCE_REQUEST
        )
        if claim.receipt is not None and bytes(claim.receipt.model_id) in self.models:
            model = self.models[bytes(claim.receipt.model_id)]
            partitions = tuple(i for i, p in enumerate(model.partitions) if p.sensitive)
        return Observation(
            claim_key=claim.claim_key,
            window_end=claim.window_end,
            sampled=claim.sampled,
            # Drawn at p_zk: it stays so until the receipt says whether the model has sensitive
            # partitions (a model without any is never demanded).
            zk_sampled=claim.zk_sampled and (bool(partitions) or claim.receipt is None),
            claim_known=known,
            slashed=self.state.is_slashed(claim.claim_key),
            trace=claim.trace_status,
            missing=claim.missing,
            endpoint_fraud=claim.endpoint_fraud,
            wrong=claim.wrong,
            sensitive_partitions=partitions,
            data_challenges=self.state.disputes_of(claim.claim_key, DATA, self.me),
            proof_demands=self.state.disputes_of(claim.claim_key, PROOF, self.me),
            done=self.state.done_keys(claim.claim_key),
        )

    def act(self) -> list[Outcome]:
        """Job: decide and act on every active claim; returns the outcomes of sent actions."""
        now = self.now()
        outcomes: list[Outcome] = []
        for claim in self.state.active_claims():
            current: ClaimRow | None = self._recheck(claim) if claim.missing else claim
            for _ in range(MAX_STEPS_PER_CLAIM):
                assert current is not None
                action = decide(self.observe(current), now, self.solver_params)
                if isinstance(action, Ignore):
                    self.state.settle(current.claim_key)
                    break
                if isinstance(action, Wait):
                    break
                outcome = self.responder.execute(action, current)
                outcomes.append(outcome)
                if outcome.status.startswith("retry"):
                    break
                current = self.state.claim(current.claim_key)
        return outcomes

    def claim_credits(self) -> Outcome | None:
        """Job: withdraw StakeManager credits once they reach the threshold."""
        credits = self.market.stake_credits(self.me)
        action = decide_credits(credits, self.credit_threshold)
        if isinstance(action, ClaimCredits):
            return self.responder.execute(action)
        return None

    def tick(self) -> list[Outcome]:
        """All jobs once, in order (what one scheduler round does)."""
        self.watch()
        self.list_batches()
        self.list_requests()
        self.reexecute()
        outcomes = self.act()
        self.watch()
        credit = self.claim_credits()
        return outcomes + ([credit] if credit is not None else [])

    def summary(self) -> dict[str, int]:
        """Counters for logs and the demo."""
        out = dict(self.state.counters())
        out["open_disputes"] = self.state.open_disputes(self.me)
        out["slashed_seen"] = self.state.slashed_count()
        return out


# ---- building and running ------------------------------------------------------------------------


def posp_check_for(settings: Any, params: MarketParams) -> PospCheck:
    """The PoSP check of a challenger's settings against its deployment's preset."""
    gain = settings.cheat_gain if settings.cheat_gain is not None else default_cheat_gain(params)
    return check_posp(params, settings.sampling_probability, settings.colluding_share, gain)


def build_challenger(settings: Any) -> Challenger:
    """
    A :class:`Challenger` from :class:`~challenger.config.ChallengerSettings`.

    Raises
    ------
    ChallengerConfigError
        For an Anvil dev key off Anvil, or a (preset, p, r, C) that breaks the PoSP condition
        (the message names the parameter to change).
    """
    from deploy.deployments import default_path, load_deployment
    from models.store import load_model
    from opzk.chain import connect
    from protocol.economics import PospViolationError

    from .config import ChallengerConfigError, check_key_for_chain
    from .source import HttpTraceSource
    from .watcher import Web3EventSource

    client = connect(settings.rpc_url, settings.private_key.get_secret_value())
    check_key_for_chain(settings, client.chain_id)
    deployment = load_deployment(settings.deployments or default_path(client.chain_id))
    check = posp_check_for(settings, deployment.params)
    if not check.ok:
        raise ChallengerConfigError(
            f"refusing to start: {PospViolationError(check.message)} (preset {deployment.preset!r})"
        )
    log.info("challenger: %s", check.message)
    market = Marketplace(deployment, client)
    models: dict[bytes, QuantizedModel] = {}
    for path in settings.models:
        model = load_model(Path(path))
        models[bytes(model.model_id())] = model
    contracts = {
        name: market._contract(name)
        for name in ("InferenceMarket", "DataAvailabilityGame", "ProofDemandGame")
    }
    return Challenger(
        market=market,
        state=ChallengerState(settings.state_path),
        source=HttpTraceSource(settings.node_urls),
        events=Web3EventSource(client.w3, contracts),
        models=models,
        sampler=Sampler(settings.secret_bytes(), settings.sampling_probability, settings.p_zk),
        solver_params=SolverParams(settings.window_margin, settings.proofs_enabled),
        credit_threshold=settings.credit_threshold,
        fetch_attempts=settings.fetch_attempts,
        device=settings.device,
        start_block=deployment.start_block,
        max_block_range=settings.max_block_range,
    )


def _guarded(name: str, fn: Any) -> Any:
    def job() -> None:
        try:
            fn()
        except Exception:  # a job must never kill the scheduler
            log.exception("challenger: job %s failed; it runs again next round", name)

    return job


def run_service(
    challenger: Challenger, poll_interval: float, stop: threading.Event | None = None
) -> None:
    """
    Runs the jobs every ``poll_interval`` seconds on one worker thread until ``stop`` is set or
    SIGINT/SIGTERM arrives; then waits for the running job and closes the state.
    """
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler

    stop = stop or threading.Event()
    scheduler = BackgroundScheduler(executors={"default": ThreadPoolExecutor(1)})
    jobs: Sequence[tuple[str, Any]] = (
        ("watch", challenger.watch),
        ("list", challenger.list_batches),
        ("list-requests", challenger.list_requests),
        ("reexecute", challenger.reexecute),
        ("act", challenger.act),
        ("credits", challenger.claim_credits),
    )
    for name, fn in jobs:
        scheduler.add_job(
            _guarded(name, fn),
            "interval",
            seconds=poll_interval,
            id=name,
            max_instances=1,
            coalesce=True,
        )
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    scheduler.start()
    log.info("challenger %s running every %.1f s", challenger.me, poll_interval)
    try:
        stop.wait()
    finally:
        scheduler.shutdown(wait=True)
        log.info("challenger stopped: %s", challenger.summary())
        challenger.state.close()


__all__ = ["Challenger", "build_challenger", "check_trace", "claim_key", "run_service"]
