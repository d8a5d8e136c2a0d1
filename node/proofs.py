"""
Merkle proofs of committed receipts, rebuilt from the stored leaves and cached per batch.

The node does not store proofs: a batch's tree (:class:`protocol.merkle.MerkleTree`, the same one
the batcher posted the root of) is rebuilt from its leaves in leaf order the first time one of its
receipts is asked for, and the most recent trees are kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from protocol.merkle import MerkleTree

from .hashing import merkle_tree
from .store import Store


class BatchProofs:
    """Proofs of receipts in batches, with an LRU of trees."""

    def __init__(self, store: Store, *, capacity: int = 64) -> None:
        self._store = store
        self._capacity = capacity
        self._trees: OrderedDict[int, MerkleTree] = OrderedDict()
        self._lock = threading.Lock()

    def tree(self, batch_row: int) -> MerkleTree:
        """The tree of the batch stored as ``batch_row``."""
        with self._lock:
            tree = self._trees.get(batch_row)
            if tree is not None:
                self._trees.move_to_end(batch_row)
                return tree
        tree = merkle_tree(self._store.batch_leaves(batch_row))
        with self._lock:
            self._trees[batch_row] = tree
            while len(self._trees) > self._capacity:
                self._trees.popitem(last=False)
        return tree

    def proof(self, batch_row: int, leaf_index: int) -> list[bytes]:
        """The proof of leaf ``leaf_index`` of the batch."""
        return [bytes(h) for h in self.tree(batch_row).proof(leaf_index)]
