"""
Commitments to a public layer's weights, row by row.

Introduction
------------
A public ``QLinear`` layer has int8 weights ``W`` (``m × n``) and int32
biases ``b`` (``m``). Output row ``j`` is committed with its bias and index:

    inner_j = keccak256(uint32_be(j) ‖ int32_be(b_j) ‖ bytes(W_j))
    leaf_j  = keccak256(inner_j)
    weightRoot = merkleRoot([leaf_0, …, leaf_{m−1}])

``int32_be`` is the four-byte big-endian two's-complement form and
``bytes(W_j)`` the raw two's-complement bytes of the row. Hashing twice
gives the outer leaf a 32-byte preimage, so a leaf can never be mistaken
for an inner node of the tree. A fraud proof carries one row, its bias and
its Merkle proof.
"""

import numpy as np
import numpy.typing as npt

from .activations import Int8VectorLike, int8_bytes
from .exceptions import InvalidWeightsError
from .keccak import keccak256
from .merkle import MerkleTree
from .types import Hash32, require_int, require_uint


def weight_row_leaf(row_index: int, bias: int, row_weights: Int8VectorLike) -> Hash32:
    """
    Compute the leaf of output row ``row_index``.

    Parameters
    ----------
    row_index :
        ``j``, the output row (``0 <= j < m``); must fit ``uint32``.
    bias :
        ``b_j``; must fit ``int32``.
    row_weights :
        ``W_j``, the ``n`` int8 weights of the row, in any form
        :func:`protocol.activations.int8_bytes` accepts.

    Returns
    -------
    leaf : `Hash32`
        ``keccak256(keccak256(uint32_be(j) ‖ int32_be(b_j) ‖ bytes(W_j)))``.

    Raises
    ------
    InvalidIntegerError
        If ``row_index`` or ``bias`` does not fit its type.
    InvalidActivationError
        If ``row_weights`` is not an int8 vector.
    """
    require_uint(row_index, 32, "row index")
    require_int(bias, 32, "bias")
    raw = int8_bytes(row_weights, "row weights")
    inner = keccak256(row_index.to_bytes(4, "big") + bias.to_bytes(4, "big", signed=True) + raw)
    return keccak256(inner)


def weight_row_leaves(
    weights: npt.NDArray[np.int8], biases: npt.NDArray[np.integer]
) -> list[Hash32]:
    """
    Compute the leaves of every row of a layer.

    Parameters
    ----------
    weights :
        ``W``, a two-dimensional ``int8`` array of shape ``(m, n)``,
        ``m >= 1``, ``n >= 1``.
    biases :
        ``b``, a one-dimensional integer array of length ``m`` whose values
        fit ``int32``.

    Returns
    -------
    leaves : `list[Hash32]`
        ``leaf_0 … leaf_{m−1}``.

    Raises
    ------
    InvalidWeightsError
        If a dtype, shape or bias value is wrong.
    """
    _validate_layer(weights, biases)
    return [
        weight_row_leaf(j, int(biases[j]), weights[j].tobytes()) for j in range(weights.shape[0])
    ]


def weight_tree(weights: npt.NDArray[np.int8], biases: npt.NDArray[np.integer]) -> MerkleTree:
    """
    Build the Merkle tree over a layer's row leaves.

    Parameters
    ----------
    weights, biases :
        As for :func:`weight_row_leaves`.

    Returns
    -------
    tree : `MerkleTree`
        The tree; ``tree.root`` is the layer's weight root and
        ``tree.proof(j)`` proves row ``j``.

    Raises
    ------
    InvalidWeightsError
        If a dtype, shape or bias value is wrong.
    """
    return MerkleTree.from_leaves(weight_row_leaves(weights, biases))


def weight_root(weights: npt.NDArray[np.int8], biases: npt.NDArray[np.integer]) -> Hash32:
    """
    Compute a public layer's weight root.

    Parameters
    ----------
    weights, biases :
        As for :func:`weight_row_leaves`.

    Returns
    -------
    root : `Hash32`
        ``merkleRoot([leaf_0, …, leaf_{m−1}])``.

    Raises
    ------
    InvalidWeightsError
        If a dtype, shape or bias value is wrong.
    """
    return weight_tree(weights, biases).root


def weight_row_proof(
    weights: npt.NDArray[np.int8], biases: npt.NDArray[np.integer], row_index: int
) -> list[Hash32]:
    """
    Compute the Merkle proof of row ``row_index`` of a layer.

    Build a :func:`weight_tree` instead when proofs of many rows of the same
    layer are needed.

    Parameters
    ----------
    weights, biases :
        As for :func:`weight_row_leaves`.
    row_index :
        The row to prove, ``0 <= row_index < m``.

    Returns
    -------
    proof : `list[Hash32]`
        Siblings from the row's leaf up to the weight root.

    Raises
    ------
    InvalidWeightsError
        If a dtype, shape or bias value is wrong.
    InvalidProofIndexError
        If ``row_index`` is not a row of the layer.
    """
    return weight_tree(weights, biases).proof(row_index)


def _validate_layer(weights: npt.NDArray[np.int8], biases: npt.NDArray[np.integer]) -> None:
    if not isinstance(weights, np.ndarray) or weights.dtype != np.int8:
        raise InvalidWeightsError(f"weights must be an int8 array, got {_describe(weights)}")
    if weights.ndim != 2 or weights.shape[0] < 1 or weights.shape[1] < 1:
        raise InvalidWeightsError(
            f"weights must have shape (m, n) with m, n >= 1, got {weights.shape}"
        )
    if not isinstance(biases, np.ndarray) or not np.issubdtype(biases.dtype, np.integer):
        raise InvalidWeightsError(f"biases must be an integer array, got {_describe(biases)}")
    if biases.shape != (weights.shape[0],):
        raise InvalidWeightsError(
            f"biases must have shape ({weights.shape[0]},), got {biases.shape}"
        )
    if biases.size and (int(biases.min()) < -(2**31) or int(biases.max()) > 2**31 - 1):
        raise InvalidWeightsError("biases must fit int32")


def _describe(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"array of dtype {value.dtype}"
    return type(value).__name__
