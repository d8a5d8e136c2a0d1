"""
The public traces of the on-chain requests a node fulfils.

Introduction
------------
When the node computes an on-chain request (:meth:`node.onchain.OnchainRequests.fulfil_once`) it
stores the request's public trace vectors and activation hashes next to its result, exactly as for
an off-chain receipt (:func:`node.claims.build_receipts`). :func:`request_trace` reads them back as
a :class:`RequestTrace` checked against the trace root the node committed with ``fulfil``: every
public vector must hash to its activation hash and the hashes must give the root. A stored trace
that is missing or does not check out is rebuilt deterministically from the request's input (the
runtimes are bit-exact), and used only if it gives the committed root.

``GET /v1/requests/{id}/trace`` serves it (the same body as ``GET /v1/traces/{id}``), and the
data-availability responder publishes its vectors with their Merkle proofs
(:mod:`node.request_disputes`).

Cheat modes (:mod:`node.cheats`) never apply here: a :class:`~node.cheats.CheatPlan` is keyed by
off-chain request ids, which collide with on-chain ids, so consulting it would withhold (or serve
with other hashes) the honest trace of an on-chain request that happens to share an id with a
cheated off-chain one. On-chain requests are always answered honestly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from protocol.receipts import CLAIM_SOURCE_REQUEST
from protocol.trace import trace_tree
from protocol.types import ZERO_HASH

from .claims import build_receipts, split_trace
from .hashing import act_hash_fast, claim_key, trace_root_fast
from .records import OnchainRequestRecord
from .runtime import ModelRuntime, ServedModel

log = logging.getLogger(__name__)


class RequestTraceError(Exception):
    """
    The node cannot serve the trace of an on-chain request.

    Parameters
    ----------
    message :
        What is missing.
    gone :
        True when the trace existed but cannot be served any more (HTTP 410), False when the node
        has no such result (HTTP 404).
    """

    def __init__(self, message: str, *, gone: bool) -> None:
        super().__init__(message)
        self.gone = gone


@dataclass(frozen=True, slots=True)
class RequestTrace:
    """The public trace of an on-chain request, as committed by the node's ``fulfil``."""

    request_id: int
    """The contract's request id."""
    model_id: bytes
    trace_root: bytes
    vectors: tuple[npt.NDArray[np.int8] | None, ...]
    """``h_0 … h_L``; ``None`` where hidden inside a sensitive partition."""
    hashes: tuple[bytes, ...]
    """``a_0 … a_L`` under ``trace_root`` (zero where hidden)."""

    def proof(self, index: int) -> list[bytes]:
        """
        The Merkle proof of trace entry ``index`` against :attr:`trace_root`.

        Parameters
        ----------
        index :
            The trace position, ``0 … L``.

        Returns
        -------
        list[bytes]
            The siblings from the leaf up (``DataAvailabilityGame.publish``'s ``proof``).
        """
        return [bytes(p) for p in trace_tree(self.hashes).proof(index)]


def request_claim_key(record: OnchainRequestRecord) -> bytes | None:
    """
    The claim key of an on-chain request's result, once computed.

    Parameters
    ----------
    record :
        The stored request.

    Returns
    -------
    bytes or None
        ``keccak256(abi.encode(1, requestId, receiptLeaf))``; ``None`` before the result exists.
    """
    if record.receipt_leaf is None:
        return None
    return bytes(claim_key(CLAIM_SOURCE_REQUEST, record.request_id, record.receipt_leaf))


def is_request_claim(record: OnchainRequestRecord, key: bytes) -> bool:
    """
    Whether ``key`` is the claim key of ``record``'s result.

    Parameters
    ----------
    record :
        One of this node's on-chain requests.
    key :
        A claim key named by a chain event.

    Returns
    -------
    bool
        True when the key is ``record``'s (and never for an off-chain receipt's claim: the
        source is part of the key).
    """
    return request_claim_key(record) == bytes(key)


def _checked(
    served: ServedModel,
    vectors: list[npt.NDArray[np.int8] | None],
    hashes: list[bytes],
    trace_root: bytes,
) -> bool:
    """Whether ``vectors`` and ``hashes`` are a full trace of ``served`` under ``trace_root``."""
    if len(vectors) != len(served.dims) or len(hashes) != len(served.dims):
        return False
    for i, (vector, a) in enumerate(zip(vectors, hashes, strict=True)):
        if vector is None:
            if i not in served.hidden or a != ZERO_HASH:
                return False
        elif i in served.hidden or len(vector) != served.dims[i] or act_hash_fast(vector) != a:
            return False
    return bytes(trace_root_fast(hashes)) == trace_root


def _stored(
    served: ServedModel, record: OnchainRequestRecord
) -> tuple[list[npt.NDArray[np.int8] | None], list[bytes]] | None:
    """The trace stored with the result, or None if absent or malformed."""
    if record.trace is None or record.activation_hashes is None:
        return None
    raw = record.activation_hashes
    if len(raw) != 32 * len(served.dims):
        return None
    public = sum(d for i, d in enumerate(served.dims) if i not in served.hidden)
    if len(record.trace) != public:
        return None
    hashes = [raw[i : i + 32] for i in range(0, len(raw), 32)]
    return split_trace(served, record.trace), hashes


def rebuild_trace(
    runtime: ModelRuntime, record: OnchainRequestRecord
) -> tuple[list[npt.NDArray[np.int8] | None], list[bytes]]:
    """
    Recomputes an on-chain request's public trace from its input.

    Parameters
    ----------
    runtime :
        The node's runtime; it must serve ``record.model_id``.
    record :
        The stored request (its input, model and client).

    Returns
    -------
    tuple
        ``h_0 … h_L`` (``None`` where hidden) and ``a_0 … a_L``, exactly as the node computes them
        when it fulfils the request.
    """
    served = runtime.get(record.model_id)
    x = np.frombuffer(record.input, dtype=np.int8)[None, :]
    trace = runtime.run(record.model_id, x)
    (row,) = build_receipts(
        served,
        trace,
        [record.request_id],
        node="0x" + "00" * 20,  # the node address only enters the receipt leaf, not the trace
        clients=[record.client],
        created_at=record.created_at,
    )
    raw = row.activation_hashes
    return split_trace(served, row.trace), [raw[i : i + 32] for i in range(0, len(raw), 32)]


def request_trace(runtime: ModelRuntime, record: OnchainRequestRecord) -> RequestTrace:
    """
    The public trace committed for an on-chain request: the stored one, else a rebuilt one.

    Parameters
    ----------
    runtime :
        The node's runtime (the model gives the trace's shape, and rebuilds it if needed).
    record :
        The stored request.

    Returns
    -------
    RequestTrace
        Vectors and hashes that hash to ``record.trace_root``.

    Raises
    ------
    RequestTraceError
        ``gone=False`` if the request has no computed result yet; ``gone=True`` if its model is
        no longer served or no trace under the committed root can be produced.
    """
    root = record.trace_root
    if root is None or record.output is None:
        raise RequestTraceError(
            f"on-chain request {record.request_id} has no result yet", gone=False
        )
    served = runtime.models.get(record.model_id)
    if served is None:
        raise RequestTraceError(f"model 0x{record.model_id.hex()} is no longer served", gone=True)
    stored = _stored(served, record)
    if stored is not None and _checked(served, *stored, root):
        vectors, hashes = stored
    else:
        log.warning(
            "the stored trace of on-chain request %d is missing or does not match its trace "
            "root; rebuilding it from the input",
            record.request_id,
        )
        try:
            vectors, hashes = rebuild_trace(runtime, record)
        except Exception as exc:
            raise RequestTraceError(
                f"cannot rebuild the trace of on-chain request {record.request_id}: {exc}",
                gone=True,
            ) from exc
        if not _checked(served, vectors, hashes, root):
            raise RequestTraceError(
                f"no trace of on-chain request {record.request_id} matches its committed root",
                gone=True,
            )
    return RequestTrace(
        request_id=record.request_id,
        model_id=record.model_id,
        trace_root=root,
        vectors=tuple(vectors),
        hashes=tuple(bytes(h) for h in hashes),
    )
