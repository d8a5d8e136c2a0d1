"""Stored records → API bodies."""

from __future__ import annotations

from ..hashing import claim_key
from ..records import BatchRecord, DisputeEntry, OnchainRequestRecord, ReceiptRecord
from .schemas import (
    BatchPublic,
    BatchRefPublic,
    DisputePublic,
    OnchainRequestPublic,
    ReceiptPublic,
    ReceiptSummary,
)


def hex0x(raw: bytes) -> str:
    """``0x`` + lowercase hex."""
    return "0x" + raw.hex()


def int8_list(raw: bytes) -> list[int]:
    """Raw two's-complement bytes as a list of int8 values."""
    return [b - 256 if b > 127 else b for b in raw]


def batch_public(batch: BatchRecord) -> BatchPublic:
    assert batch.batch_id is not None
    return BatchPublic(
        batch_id=batch.batch_id,
        root=hex0x(batch.root),
        count=batch.count,
        status=batch.status.value,
        tx_hash=hex0x(batch.tx_hash) if batch.tx_hash else None,
        block=batch.block,
        committed_at=batch.committed_at,
        gas_used=batch.gas_used,
        gas_price=batch.gas_price,
        gas_cost_wei=batch.gas_cost_wei,
        first_request_id=batch.first_request_id,
        last_request_id=batch.last_request_id,
    )


def dispute_public(entry: DisputeEntry) -> DisputePublic:
    return DisputePublic(
        kind=entry.kind,
        game=entry.game,
        challenge_id=entry.challenge_id,
        trace_index=entry.trace_index,
        detail=entry.detail,
        tx_hash=hex0x(entry.tx_hash),
        block=entry.block,
    )


def receipt_summary(r: ReceiptRecord, batch_id: int | None) -> ReceiptSummary:
    return ReceiptSummary(
        request_id=r.request_id,
        model_id=hex0x(r.model_id),
        client=r.client,
        output=int8_list(r.output),
        receipt_leaf=hex0x(r.receipt_leaf),
        status=r.status.value,
        batch_id=batch_id,
        created_at=r.created_at,
    )


def receipt_public(
    r: ReceiptRecord,
    *,
    node: str,
    batch: BatchRecord | None,
    proof: list[bytes] | None,
    disputes: list[DisputeEntry],
) -> ReceiptPublic:
    ref = None
    if batch is not None and batch.batch_id is not None and proof is not None:
        assert r.leaf_index is not None
        ref = BatchRefPublic(
            batch_id=batch.batch_id,
            leaf_index=r.leaf_index,
            root=hex0x(batch.root),
            proof=[hex0x(p) for p in proof],
            tx_hash=hex0x(batch.tx_hash) if batch.tx_hash else None,
            block=batch.block,
            committed_at=batch.committed_at,
            status=batch.status.value,
        )
    return ReceiptPublic(
        request_id=r.request_id,
        model_id=hex0x(r.model_id),
        input_hash=hex0x(r.input_hash),
        output_hash=hex0x(r.output_hash),
        trace_root=hex0x(r.trace_root),
        node=node,
        client=r.client,
        receipt_leaf=hex0x(r.receipt_leaf),
        input=int8_list(r.input),
        output=int8_list(r.output),
        status=r.status.value,
        claim_key=hex0x(r.claim_key) if r.claim_key else None,
        batch=ref,
        disputes=[dispute_public(d) for d in disputes],
        created_at=r.created_at,
    )


CLAIM_SOURCE_REQUEST = 1


def onchain_request_public(
    r: OnchainRequestRecord, *, node: str, disputes: list[DisputeEntry]
) -> OnchainRequestPublic:
    hashes = r.activation_hashes
    return OnchainRequestPublic(
        source="request",
        request_id=r.request_id,
        model_id=hex0x(r.model_id),
        node=node,
        client=r.client,
        fee=str(r.fee),
        deadline=r.deadline,
        input=int8_list(r.input),
        output=int8_list(r.output) if r.output is not None else None,
        input_hash=hex0x(hashes[:32]) if hashes else None,
        output_hash=hex0x(hashes[-32:]) if hashes else None,
        trace_root=hex0x(r.trace_root) if r.trace_root else None,
        receipt_leaf=hex0x(r.receipt_leaf) if r.receipt_leaf else None,
        claim_key=(
            hex0x(claim_key(CLAIM_SOURCE_REQUEST, r.request_id, r.receipt_leaf))
            if r.receipt_leaf and r.fulfil_block is not None
            else None
        ),
        status=r.status.value,
        requested_tx=hex0x(r.requested_tx),
        requested_block=r.requested_block,
        fulfil_tx=hex0x(r.fulfil_tx) if r.fulfil_tx and r.fulfil_block is not None else None,
        fulfil_block=r.fulfil_block,
        fulfilled_at=r.fulfilled_at,
        status_tx=hex0x(r.status_tx) if r.status_tx else None,
        disputes=[dispute_public(d) for d in disputes],
        created_at=r.created_at,
    )
