"""Tests for protocol.merkle."""

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.exceptions import EmptyTreeError, InvalidHashError, InvalidProofIndexError
from protocol.keccak import keccak256
from protocol.merkle import (
    MerkleTree,
    hash_pair,
    merkle_proof,
    merkle_root,
    process_proof,
    verify_merkle_proof,
)
from tests.unit.protocol import reference

hashes = st.binary(min_size=32, max_size=32)
leaf_lists = st.lists(hashes, min_size=1, max_size=70)


def leaf(i: int) -> bytes:
    return keccak256(i.to_bytes(32, "big"))


def flip_bit(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def test_hash_pair_is_sorted_and_commutative() -> None:
    low, high = bytes(31) + b"\x01", b"\x01" + bytes(31)
    assert hash_pair(low, high) == hash_pair(high, low) == keccak256(low + high)
    assert hash_pair(low, low) == keccak256(low + low)


def test_small_trees_by_hand() -> None:
    a, b, c, d, e = (leaf(i) for i in range(5))
    assert merkle_root([a]) == a
    assert merkle_root([a, b]) == reference.sorted_pair(a, b)
    assert merkle_root([a, b, c]) == reference.sorted_pair(reference.sorted_pair(a, b), c)
    ab, cd = reference.sorted_pair(a, b), reference.sorted_pair(c, d)
    assert merkle_root([a, b, c, d, e]) == reference.sorted_pair(reference.sorted_pair(ab, cd), e)
    # The carried leaf's proof skips the levels where it had no sibling.
    assert merkle_proof([a, b, c, d, e], 4) == [reference.sorted_pair(ab, cd)]
    assert merkle_proof([a, b, c], 2) == [ab]
    assert merkle_proof([a, b, c], 0) == [b, c]
    assert merkle_proof([a], 0) == []


def test_leaf_order_matters() -> None:
    a, b, c = leaf(0), leaf(1), leaf(2)
    assert merkle_root([a, b, c]) != merkle_root([c, b, a])


@settings(deadline=None)
@given(leaf_lists)
def test_root_matches_reference_and_every_proof_verifies(leaves: list[bytes]) -> None:
    tree = MerkleTree.from_leaves(leaves)
    assert tree.root == reference.merkle_root(leaves) == merkle_root(leaves)
    assert tree.leaves == tuple(leaves)
    for index, proof in enumerate(tree.proofs()):
        assert proof == merkle_proof(leaves, index)
        assert len(proof) <= (len(leaves) - 1).bit_length()
        assert verify_merkle_proof(proof, tree.root, leaves[index])
        assert process_proof(proof, leaves[index]) == tree.root


@settings(deadline=None)
@given(leaf_lists, st.data())
def test_any_flipped_bit_breaks_the_proof(leaves: list[bytes], data: st.DataObject) -> None:
    tree = MerkleTree.from_leaves(leaves)
    index = data.draw(st.integers(0, len(leaves) - 1))
    proof = tree.proof(index)
    bit = data.draw(st.integers(0, 255))
    assert not verify_merkle_proof(proof, tree.root, flip_bit(leaves[index], bit))
    assert not verify_merkle_proof(proof, flip_bit(tree.root, bit), leaves[index])
    if proof:
        position = data.draw(st.integers(0, len(proof) - 1))
        broken: list[bytes] = list(proof)
        broken[position] = flip_bit(broken[position], bit)
        assert not verify_merkle_proof(broken, tree.root, leaves[index])
        assert not verify_merkle_proof(proof[:-1], tree.root, leaves[index])


def test_levels_shape() -> None:
    tree = MerkleTree.from_leaves([leaf(i) for i in range(13)])
    assert [len(level) for level in tree.levels] == [13, 7, 4, 2, 1]


def test_invalid_input() -> None:
    with pytest.raises(EmptyTreeError):
        merkle_root([])
    with pytest.raises(EmptyTreeError):
        MerkleTree.from_leaves([])
    with pytest.raises(InvalidHashError, match="leaf 1"):
        merkle_root([leaf(0), bytes(31)])
    tree = MerkleTree.from_leaves([leaf(0), leaf(1), leaf(2)])
    for bad in (-1, 3, True):
        with pytest.raises(InvalidProofIndexError):
            tree.proof(bad)
    with pytest.raises(InvalidHashError):
        verify_merkle_proof([bytes(31)], tree.root, leaf(0))
    with pytest.raises(InvalidHashError):
        verify_merkle_proof([], bytes(33), leaf(0))
    with pytest.raises(InvalidHashError):
        hash_pair(b"", leaf(0))


def test_all_proofs_of_a_large_tree_are_cheap() -> None:
    leaves = [leaf(i) for i in range(1 << 14)]
    start = time.perf_counter()
    tree = MerkleTree.from_leaves(leaves)
    proofs = tree.proofs()
    elapsed = time.perf_counter() - start
    assert all(len(p) == 14 for p in proofs)
    for index in (0, 1, 4097, len(leaves) - 1):
        assert verify_merkle_proof(proofs[index], tree.root, leaves[index])
    # n - 1 hashes plus n·log n list copies: well under a few seconds.
    assert elapsed < 5.0
