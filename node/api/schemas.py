"""
The API's request and response bodies (pydantic, at the HTTP edge only).

Every hash, root, id and address is a ``0x`` hex string; every vector a list of ints.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt

HexHash = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{64}$", examples=["0x" + "ab" * 32])]
HexAddress = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{40}$")]
Int8 = Annotated[StrictInt, Field(ge=-128, le=127)]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]

MAX_INPUT_VALUES = 1 << 20


class _Schema(BaseModel):
    model_config = ConfigDict(protected_namespaces=(), extra="forbid")


# ---- inferences ----------------------------------------------------------------------------------


class InferenceCreate(_Schema):
    """An inference request: a served model and its input, as int8 values or as floats."""

    model_id: HexHash
    input: list[Int8] | None = Field(None, max_length=MAX_INPUT_VALUES)
    """The int8 input vector."""
    input_float: list[FiniteFloat] | None = Field(None, max_length=MAX_INPUT_VALUES)
    """A float input vector, quantized by the model's deterministic input rule."""
    client: HexAddress | None = None
    """Who the receipt is for (its ``client`` field); the zero address when not given."""


class InferencePublic(_Schema):
    """The answer to an inference: its output and the receipt leaf the node will commit."""

    request_id: int
    model_id: str
    output: list[int]
    receipt_leaf: str
    status: str


# ---- receipts ------------------------------------------------------------------------------------


class DisputePublic(_Schema):
    """One event of a receipt's dispute history."""

    kind: str
    game: str
    challenge_id: int | None
    trace_index: int | None
    detail: str
    tx_hash: str
    block: int


class BatchRefPublic(_Schema):
    """Where a receipt was committed, and its Merkle proof against the batch root."""

    batch_id: int
    leaf_index: int
    root: str
    proof: list[str]
    tx_hash: str | None
    block: int | None
    committed_at: int | None
    status: str


class ReceiptSummary(_Schema):
    """A receipt in a list."""

    request_id: int
    model_id: str
    client: str
    output: list[int]
    receipt_leaf: str
    status: str
    batch_id: int | None
    created_at: float


class ReceiptPublic(_Schema):
    """A full receipt: the leaf's fields, the batch and proof, status and dispute history."""

    request_id: int
    model_id: str
    input_hash: str
    output_hash: str
    trace_root: str
    node: str
    client: str
    receipt_leaf: str
    input: list[int]
    output: list[int]
    status: str
    claim_key: str | None
    batch: BatchRefPublic | None
    disputes: list[DisputePublic]
    created_at: float


class ReceiptsPublic(_Schema):
    """A page of receipts; pass ``next_cursor`` as ``cursor`` for the next page."""

    data: list[ReceiptSummary]
    count: int
    next_cursor: int | None


class OnchainRequestPublic(_Schema):
    """
    An on-chain request assigned to this node (``source: "request"``): the receipt's fields once
    computed, the fee and deadline, the ``fulfil`` transaction, the status (``pending``,
    ``committed``, ``finalized``, ``refunded`` or ``slashed``) and the dispute history of its
    claim. Its ``request_id`` is the contract's, a separate id space from ``/v1/receipts``.
    """

    source: str
    request_id: int
    model_id: str
    node: str
    client: str
    fee: str
    deadline: int
    input: list[int]
    output: list[int] | None
    input_hash: str | None
    output_hash: str | None
    trace_root: str | None
    receipt_leaf: str | None
    claim_key: str | None
    status: str
    requested_tx: str
    requested_block: int
    fulfil_tx: str | None
    fulfil_block: int | None
    fulfilled_at: int | None
    status_tx: str | None
    disputes: list[DisputePublic]
    created_at: float


class OnchainRequestsPublic(_Schema):
    """A page of on-chain requests; pass ``next_cursor`` as ``cursor`` for the next page."""

    data: list[OnchainRequestPublic]
    next_cursor: int | None


# ---- traces --------------------------------------------------------------------------------------


class TraceVectorPublic(_Schema):
    """Trace entry ``index``: ``h_index``, or hidden inside a sensitive partition."""

    index: int
    hidden: bool
    activation_hash: str
    values: list[int] | None


class TracePublic(_Schema):
    """Every public activation vector of an inference, with the hashes it is committed under."""

    request_id: int
    model_id: str
    trace_root: str
    vectors: list[TraceVectorPublic]


# ---- batches -------------------------------------------------------------------------------------


class BatchPublic(_Schema):
    """A batch this node committed."""

    batch_id: int
    root: str
    count: int
    status: str
    tx_hash: str | None
    block: int | None
    committed_at: int | None
    gas_used: int | None
    gas_price: int | None
    gas_cost_wei: int | None
    first_request_id: int | None
    last_request_id: int | None


# ---- models --------------------------------------------------------------------------------------


class LayerPublic(_Schema):
    """One ``QLinear`` layer's header."""

    index: int
    in_dim: int
    out_dim: int
    multiplier: int
    shift: int
    activation: str
    sensitive: bool


class ModelPublic(_Schema):
    """A served model."""

    model_id: str
    file_hash: str
    input_dim: int
    output_dim: int
    accepts_float: bool
    input_scale: float | None
    output_scale: float | None
    layers: list[LayerPublic]
    hidden_trace_indices: list[int]


class ModelsPublic(_Schema):
    """Every served model."""

    data: list[ModelPublic]
    count: int


# ---- health --------------------------------------------------------------------------------------


class CheckPublic(_Schema):
    """One health check."""

    ok: bool
    detail: str


class HealthPublic(_Schema):
    """``ok`` when every check passed."""

    status: str
    checks: dict[str, CheckPublic]
    info: dict[str, str]
