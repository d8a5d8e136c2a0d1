"""
What the node stores, as frozen dataclasses: receipts, batches, dispute history, data challenges.

Introduction
------------
A receipt's **status** follows DESIGN.md §6: ``pending`` (stored, not yet in a posted batch) →
``committed`` (its batch root is on-chain) → ``finalized`` (the batch passed its challenge window),
or ``disputed`` (a dispute on this claim is open) / ``slashed`` (the claim was proven fraudulent;
final). :func:`derive_status` is the one rule that turns the stored facts into a status.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ReceiptStatus(StrEnum):
    """Where a receipt stands."""

    PENDING = "pending"
    COMMITTED = "committed"
    FINALIZED = "finalized"
    DISPUTED = "disputed"
    SLASHED = "slashed"


class BatchStatus(StrEnum):
    """Where a batch stands: ``sending`` is an intent recorded before its transaction."""

    SENDING = "sending"
    COMMITTED = "committed"
    FINALIZED = "finalized"
    FAILED = "failed"


class ChallengeStatus(StrEnum):
    """A data-availability challenge against this node."""

    OPEN = "open"
    PUBLISHED = "published"
    TIMED_OUT = "timed_out"
    UNANSWERABLE = "unanswerable"


def derive_status(*, slashed: bool, open_disputes: int, batch: BatchStatus | None) -> ReceiptStatus:
    """The receipt status that the stored facts imply."""
    if slashed:
        return ReceiptStatus.SLASHED
    if open_disputes > 0:
        return ReceiptStatus.DISPUTED
    if batch == BatchStatus.FINALIZED:
        return ReceiptStatus.FINALIZED
    if batch == BatchStatus.COMMITTED:
        return ReceiptStatus.COMMITTED
    return ReceiptStatus.PENDING


@dataclass(frozen=True, slots=True)
class NewReceipt:
    """A receipt as the request path writes it (before any batch)."""

    request_id: int
    model_id: bytes
    client: str
    input: bytes
    output: bytes
    trace: bytes
    """Every public vector h_0 … h_L, concatenated (hidden positions contribute nothing)."""
    activation_hashes: bytes
    """a_0 … a_L, 32 bytes each (zero at hidden positions)."""
    trace_root: bytes
    receipt_leaf: bytes
    created_at: float


@dataclass(frozen=True, slots=True)
class ReceiptRecord:
    """A stored receipt with where it stands."""

    request_id: int
    model_id: bytes
    client: str
    input: bytes
    output: bytes
    trace: bytes
    activation_hashes: bytes
    trace_root: bytes
    receipt_leaf: bytes
    created_at: float
    status: ReceiptStatus
    batch_row: int | None
    """The local row of the (non-failed) batch holding it, if any."""
    batch_id: int | None
    """That batch's on-chain id, once committed."""
    leaf_index: int | None
    """Its position in that batch (only filled for single-receipt reads)."""
    claim_key: bytes | None
    """Its on-chain claim key, once its batch is committed (single-receipt reads only)."""
    open_disputes: int
    slashed: bool

    @property
    def input_hash(self) -> bytes:
        """``actHash(h_0)``."""
        return self.activation_hashes[:32]

    @property
    def output_hash(self) -> bytes:
        """``actHash(h_L)``."""
        return self.activation_hashes[-32:]

    def activation_hash_list(self) -> list[bytes]:
        """``[a_0, …, a_L]``."""
        raw = self.activation_hashes
        return [raw[i : i + 32] for i in range(0, len(raw), 32)]


@dataclass(frozen=True, slots=True)
class BatchRecord:
    """A batch this node posted (or is posting)."""

    row_id: int
    batch_id: int | None
    """The on-chain batch id, once known."""
    root: bytes
    count: int
    status: BatchStatus
    tx_hash: bytes | None
    nonce: int | None
    from_block: int
    """The chain head when the intent was recorded: the commit event cannot be older."""
    block: int | None
    gas_used: int | None
    gas_price: int | None
    committed_at: int | None
    """Timestamp of the commit block (the challenge window starts there)."""
    created_at: float
    first_request_id: int
    last_request_id: int

    @property
    def gas_cost_wei(self) -> int | None:
        """What the commit transaction cost."""
        if self.gas_used is None or self.gas_price is None:
            return None
        return self.gas_used * self.gas_price


@dataclass(frozen=True, slots=True)
class DisputeEntry:
    """One event of a receipt's dispute history."""

    request_id: int
    kind: str
    game: str
    challenge_id: int | None
    trace_index: int | None
    detail: str
    tx_hash: bytes
    block: int
    recorded_at: float


@dataclass(frozen=True, slots=True)
class DataChallengeRecord:
    """A data-availability challenge against this node."""

    challenge_id: int
    claim_key: bytes
    request_id: int | None
    trace_index: int
    deadline: int
    challenger: str
    status: ChallengeStatus
    response_tx: bytes | None
    detail: str


class OnchainStatus(StrEnum):
    """Where an on-chain request assigned to this node stands (:mod:`node.onchain`)."""

    PENDING = "pending"
    """Seen (``InferenceRequested``), not yet fulfilled."""
    COMMITTED = "committed"
    """Fulfilled on-chain; its challenge window runs."""
    FINALIZED = "finalized"
    REFUNDED = "refunded"
    SLASHED = "slashed"


@dataclass(frozen=True, slots=True)
class OnchainRequestRecord:
    """An on-chain request assigned to this node, and its result once computed."""

    request_id: int
    """The contract's request id (its own id space, apart from off-chain receipts)."""
    model_id: bytes
    client: str
    fee: int
    deadline: int
    input: bytes
    requested_block: int
    requested_tx: bytes
    status: OnchainStatus
    output: bytes | None
    trace: bytes | None
    activation_hashes: bytes | None
    trace_root: bytes | None
    receipt_leaf: bytes | None
    fulfil_tx: bytes | None
    """The ``fulfil`` transaction (recorded before it is broadcast)."""
    fulfil_block: int | None
    fulfilled_at: int | None
    status_tx: bytes | None
    """The transaction that finalized, refunded or slashed it."""
    created_at: float
