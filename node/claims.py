"""
From a batch of traces to the receipts a node stores and commits (DESIGN.md §4).

Introduction
------------
For every row of a micro-batch :func:`build_receipts` hashes each public trace vector
(``actHash``), builds the trace root and the receipt leaf under the request id the node assigned,
and packs the public vectors (hidden positions, strictly inside a sensitive partition, are never
kept) into a :class:`~node.records.NewReceipt`. It uses :mod:`node.hashing`, which matches
:mod:`protocol` byte for byte (tested).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from protocol.types import ZERO_HASH

from .hashing import act_hash_fast, receipt_leaf_fast, trace_root_fast
from .records import NewReceipt
from .runtime import ServedModel


def address_bytes(address: str) -> bytes:
    """The 20 bytes of a ``0x`` address string."""
    return bytes.fromhex(address[2:])


def build_receipts(
    served: ServedModel,
    trace: Sequence[npt.NDArray[np.int8]],
    request_ids: Sequence[int],
    *,
    node: str,
    clients: Sequence[str],
    created_at: float,
) -> list[NewReceipt]:
    """
    One receipt per row of ``trace`` (``[H_0, …, H_L]``, each ``(B, d_ℓ)``).

    ``request_ids`` and ``clients`` (checksummed addresses) give each row's id and client.
    """
    node_raw = address_bytes(node)
    hidden = served.hidden
    out: list[NewReceipt] = []
    for row, request_id in enumerate(request_ids):
        vectors = [np.ascontiguousarray(h[row]) for h in trace]
        hashes = [ZERO_HASH if i in hidden else act_hash_fast(v) for i, v in enumerate(vectors)]
        root = trace_root_fast(hashes)
        client = clients[row]
        leaf = receipt_leaf_fast(
            request_id,
            served.model_id,
            hashes[0],
            hashes[-1],
            root,
            node_raw,
            address_bytes(client),
        )
        out.append(
            NewReceipt(
                request_id=request_id,
                model_id=served.model_id,
                client=client,
                input=vectors[0].tobytes(),
                output=vectors[-1].tobytes(),
                trace=b"".join(v.tobytes() for i, v in enumerate(vectors) if i not in hidden),
                activation_hashes=b"".join(hashes),
                trace_root=root,
                receipt_leaf=leaf,
                created_at=created_at,
            )
        )
    return out


def split_trace(served: ServedModel, trace: bytes) -> list[npt.NDArray[np.int8] | None]:
    """Undoes the packing of :func:`build_receipts`: ``h_0 … h_L``, ``None`` where hidden."""
    vectors: list[npt.NDArray[np.int8] | None] = []
    offset = 0
    for i, width in enumerate(served.dims):
        if i in served.hidden:
            vectors.append(None)
            continue
        vectors.append(np.frombuffer(trace, dtype=np.int8, count=width, offset=offset).copy())
        offset += width
    return vectors
