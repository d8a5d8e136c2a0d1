"""
Receipts, result hashes and batches.

Introduction
------------
A receipt is a node's signed-off claim about one inference. Its leaf is

    receiptLeaf = keccak256(abi.encode(uint256 requestId, bytes32 modelId,
                                       bytes32 inputHash, bytes32 outputHash,
                                       bytes32 traceRoot, address node,
                                       address client))

(a 224-byte preimage) with ``inputHash = actHash(h_0)`` and
``outputHash = actHash(h_L)``. A batch is the sorted-pair Merkle root of
its receipts' leaves, in the order the node posts them. For a request made
on chain the fulfilment stores
``resultHash = keccak256(abi.encode(bytes32 outputHash, bytes32 traceRoot))``.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from eth_abi.abi import encode

from .exceptions import InvalidIntegerError
from .keccak import keccak256
from .merkle import MerkleTree
from .types import (
    Address,
    Hash32,
    ModelId,
    RequestId,
    hash32,
    require_address,
    require_uint,
)

RECEIPT_ABI_TYPES = (
    "uint256",
    "bytes32",
    "bytes32",
    "bytes32",
    "bytes32",
    "address",
    "address",
)
"""The ``abi.encode`` types of a receipt's fields, in order."""


@dataclass(frozen=True, slots=True)
class Receipt:
    """
    One inference's claim, as committed in a batch or on chain.

    Construction checks every field: ``request_id`` fits ``uint256``, the
    four hashes are 32 bytes, and ``node`` and ``client`` are checksummed
    address strings (see :func:`protocol.types.to_address`).
    """

    request_id: RequestId
    model_id: ModelId
    input_hash: Hash32
    output_hash: Hash32
    trace_root: Hash32
    node: Address
    client: Address

    def __post_init__(self) -> None:
        """Reject a receipt whose fields cannot be ABI-encoded as declared."""
        require_uint(self.request_id, 256, "request_id")
        hash32(self.model_id, "model_id")
        hash32(self.input_hash, "input_hash")
        hash32(self.output_hash, "output_hash")
        hash32(self.trace_root, "trace_root")
        require_address(self.node, "node")
        require_address(self.client, "client")


def receipt_leaf(receipt: Receipt) -> Hash32:
    """
    Compute the Merkle leaf of ``receipt``.

    Parameters
    ----------
    receipt :
        The receipt.

    Returns
    -------
    leaf : `Hash32`
        ``keccak256(abi.encode(requestId, modelId, inputHash, outputHash,
        traceRoot, node, client))``.
    """
    return keccak256(
        encode(
            RECEIPT_ABI_TYPES,
            (
                receipt.request_id,
                bytes(receipt.model_id),
                bytes(receipt.input_hash),
                bytes(receipt.output_hash),
                bytes(receipt.trace_root),
                receipt.node,
                receipt.client,
            ),
        )
    )


def result_hash(output_hash: bytes, trace_root: bytes) -> Hash32:
    """
    Compute the hash an on-chain fulfilment stores.

    Parameters
    ----------
    output_hash :
        ``actHash(h_L)``.
    trace_root :
        The inference's trace root.

    Returns
    -------
    result_hash : `Hash32`
        ``keccak256(abi.encode(bytes32 outputHash, bytes32 traceRoot))``,
        which is the plain 64-byte concatenation.

    Raises
    ------
    InvalidHashError
        If either argument is not 32 bytes.
    """
    return keccak256(hash32(output_hash, "output_hash") + hash32(trace_root, "trace_root"))


CLAIM_SOURCE_BATCH = 0
"""``ClaimSource.Batch``: a receipt committed in a batch root."""
CLAIM_SOURCE_REQUEST = 1
"""``ClaimSource.Request``: the fulfilment of an on-chain request."""


def claim_key(source: int, container_id: int, leaf: bytes) -> Hash32:
    """
    The key under which ``InferenceMarket`` tracks a claim and names it in its events:
    ``keccak256(abi.encode(uint8 source, uint256 containerId, bytes32 receiptLeaf))``
    (``Commitments.claimKey``), with ``containerId`` the batch id or the on-chain request id.

    Raises
    ------
    InvalidIntegerError
        If ``source`` is not 0 or 1, or ``container_id`` does not fit ``uint256``.
    InvalidHashError
        If ``leaf`` is not 32 bytes.
    """
    if source not in (CLAIM_SOURCE_BATCH, CLAIM_SOURCE_REQUEST):
        raise InvalidIntegerError(f"claim source must be 0 (batch) or 1 (request), got {source!r}")
    require_uint(container_id, 256, "container_id")
    return keccak256(
        source.to_bytes(32, "big") + container_id.to_bytes(32, "big") + hash32(leaf, "leaf")
    )


def batch_tree(receipts: Sequence[Receipt]) -> MerkleTree:
    """
    Build the Merkle tree of a batch, for its root and each receipt's proof.

    Parameters
    ----------
    receipts :
        The batch's receipts in posting order; at least one.

    Returns
    -------
    tree : `MerkleTree`
        The tree over the receipts' leaves; ``tree.proof(i)`` proves
        ``receipts[i]``.

    Raises
    ------
    EmptyTreeError
        If ``receipts`` is empty.
    """
    return MerkleTree.from_leaves([receipt_leaf(r) for r in receipts])


def batch_root(receipts: Sequence[Receipt]) -> Hash32:
    """
    Compute the root a node posts for a batch.

    Parameters
    ----------
    receipts :
        The batch's receipts in posting order; at least one.

    Returns
    -------
    root : `Hash32`
        ``merkleRoot([receiptLeaf(r) for r in receipts])``.

    Raises
    ------
    EmptyTreeError
        If ``receipts`` is empty.
    """
    return batch_tree(receipts).root
