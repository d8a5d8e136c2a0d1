"""
``GET /v1/requests`` and ``GET /v1/requests/{onchain_id}``: this node's on-chain requests.

On-chain request ids are the contract's and collide with the off-chain ids of ``/v1/receipts``,
hence their own resource (:mod:`node.onchain`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query

from ...records import OnchainStatus
from ...store import MAX_PAGE
from ..convert import onchain_request_public
from ..deps import NodeAddressDep, StoreDep
from ..schemas import OnchainRequestPublic, OnchainRequestsPublic

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
        data=[onchain_request_public(r, node=node) for r in rows],
        next_cursor=rows[-1].request_id if len(rows) == limit else None,
    )


@router.get("/{onchain_id}", response_model=OnchainRequestPublic, responses={404: {}})
def read_onchain_request(
    onchain_id: Annotated[int, Path(ge=1)], store: StoreDep, node: NodeAddressDep
) -> OnchainRequestPublic:
    """Get an on-chain request assigned to this node: result, fulfil transaction and status."""
    record = store.onchain_request(onchain_id)
    if record is None:
        raise HTTPException(
            status_code=404, detail=f"no on-chain request {onchain_id} assigned to this node"
        )
    return onchain_request_public(record, node=node)
