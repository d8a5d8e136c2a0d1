"""``GET /v1/batches/{batch_id}``: a batch this node committed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path

from ..convert import batch_public
from ..deps import StoreDep
from ..schemas import BatchPublic

router = APIRouter(prefix="/batches", tags=["batches"])


@router.get("/{batch_id}", response_model=BatchPublic, responses={404: {}})
def read_batch(batch_id: Annotated[int, Path(ge=1)], store: StoreDep) -> BatchPublic:
    """Get a batch by its on-chain id: root, count, transaction, gas, status."""
    batch = store.batch_by_chain_id(batch_id)
    if batch is None:
        raise HTTPException(status_code=404, detail=f"this node has no batch {batch_id}")
    return batch_public(batch)
