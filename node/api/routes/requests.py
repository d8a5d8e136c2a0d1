"""
``GET /v1/requests``, ``GET /v1/requests/{onchain_id}`` and ``GET /v1/requests/{onchain_id}/trace``:
this node's on-chain requests, with their claims' dispute history, and their public traces.

On-chain request ids are the contract's and collide with the off-chain ids of ``/v1/receipts``,
hence their own resource (:mod:`node.onchain`). The trace route answers like
``GET /v1/traces/{request_id}`` (the same body); on-chain requests are never cheated on, so the
cheat plan of a node in cheat mode is not consulted (:mod:`node.request_traces`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query

from ...records import OnchainStatus
from ...request_traces import RequestTraceError, request_trace
from ...store import MAX_PAGE
from ..convert import hex0x, onchain_request_public
from ..deps import NodeAddressDep, RuntimeDep, StoreDep
from ..schemas import OnchainRequestPublic, OnchainRequestsPublic, TracePublic, TraceVectorPublic

router = APIRouter(prefix="/requests", tags=["requests"])


@router.get("", response_model=OnchainRequestsPublic)
def read_onchain_requests(
    store: StoreDep,
    node: NodeAddressDep,
    status: OnchainStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[
        int | None, Query(ge=0, description="last request id of the previous page")
    ] = None,
) -> OnchainRequestsPublic:
    """Retrieve the on-chain requests assigned to this node, oldest first."""
    statuses = (status,) if status is not None else ()
    rows = store.onchain_requests(*statuses, after=cursor or 0, limit=limit)
    return OnchainRequestsPublic(
        data=[
            onchain_request_public(r, node=node, disputes=store.onchain_disputes_of(r.request_id))
            for r in rows
        ],
        next_cursor=rows[-1].request_id if len(rows) == limit else None,
    )


@router.get("/{onchain_id}", response_model=OnchainRequestPublic, responses={404: {}})
def read_onchain_request(
    onchain_id: Annotated[int, Path(ge=1)], store: StoreDep, node: NodeAddressDep
) -> OnchainRequestPublic:
    """Get an on-chain request assigned to this node: result, fulfil tx, status and disputes."""
    record = store.onchain_request(onchain_id)
    if record is None:
        raise HTTPException(
            status_code=404, detail=f"no on-chain request {onchain_id} assigned to this node"
        )
    return onchain_request_public(record, node=node, disputes=store.onchain_disputes_of(onchain_id))


@router.get("/{onchain_id}/trace", response_model=TracePublic, responses={404: {}, 410: {}})
def read_onchain_request_trace(
    onchain_id: Annotated[int, Path(ge=1)], store: StoreDep, runtime: RuntimeDep
) -> TracePublic:
    """
    Get every public activation vector of an on-chain request this node computed (never the
    inside of a sensitive partition), with the hashes its committed trace root is built from.
    """
    record = store.onchain_request(onchain_id)
    if record is None:
        raise HTTPException(
            status_code=404, detail=f"no on-chain request {onchain_id} assigned to this node"
        )
    try:
        trace = request_trace(runtime, record)
    except RequestTraceError as exc:
        raise HTTPException(status_code=410 if exc.gone else 404, detail=str(exc)) from exc
    return TracePublic(
        request_id=trace.request_id,
        model_id=hex0x(trace.model_id),
        trace_root=hex0x(trace.trace_root),
        vectors=[
            TraceVectorPublic(
                index=i,
                hidden=v is None,
                activation_hash=hex0x(trace.hashes[i]),
                values=None if v is None else [int(x) for x in v],
            )
            for i, v in enumerate(trace.vectors)
        ],
    )
