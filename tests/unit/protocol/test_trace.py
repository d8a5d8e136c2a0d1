"""Tests for protocol.trace."""

import numpy as np
import pytest
from eth_abi.packed import encode_packed

from protocol.activations import act_hash
from protocol.exceptions import InvalidActivationError, InvalidHashError, InvalidTraceError
from protocol.keccak import keccak256
from protocol.merkle import hash_pair, verify_merkle_proof
from protocol.model_id import PartitionSpec, hidden_trace_indices
from protocol.trace import (
    trace_activation_hashes,
    trace_leaf,
    trace_leaves,
    trace_root,
    trace_tree,
)
from protocol.types import ZERO_HASH

COMMITMENT = keccak256(b"commitment")


def test_trace_leaf_is_packed_uint32_and_hash() -> None:
    a = act_hash([1, 2, 3])
    for index in (0, 1, 255, 2**32 - 1):
        expected = keccak256(encode_packed(["uint32", "bytes32"], [index, a]))
        assert trace_leaf(index, a) == expected
    assert trace_leaf(1, ZERO_HASH) == keccak256(b"\x00\x00\x00\x01" + bytes(32))


def test_trace_root_of_two_vectors() -> None:
    a0, a1 = act_hash([1]), act_hash([-1, 5])
    assert trace_leaves([a0, a1]) == [trace_leaf(0, a0), trace_leaf(1, a1)]
    assert trace_root([a0, a1]) == hash_pair(trace_leaf(0, a0), trace_leaf(1, a1))


def test_hidden_vectors_hash_to_zero_and_may_be_absent() -> None:
    vectors = [np.arange(i + 2, dtype=np.int8) for i in range(5)]  # h_0 .. h_4
    partitions = [
        PartitionSpec(1, 1, False, ZERO_HASH, ZERO_HASH),
        PartitionSpec(2, 4, True, COMMITMENT, ZERO_HASH),
    ]
    hidden = hidden_trace_indices(partitions)
    assert hidden == frozenset({2, 3})
    hashes = trace_activation_hashes(vectors, hidden)
    assert hashes == [
        act_hash(vectors[0]),
        act_hash(vectors[1]),
        ZERO_HASH,
        ZERO_HASH,
        act_hash(vectors[4]),
    ]
    without_hidden = [vectors[0], vectors[1], None, None, vectors[4]]
    assert trace_activation_hashes(without_hidden, hidden) == hashes
    tree = trace_tree(hashes)
    for i, a in enumerate(hashes):
        assert verify_merkle_proof(tree.proof(i), tree.root, trace_leaf(i, a))


def test_invalid_traces() -> None:
    v = [[0], [1], [2]]
    with pytest.raises(InvalidTraceError, match="at least 2"):
        trace_activation_hashes([[0]], frozenset())
    for bad_hidden in ({0}, {2}, {3}, {-1}):
        with pytest.raises(InvalidTraceError, match="strictly between"):
            trace_activation_hashes(v, frozenset(bad_hidden))
    with pytest.raises(InvalidTraceError, match="h_1 is public but missing"):
        trace_activation_hashes([[0], None, [2]], frozenset())
    with pytest.raises(InvalidActivationError):
        trace_activation_hashes([[0], [128]], frozenset())
    with pytest.raises(InvalidHashError):
        trace_leaf(0, bytes(31))
    with pytest.raises(ValueError, match="uint32"):
        trace_leaf(2**32, ZERO_HASH)
