"""
Where the challenger gets receipts and trace vectors: the nodes' HTTP APIs.

Introduction
------------
:class:`TraceSource` is what the challenger needs from a node: the receipt leaves of a committed
batch in leaf order (``GET /v1/receipts?batch_id=…``), one full receipt
(``GET /v1/receipts/{request_id}``) and one trace (``GET /v1/traces/{request_id}``).
:class:`HttpTraceSource` implements it over the node API (``node/api``, with the stdlib
``urllib`` so no extra dependency is needed); tests use an in-memory fake. Nothing served is
trusted: the caller checks the leaves against the on-chain batch root and every vector against the
committed trace root. A trace the node answers with 404/410 (or without a vector) counts as
withheld; a transport error or a 5xx is :class:`SourceUnavailableError` (retry later).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from protocol.receipts import Receipt
from protocol.types import Hash32, ModelId, RequestId, to_address

PAGE = 500
"""Receipts per page when listing a batch."""


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
    """

    def __init__(self, base_urls: Sequence[str], timeout: float = 10.0) -> None:
        self.base_urls = [u.rstrip("/") for u in base_urls]
        self.timeout = timeout

    def _get(self, path: str) -> Any | None:
        """JSON of the first node that answers 2xx; None if every node says 404/410."""
        last: Exception | None = None
        for base in self.base_urls:
            try:
                with urllib.request.urlopen(f"{base}/v1{path}", timeout=self.timeout) as resp:
                    return json.loads(resp.read())
            except urllib.error.HTTPError as exc:
                if exc.code in (404, 410):
                    continue
                last = exc
            except (urllib.error.URLError, OSError, ValueError) as exc:
                last = exc
        if last is not None:
            raise SourceUnavailableError(f"no node answered {path}: {last}") from last
        return None

    def batch_leaves(self, batch_id: int) -> list[LeafInfo]:
        """Every page of ``GET /v1/receipts?batch_id=…``."""
        leaves: list[LeafInfo] = []
        cursor: int | None = None
        while True:
            query = f"/receipts?batch_id={batch_id}&limit={PAGE}"
            if cursor is not None:
                query += f"&cursor={cursor}"
            body = self._get(query)
            if body is None:
                return leaves
            for item in body["data"]:
                leaves.append(LeafInfo(int(item["request_id"]), _hex(item["receipt_leaf"])))
            cursor = body.get("next_cursor")
            if cursor is None:
                return leaves

    def receipt(self, request_id: int) -> Receipt | None:
        """``GET /v1/receipts/{request_id}``."""
        body = self._get(f"/receipts/{request_id}")
        return None if body is None else receipt_from_api(body)

    def trace(self, request_id: int) -> ServedTrace | None:
        """``GET /v1/traces/{request_id}``."""
        body = self._get(f"/traces/{request_id}")
        return None if body is None else trace_from_api(body)


class MemoryTraceSource:
    """
    An in-process :class:`TraceSource` fed directly with committed claims (the benchmark, and tests
    that do not run a node). ``withhold[(request_id, index)]`` hides a vector, as a cheating node
    would.
    """

    def __init__(self) -> None:
        self.batches: dict[int, list[LeafInfo]] = {}
        self.receipts: dict[int, Receipt] = {}
        self.traces: dict[int, ServedTrace] = {}
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
