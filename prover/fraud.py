"""
Fraud-proof evidence for public layers: find where a claimed trace goes wrong, and build the
calldata that shows it on-chain.

Introduction
------------
A challenger holds the public weights and the node's claimed trace vectors ``h_0 … h_L``. It
re-executes every public layer from the *claimed* input of that layer, so the first wrong layer is
found even if later layers were computed honestly from a wrong value (:func:`first_wrong_element`).
:func:`layer_fraud_args` then assembles ``FraudProofGame.LayerFraud`` exactly as the contract reads
it: both vectors with their proofs against the trace root, and the weight row with its proof against
the registered weight root. Building evidence never touches the chain; sending is the caller's job.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from protocol.activations import int8_bytes
from protocol.merkle import MerkleTree
from protocol.model import QuantizedModel
from protocol.receipts import CLAIM_SOURCE_BATCH as CLAIM_SOURCE_BATCH
from protocol.receipts import CLAIM_SOURCE_REQUEST as CLAIM_SOURCE_REQUEST
from protocol.receipts import Receipt, receipt_leaf
from protocol.trace import trace_tree
from protocol.types import Hash32
from protocol.weights import weight_row_proof


@dataclass(frozen=True)
class WrongElement:
    """Layer ``layer`` (1..L) of a claimed trace is wrong at output ``row``, or has a bad length."""

    layer: int
    row: int
    wrong_length: bool = False


def first_wrong_element(
    model: QuantizedModel, claimed: Sequence[npt.NDArray[np.int8] | None]
) -> WrongElement | None:
    """
    The first public layer whose claimed output differs from the layer applied to its claimed input.

    ``claimed`` is ``h_0 … h_L`` as the node published them (``None`` where hidden). Layers of
    sensitive partitions are skipped: they cannot be recomputed without the private weights.
    """
    for index, layer in enumerate(model.layers, start=1):
        if model.is_sensitive_layer(index):
            continue
        x, y = claimed[index - 1], claimed[index]
        if x is None or y is None:
            continue
        if len(x) != layer.in_dim or len(y) != layer.out_dim:
            return WrongElement(index, 0, wrong_length=True)
        expected = layer.forward(x)
        diff = np.flatnonzero(expected != y)
        if diff.size:
            return WrongElement(index, int(diff[0]))
    return None


def receipt_tuple(r: Receipt) -> tuple[object, ...]:
    """A :class:`~protocol.receipts.Receipt` as the Solidity ``Receipt`` struct tuple."""
    return (r.request_id, r.model_id, r.input_hash, r.output_hash, r.trace_root, r.node, r.client)


def batch_claim_ref(
    batch_id: int, tree: MerkleTree, index: int, receipt: Receipt
) -> tuple[object, ...]:
    """``ClaimRef`` for the receipt at ``index`` of a committed batch built as ``tree``."""
    if tree.levels[0][index] != receipt_leaf(receipt):
        raise ValueError(f"receipt is not leaf {index} of the batch tree")
    return (CLAIM_SOURCE_BATCH, batch_id, tree.proof(index), receipt_tuple(receipt))


def request_claim_ref(receipt: Receipt) -> tuple[object, ...]:
    """``ClaimRef`` for a fulfilled on-chain request (its id is the receipt's request id)."""
    return (CLAIM_SOURCE_REQUEST, receipt.request_id, [], receipt_tuple(receipt))


def trace_entry_proof(activation_hashes: Sequence[Hash32], index: int) -> list[Hash32]:
    """Proof of trace entry ``index`` against the trace root of ``activation_hashes``."""
    return trace_tree(activation_hashes).proof(index)


def layer_fraud_args(
    model: QuantizedModel,
    claimed: Sequence[npt.NDArray[np.int8] | None],
    activation_hashes: Sequence[Hash32],
    wrong: WrongElement,
) -> tuple[object, ...]:
    """The ``FraudProofGame.LayerFraud`` tuple proving ``wrong`` against the claimed trace."""
    layer = model.layers[wrong.layer - 1]
    x, y = claimed[wrong.layer - 1], claimed[wrong.layer]
    if x is None or y is None:
        raise ValueError(f"layer {wrong.layer}'s vectors are hidden: no public fraud proof exists")
    tree = trace_tree(activation_hashes)
    row = min(wrong.row, layer.out_dim - 1)
    return (
        wrong.layer,
        int8_bytes(x),
        tree.proof(wrong.layer - 1),
        int8_bytes(y),
        tree.proof(wrong.layer),
        row,
        layer.weights[row].tobytes(),
        int(layer.biases[row]),
        weight_row_proof(layer.weights, layer.biases, row),
    )
