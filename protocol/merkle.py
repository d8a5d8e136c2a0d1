"""
The sorted-pair Merkle tree used for batches, traces and weight rows.

Introduction
------------
One construction serves every tree of the protocol, compatible with
OpenZeppelin's ``MerkleProof`` (``processProof`` with commutative Keccak):

- ``hashPair(a, b) = keccak256(min(a, b) ‖ max(a, b))``, comparing the
  32-byte values as big-endian unsigned integers.
- Leaves stay in the order given; they are never sorted.
- Each level pairs elements ``(0, 1), (2, 3), …``; an odd last element is
  carried up to the next level unchanged.
- The root of one leaf is that leaf; an empty tree has no root.
- A proof lists the siblings from the leaf upwards, skipping the levels at
  which the node was carried.

Leaves are 32-byte hashes of preimages that are never 64 bytes long, so a
leaf cannot pose as an inner node. :class:`MerkleTree` keeps every level so
that the proofs of all ``n`` leaves cost ``O(n log n)`` together.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from .exceptions import EmptyTreeError, InvalidProofIndexError
from .keccak import keccak256
from .types import Hash32, hash32


def hash_pair(a: bytes, b: bytes) -> Hash32:
    """
    Hash two nodes in sorted order: ``keccak256(min(a, b) ‖ max(a, b))``.

    Parameters
    ----------
    a, b :
        32-byte nodes. For equal-length byte strings, ``bytes`` ordering is
        the ordering of the big-endian integers, as in Solidity.

    Returns
    -------
    parent : `Hash32`
        The parent node; ``hash_pair(a, b) == hash_pair(b, a)``.

    Raises
    ------
    InvalidHashError
        If either node is not 32 bytes.
    """
    a = hash32(a, "left node")
    b = hash32(b, "right node")
    return keccak256(a + b if a <= b else b + a)


@dataclass(frozen=True, slots=True)
class MerkleTree:
    """
    Every level of a sorted-pair Merkle tree, leaves first.

    Build one with :meth:`from_leaves`. ``levels[0]`` is the tuple of
    leaves, ``levels[-1]`` holds only the root, and ``levels[h + 1]`` has
    ``ceil(len(levels[h]) / 2)`` nodes.
    """

    levels: tuple[tuple[Hash32, ...], ...]

    @classmethod
    def from_leaves(cls, leaves: Sequence[bytes]) -> "MerkleTree":
        """
        Build all levels of the tree over ``leaves``.

        Parameters
        ----------
        leaves :
            32-byte leaves, in order; at least one.

        Returns
        -------
        tree : `MerkleTree`
            The tree; building it costs ``n - 1`` pair hashes.

        Raises
        ------
        EmptyTreeError
            If ``leaves`` is empty.
        InvalidHashError
            If a leaf is not 32 bytes.
        """
        if len(leaves) == 0:
            raise EmptyTreeError("a Merkle tree needs at least one leaf")
        level = tuple(hash32(leaf, f"leaf {i}") for i, leaf in enumerate(leaves))
        levels = [level]
        while len(level) > 1:
            parents = [_hash_sorted(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2 == 1:
                parents.append(level[-1])
            level = tuple(parents)
            levels.append(level)
        return cls(levels=tuple(levels))

    @property
    def leaves(self) -> tuple[Hash32, ...]:
        """The leaves, in the order given."""
        return self.levels[0]

    @property
    def root(self) -> Hash32:
        """The root: the single node of the last level."""
        return self.levels[-1][0]

    def proof(self, index: int) -> list[Hash32]:
        """
        Return the proof of the leaf at ``index``.

        Parameters
        ----------
        index :
            Position of the leaf, ``0 <= index < len(self.leaves)``.

        Returns
        -------
        proof : `list[Hash32]`
            Siblings from the leaf upwards, omitting the levels at which
            the node had no sibling; empty for a one-leaf tree.

        Raises
        ------
        InvalidProofIndexError
            If ``index`` is not a leaf position.
        """
        if isinstance(index, bool) or not isinstance(index, int):
            raise InvalidProofIndexError(f"leaf index must be an int, got {index!r}")
        if index < 0 or index >= len(self.levels[0]):
            raise InvalidProofIndexError(
                f"leaf index {index} is outside a tree of {len(self.levels[0])} leaves"
            )
        proof: list[Hash32] = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                proof.append(level[sibling])
            index //= 2
        return proof

    def proofs(self) -> list[list[Hash32]]:
        """
        Return the proof of every leaf, in leaf order.

        Returns
        -------
        proofs : `list[list[Hash32]]`
            ``proofs[i] == self.proof(i)``.
        """
        return [self.proof(i) for i in range(len(self.levels[0]))]


def merkle_root(leaves: Sequence[bytes]) -> Hash32:
    """
    Compute the root of the tree over ``leaves``.

    Parameters
    ----------
    leaves :
        32-byte leaves, in order; at least one.

    Returns
    -------
    root : `Hash32`
        The root; the leaf itself for a one-leaf tree.

    Raises
    ------
    EmptyTreeError
        If ``leaves`` is empty.
    InvalidHashError
        If a leaf is not 32 bytes.
    """
    return MerkleTree.from_leaves(leaves).root


def merkle_proof(leaves: Sequence[bytes], index: int) -> list[Hash32]:
    """
    Compute the proof of the leaf at ``index`` in the tree over ``leaves``.

    Build a :class:`MerkleTree` instead when proofs of many leaves of the
    same tree are needed.

    Parameters
    ----------
    leaves :
        32-byte leaves, in order; at least one.
    index :
        Position of the leaf to prove.

    Returns
    -------
    proof : `list[Hash32]`
        Siblings from the leaf upwards (see :meth:`MerkleTree.proof`).

    Raises
    ------
    EmptyTreeError
        If ``leaves`` is empty.
    InvalidProofIndexError
        If ``index`` is not a leaf position.
    """
    return MerkleTree.from_leaves(leaves).proof(index)


def process_proof(proof: Sequence[bytes], leaf: bytes) -> Hash32:
    """
    Fold a proof onto a leaf, as OpenZeppelin ``MerkleProof.processProof``.

    Parameters
    ----------
    proof :
        32-byte siblings, from the leaf upwards.
    leaf :
        The 32-byte leaf.

    Returns
    -------
    root : `Hash32`
        The root that ``proof`` and ``leaf`` imply.

    Raises
    ------
    InvalidHashError
        If the leaf or a proof element is not 32 bytes.
    """
    node = hash32(leaf, "leaf")
    for i, sibling in enumerate(proof):
        node = _hash_sorted(node, hash32(sibling, f"proof element {i}"))
    return node


def verify_merkle_proof(proof: Sequence[bytes], root: bytes, leaf: bytes) -> bool:
    """
    Check that ``leaf`` is in the tree of ``root``, as OpenZeppelin
    ``MerkleProof.verify``.

    Parameters
    ----------
    proof :
        32-byte siblings, from the leaf upwards.
    root :
        The expected 32-byte root.
    leaf :
        The 32-byte leaf.

    Returns
    -------
    valid : `bool`
        Whether folding ``proof`` onto ``leaf`` yields ``root``.

    Raises
    ------
    InvalidHashError
        If the root, the leaf or a proof element is not 32 bytes.
    """
    return process_proof(proof, leaf) == hash32(root, "root")


def _hash_sorted(a: Hash32, b: Hash32) -> Hash32:
    # hash_pair without re-validating nodes that are already Hash32.
    return keccak256(a + b if a <= b else b + a)
