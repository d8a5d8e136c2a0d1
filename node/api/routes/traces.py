"""
``GET /v1/traces/{request_id}``: the public activation vectors challengers re-execute.

A node in cheat mode (:mod:`node.cheats`, Anvil only) answers 410 for a trace it withholds, and
serves a bad-endpoint cheat's trace with the hashes its trace root commits to.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path

from ...claims import split_trace
from ..convert import hex0x
from ..deps import RuntimeDep, StoreDep
from ..schemas import TracePublic, TraceVectorPublic

router = APIRouter(prefix="/traces", tags=["traces"])


@router.get("/{request_id}", response_model=TracePublic, responses={404: {}, 410: {}})
def read_trace(
    request_id: Annotated[int, Path(ge=0)], store: StoreDep, runtime: RuntimeDep
) -> TracePublic:
    """Get every public layer's activation vector (never the inside of a sensitive partition)."""
    record = store.receipt(request_id)
    if record is None:
        raise HTTPException(status_code=404, detail=f"no receipt with request id {request_id}")
    served = runtime.models.get(record.model_id)
    if served is None:
        raise HTTPException(
            status_code=410, detail=f"model 0x{record.model_id.hex()} is no longer served"
        )
    cheats = runtime.cheats
    if cheats is not None and cheats.withholds(request_id):
        raise HTTPException(
            status_code=410, detail=f"the trace of request {request_id} is not available"
        )
    vectors = split_trace(served, record.trace)
    hashes = (
        record.activation_hash_list()
        if cheats is None
        else cheats.committed_hashes(record, vectors)
    )
    return TracePublic(
        request_id=record.request_id,
        model_id=hex0x(record.model_id),
        trace_root=hex0x(record.trace_root),
        vectors=[
            TraceVectorPublic(
                index=i,
                hidden=v is None,
                activation_hash=hex0x(hashes[i]),
                values=None if v is None else [int(x) for x in v],
            )
            for i, v in enumerate(vectors)
        ],
    )
