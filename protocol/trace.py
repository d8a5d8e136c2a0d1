"""
Traces: the committed list of an inference's activations.

Introduction
------------
For a model of ``L`` layers an inference's trace is ``h_0 … h_L``: the
input, then each layer's output (layers are numbered from 1). It is
committed as

    a_i        = actHash(h_i), or bytes32(0) if h_i is hidden
    traceLeaf  = keccak256(uint32_be(i) ‖ a_i)          (36-byte preimage)
    traceRoot  = merkleRoot([traceLeaf(0, a_0), …, traceLeaf(L, a_L)])

``h_i`` is hidden when it lies strictly inside a sensitive partition of
layers ``a..b``, that is ``a <= i < b``: the output of a partition layer
other than the partition's last. The input ``h_0`` and the output ``h_L``
are therefore never hidden (see
:func:`protocol.model_id.hidden_trace_indices`).
"""

from collections.abc import Sequence
from collections.abc import Set as AbstractSet

from .activations import Int8VectorLike, act_hash
from .exceptions import InvalidTraceError
from .keccak import keccak256
from .merkle import MerkleTree
from .types import ZERO_HASH, Hash32, hash32, require_uint


def trace_leaf(index: int, activation_hash: bytes) -> Hash32:
    """
    Compute ``traceLeaf(i, a) = keccak256(uint32_be(i) ‖ a)``.

    Parameters
    ----------
    index :
        Position ``i`` of the vector in the trace (0 for the input).
    activation_hash :
        ``actHash(h_i)``, or 32 zero bytes for a hidden vector.

    Returns
    -------
    leaf : `Hash32`
        The trace leaf.

    Raises
    ------
    InvalidIntegerError
        If ``index`` does not fit ``uint32``.
    InvalidHashError
        If ``activation_hash`` is not 32 bytes.
    """
    require_uint(index, 32, "trace index")
    return keccak256(index.to_bytes(4, "big") + hash32(activation_hash, "activation hash"))


def trace_leaves(activation_hashes: Sequence[bytes]) -> list[Hash32]:
    """
    Compute the leaves ``traceLeaf(i, a_i)`` of a whole trace.

    Parameters
    ----------
    activation_hashes :
        ``a_0 … a_L``, hidden ones already replaced by zero.

    Returns
    -------
    leaves : `list[Hash32]`
        One leaf per entry, in order.

    Raises
    ------
    InvalidHashError
        If an entry is not 32 bytes.
    """
    return [trace_leaf(i, a) for i, a in enumerate(activation_hashes)]


def trace_tree(activation_hashes: Sequence[bytes]) -> MerkleTree:
    """
    Build the Merkle tree of a trace, for its root and per-step proofs.

    Parameters
    ----------
    activation_hashes :
        ``a_0 … a_L``; at least two for a real model (``L >= 1``), but any
        non-empty list is accepted.

    Returns
    -------
    tree : `MerkleTree`
        The tree over :func:`trace_leaves`.

    Raises
    ------
    EmptyTreeError
        If ``activation_hashes`` is empty.
    """
    return MerkleTree.from_leaves(trace_leaves(activation_hashes))


def trace_root(activation_hashes: Sequence[bytes]) -> Hash32:
    """
    Compute ``traceRoot`` from the activation hashes ``a_0 … a_L``.

    Parameters
    ----------
    activation_hashes :
        ``a_0 … a_L``, hidden ones already replaced by zero.

    Returns
    -------
    root : `Hash32`
        The trace root.

    Raises
    ------
    EmptyTreeError
        If ``activation_hashes`` is empty.
    """
    return trace_tree(activation_hashes).root


def trace_activation_hashes(
    vectors: Sequence[Int8VectorLike | None], hidden: AbstractSet[int]
) -> list[Hash32]:
    """
    Hash a trace's vectors, putting ``bytes32(0)`` at the hidden positions.

    Parameters
    ----------
    vectors :
        ``h_0 … h_L``. The vector at a hidden position is not hashed and
        may be ``None`` (a party that never saw it can still build the
        trace); every other vector must be present.
    hidden :
        Positions strictly inside sensitive partitions, as returned by
        :func:`protocol.model_id.hidden_trace_indices`. Each must satisfy
        ``1 <= i <= L - 1``.

    Returns
    -------
    activation_hashes : `list[Hash32]`
        ``a_0 … a_L``, ready for :func:`trace_root`.

    Raises
    ------
    InvalidTraceError
        If there are fewer than two vectors, a hidden position is the input,
        the output or out of range, or a public vector is ``None``.
    InvalidActivationError
        If a public vector is not a valid int8 vector.
    """
    if len(vectors) < 2:
        raise InvalidTraceError(f"a trace has at least 2 vectors (h_0 and h_L), got {len(vectors)}")
    last = len(vectors) - 1
    for i in hidden:
        if isinstance(i, bool) or not isinstance(i, int) or i < 1 or i >= last:
            raise InvalidTraceError(
                f"hidden index {i!r} is not strictly between the input 0 and the output {last}"
            )
    hashes: list[Hash32] = []
    for i, vector in enumerate(vectors):
        if i in hidden:
            hashes.append(ZERO_HASH)
        elif vector is None:
            raise InvalidTraceError(f"vector h_{i} is public but missing")
        else:
            hashes.append(act_hash(vector))
    return hashes
