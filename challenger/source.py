"""
Where the challenger gets receipts and trace vectors: the nodes' HTTP APIs.

Introduction
------------
:class:`TraceSource` is what the challenger needs from a node: the receipt leaves of a committed
batch in leaf order (``GET /v1/receipts?batch_id=…``, pages of at most :data:`PAGE`, the node's
largest page), one full receipt (``GET /v1/receipts/{request_id}``), one trace
(``GET /v1/traces/{request_id}``) and the trace of an on-chain request
(``GET /v1/requests/{request_id}/trace``: on-chain request ids are a separate id space, so
``/v1/traces/{id}`` would serve a different inference's trace). :class:`HttpTraceSource`
implements it over the node API (``node/api``) with the stdlib ``http.client`` on kept-alive
connections (one per thread and node), so no extra dependency is needed; tests and the benchmark
use :class:`MemoryTraceSource`. Nothing served is trusted: the caller checks the leaves against the
on-chain batch root and every vector against the committed trace root. A trace the node answers
with 404/410 (or without a vector, or with a body that is not the API's schema) counts as
withheld; a transport error, a 5xx, another 4xx or a body that is not JSON is
:class:`SourceUnavailableError` (retry later).

An on-chain request's claim needs nothing from the node but its intermediate vectors: the
request's input and claimed output are in the chain's events, so the challenger first rebuilds the
trace itself (see ``service``) and asks the node (``GET /v1/requests/{id}/trace``, which the
reference node serves, checked against the trace root its ``fulfil`` committed) only when that does
not match the committed root, or when a sensitive layer stops the rebuild short of the output.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from protocol.receipts import Receipt
from protocol.types import Hash32, ModelId, RequestId, to_address

log = logging.getLogger(__name__)
T = TypeVar("T")

PAGE = 100
"""Receipts per page when listing a batch (the node API's ``limit`` is at most 100)."""


class SourceUnavailableError(Exception):
    """The node could not be asked (transport error, 5xx): try again later."""


@dataclass(frozen=True)
class LeafInfo:
    """One receipt of a batch as listed: its request id and receipt leaf."""

    request_id: int
    leaf: bytes


@dataclass(frozen=True)
class ServedTrace:
    """
    A trace as a node served it: per index ``0..L`` the activation hash it claims was committed
    (``None`` if not given) and the vector (``None`` when hidden or withheld).
    """

    hashes: tuple[bytes | None, ...]
    vectors: tuple[npt.NDArray[np.int8] | None, ...]


class TraceSource(Protocol):
    """What the challenger asks of the nodes."""

    def batch_leaves(self, batch_id: int) -> Sequence[LeafInfo]:
        """The receipt leaves of batch ``batch_id`` in request-id order; ``[]`` if unknown."""
        ...

    def receipt(self, request_id: int) -> Receipt | None:
        """The full receipt, or None if the node does not serve it."""
        ...

    def trace(self, request_id: int) -> ServedTrace | None:
        """The served trace, or None if the node withholds it."""
        ...

    def request_trace(self, request_id: int) -> ServedTrace | None:
        """The served trace of on-chain request ``request_id``, or None if withheld."""
        ...


def _hex(value: str) -> bytes:
    return bytes.fromhex(value[2:] if value.startswith("0x") else value)


def receipt_from_api(d: dict[str, Any]) -> Receipt:
    """A ``ReceiptPublic`` body as a :class:`Receipt`."""
    return Receipt(
        request_id=RequestId(int(d["request_id"])),
        model_id=ModelId(Hash32(_hex(d["model_id"]))),
        input_hash=Hash32(_hex(d["input_hash"])),
        output_hash=Hash32(_hex(d["output_hash"])),
        trace_root=Hash32(_hex(d["trace_root"])),
        node=to_address(d["node"]),
        client=to_address(d["client"]),
    )


def trace_from_api(d: dict[str, Any]) -> ServedTrace:
    """A ``TracePublic`` body as a :class:`ServedTrace` (entries in index order)."""
    entries = sorted(d["vectors"], key=lambda e: int(e["index"]))
    hashes: list[bytes | None] = []
    vectors: list[npt.NDArray[np.int8] | None] = []
    for e in entries:
        h = e.get("activation_hash")
        hashes.append(_hex(h) if h else None)
        values = e.get("values")
        vectors.append(
            None
            if values is None or e.get("hidden")
            else np.asarray([int(v) for v in values], dtype=np.int64)
            .clip(-128, 127)
            .astype(np.int8)
        )
    return ServedTrace(tuple(hashes), tuple(vectors))


class HttpTraceSource:
    """
    :class:`TraceSource` over one or more node APIs (base URLs such as
    ``http://127.0.0.1:8000``); each question goes to the nodes in order until one answers.

    Connections are kept alive between requests (one per thread and node) and opened again once
    after a failure, so a node that restarted is reached on the next question.
    """

    def __init__(self, base_urls: Sequence[str], timeout: float = 10.0) -> None:
        self.base_urls = [u.rstrip("/") for u in base_urls]
        self.timeout = timeout
        self._local = threading.local()

    def _connection(self, base: str, fresh: bool = False) -> http.client.HTTPConnection:
        pool: dict[str, http.client.HTTPConnection] = self._local.__dict__.setdefault("pool", {})
        conn = pool.get(base)
        if conn is not None and not fresh:
            return conn
        if conn is not None:
            conn.close()
        url = urllib.parse.urlsplit(base)
        host = url.hostname or "127.0.0.1"
        if url.scheme == "https":
            conn = http.client.HTTPSConnection(host, url.port, timeout=self.timeout)
        else:
            conn = http.client.HTTPConnection(host, url.port, timeout=self.timeout)
        pool[base] = conn
        return conn

    def _fetch(self, base: str, path: str) -> tuple[int, bytes]:
        """Status and body of ``GET base/v1/path``, retried once on a fresh connection."""
        prefix = urllib.parse.urlsplit(base).path.rstrip("/")
        target = f"{prefix}/v1{path}"
        for attempt in range(2):
            conn = self._connection(base, fresh=attempt > 0)
            try:
                conn.request("GET", target, headers={"Accept": "application/json"})
                resp = conn.getresponse()
                body = resp.read()
            except (http.client.HTTPException, OSError):
                conn.close()
                if attempt:
                    raise
                continue
            if resp.will_close:
                conn.close()
            return resp.status, body
        raise AssertionError("unreachable")

    def _get(self, path: str) -> Any | None:
        """JSON of the first node that answers 2xx; None if every node says 404/410."""
        last: Exception | None = None
        for base in self.base_urls:
            try:
                status, body = self._fetch(base, path)
                if 200 <= status < 300:
                    return json.loads(body)
                if status in (404, 410):
                    continue
                last = RuntimeError(f"HTTP {status}: {body[:200]!r}")
            except (http.client.HTTPException, OSError, ValueError) as exc:
                last = exc
        if last is not None:
            raise SourceUnavailableError(f"no node answered {path}: {last}") from last
        return None

    def batch_leaves(self, batch_id: int) -> list[LeafInfo]:
        """
        Every page of ``GET /v1/receipts?batch_id=…``; a malformed page is
        :class:`SourceUnavailableError`.
        """
        leaves: list[LeafInfo] = []
        cursor: int | None = None
        seen: set[int] = set()
        while True:
            query = f"/receipts?batch_id={batch_id}&limit={PAGE}"
            if cursor is not None:
                query += f"&cursor={cursor}"
            body = self._get(query)
            if body is None:
                return leaves
            try:
                for item in body["data"]:
                    leaves.append(LeafInfo(int(item["request_id"]), _hex(item["receipt_leaf"])))
                cursor = None if body.get("next_cursor") is None else int(body["next_cursor"])
            except (KeyError, TypeError, ValueError) as exc:
                raise SourceUnavailableError(f"malformed receipts page: {exc!r}") from exc
            if cursor is None:
                return leaves
            if cursor in seen:  # a node that pages in circles
                raise SourceUnavailableError(f"receipts page cursor {cursor} repeats")
            seen.add(cursor)

    def receipt(self, request_id: int) -> Receipt | None:
        """``GET /v1/receipts/{request_id}`` (a malformed body counts as not served)."""
        body = self._get(f"/receipts/{request_id}")
        return None if body is None else _parsed(receipt_from_api, body)

    def trace(self, request_id: int) -> ServedTrace | None:
        """``GET /v1/traces/{request_id}`` (a malformed body counts as withheld)."""
        body = self._get(f"/traces/{request_id}")
        return None if body is None else _parsed(trace_from_api, body)

    def request_trace(self, request_id: int) -> ServedTrace | None:
        """``GET /v1/requests/{request_id}/trace`` (None where the node does not serve it)."""
        body = self._get(f"/requests/{request_id}/trace")
        return None if body is None else _parsed(trace_from_api, body)


def _parsed(parse: Callable[[dict[str, Any]], T], body: Any) -> T | None:
    """``parse(body)``, or None when a node served something else than the API's schema."""
    try:
        return parse(body)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        log.warning("node served a malformed body (%r); treating it as withheld", exc)
        return None


class MemoryTraceSource:
    """
    An in-process :class:`TraceSource` fed directly with committed claims (the benchmark, and tests
    that do not run a node). ``withheld`` holds ``(request_id, index)`` pairs whose vector is
    hidden, as a cheating node would; ``request_traces`` the traces served for on-chain requests.
    """

    def __init__(self) -> None:
        self.batches: dict[int, list[LeafInfo]] = {}
        self.receipts: dict[int, Receipt] = {}
        self.traces: dict[int, ServedTrace] = {}
        self.request_traces: dict[int, ServedTrace] = {}
        self.withheld: set[tuple[int, int]] = set()

    def add_batch(
        self,
        batch_id: int,
        receipts: Sequence[Receipt],
        leaves: Sequence[bytes],
        traces: Sequence[tuple[Sequence[bytes], Sequence[npt.NDArray[np.int8] | None]]],
    ) -> None:
        """Serves a committed batch: its receipts (leaf order), leaves and traces."""
        self.batches[batch_id] = [
            LeafInfo(int(r.request_id), bytes(leaf))
            for r, leaf in zip(receipts, leaves, strict=True)
        ]
        for r, (hashes, vectors) in zip(receipts, traces, strict=True):
            self.receipts[int(r.request_id)] = r
            self.traces[int(r.request_id)] = ServedTrace(
                tuple(bytes(h) for h in hashes), tuple(vectors)
            )

    def batch_leaves(self, batch_id: int) -> list[LeafInfo]:
        return list(self.batches.get(batch_id, []))

    def receipt(self, request_id: int) -> Receipt | None:
        return self.receipts.get(request_id)

    def trace(self, request_id: int) -> ServedTrace | None:
        served = self.traces.get(request_id)
        if served is None:
            return None
        vectors = tuple(
            None if (request_id, i) in self.withheld else v for i, v in enumerate(served.vectors)
        )
        return ServedTrace(served.hashes, vectors)

    def request_trace(self, request_id: int) -> ServedTrace | None:
        return self.request_traces.get(request_id)
