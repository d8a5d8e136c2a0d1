"""``GET /v1/receipts`` and ``GET /v1/receipts/{request_id}``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query

from ...records import ReceiptStatus
from ...store import MAX_PAGE
from ..convert import receipt_public, receipt_summary
from ..deps import NodeAddressDep, ProofsDep, StoreDep
from ..schemas import HexHash, ReceiptPublic, ReceiptsPublic

router = APIRouter(prefix="/receipts", tags=["receipts"])


@router.get("", response_model=ReceiptsPublic)
def read_receipts(
    store: StoreDep,
    status: ReceiptStatus | None = None,
    model_id: Annotated[HexHash | None, Query()] = None,
    batch_id: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[
        int | None, Query(ge=0, description="last request id of the previous page")
    ] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ReceiptsPublic:
    """Retrieve receipts, oldest first, filtered by status, model and batch."""
    rows, total = store.receipts_page(
        status=status,
        model_id=bytes.fromhex(model_id[2:]) if model_id else None,
        batch_id=batch_id,
        after=cursor,
        offset=offset,
        limit=limit,
    )
    data = [receipt_summary(r, r.batch_id) for r in rows]
    next_cursor = rows[-1].request_id if len(rows) == limit else None
    return ReceiptsPublic(data=data, count=total, next_cursor=next_cursor)


@router.get("/{request_id}", response_model=ReceiptPublic, responses={404: {}})
def read_receipt(
    request_id: Annotated[int, Path(ge=0)],
    store: StoreDep,
    proofs: ProofsDep,
    node: NodeAddressDep,
) -> ReceiptPublic:
    """Get a receipt: its leaf fields, batch, Merkle proof, status and dispute history."""
    record = store.receipt(request_id)
    if record is None:
        raise HTTPException(status_code=404, detail=f"no receipt with request id {request_id}")
    batch = store.batch(record.batch_row) if record.batch_row is not None else None
    proof = None
    if batch is not None and batch.batch_id is not None and record.leaf_index is not None:
        proof = proofs.proof(batch.row_id, record.leaf_index)
    return receipt_public(
        record, node=node, batch=batch, proof=proof, disputes=store.disputes_of(request_id)
    )
