"""The request path's fast hashing gives exactly the protocol's digests."""

from __future__ import annotations

import numpy as np
import pytest

from node.claims import build_receipts, split_trace
from node.hashing import (
    act_hash_fast,
    claim_key,
    keccak,
    receipt_leaf_fast,
    trace_hashes,
    trace_root_fast,
)
from node.runtime import serve_model
from protocol.activations import act_hash
from protocol.keccak import keccak256
from protocol.model import forward_trace
from protocol.receipts import Receipt, receipt_leaf
from protocol.receipts import claim_key as protocol_claim_key
from protocol.trace import trace_activation_hashes, trace_root
from protocol.types import to_address
from tests.unit.node.helpers import CLIENT, NODE, model_files


@pytest.mark.parametrize("size", [0, 1, 31, 32, 33, 135, 136, 137, 224, 1000])
def test_keccak_matches_protocol(size: int) -> None:
    data = bytes(np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8))
    assert keccak(data) == keccak256(data)


def test_act_hash_and_trace_root_match_protocol() -> None:
    rng = np.random.default_rng(1)
    for length in (1, 2, 3, 5, 8, 13):
        vectors = [
            rng.integers(-128, 128, rng.integers(0, 80)).astype(np.int8) for _ in range(length)
        ]
        assert [act_hash_fast(v) for v in vectors] == [act_hash(v) for v in vectors]
        hidden = frozenset(range(1, length - 1, 2))
        if length >= 2:
            expected = trace_activation_hashes(list(vectors), hidden)
            assert trace_hashes(vectors, hidden) == expected
            assert trace_root_fast(expected) == trace_root(expected)


def test_receipt_leaf_and_claim_key_match_protocol() -> None:
    rng = np.random.default_rng(2)
    for _ in range(50):
        fields = [bytes(rng.integers(0, 256, 32, dtype=np.uint8)) for _ in range(4)]
        request_id = int(rng.integers(0, 2**62)) * (2**190 if rng.random() < 0.3 else 1)
        receipt = Receipt(
            request_id=request_id,  # type: ignore[arg-type]
            model_id=fields[0],  # type: ignore[arg-type]
            input_hash=fields[1],  # type: ignore[arg-type]
            output_hash=fields[2],  # type: ignore[arg-type]
            trace_root=fields[3],  # type: ignore[arg-type]
            node=to_address(NODE),
            client=to_address(CLIENT),
        )
        fast = receipt_leaf_fast(
            request_id, *fields, bytes.fromhex(NODE[2:]), bytes.fromhex(CLIENT[2:])
        )
        assert fast == receipt_leaf(receipt)
    leaf = keccak256(b"leaf")
    for source, container in [(0, 7), (1, 2**256 - 1), (0, 0)]:
        assert claim_key(source, container, leaf) == protocol_claim_key(source, container, leaf)


@pytest.mark.parametrize("name", ["public", "sensitive", "digits"])
def test_build_receipts_matches_the_reference(name: str, tmp_path: object) -> None:
    from pathlib import Path

    served = serve_model(model_files(Path(str(tmp_path)))[name])
    rng = np.random.default_rng(5)
    xs = rng.integers(-128, 128, (6, served.in_dim)).astype(np.int8)
    traces = [forward_trace(served.model, x) for x in xs]
    stacked = [np.stack([t[i] for t in traces]) for i in range(len(traces[0]))]
    rows = build_receipts(
        served, stacked, range(10, 16), node=NODE, clients=[CLIENT] * 6, created_at=0.0
    )
    for row, trace in zip(rows, traces, strict=True):
        hashes = trace_activation_hashes(
            [None if i in served.hidden else v for i, v in enumerate(trace)], served.hidden
        )
        expected = Receipt(
            request_id=row.request_id,  # type: ignore[arg-type]
            model_id=served.model.model_id(),
            input_hash=hashes[0],
            output_hash=hashes[-1],
            trace_root=trace_root(hashes),
            node=to_address(NODE),
            client=to_address(CLIENT),
        )
        assert row.receipt_leaf == receipt_leaf(expected)
        assert row.activation_hashes == b"".join(hashes)
        assert row.output == trace[-1].tobytes()
        unpacked = split_trace(served, row.trace)
        for i, v in enumerate(unpacked):
            if i in served.hidden:
                assert v is None
            else:
                assert v is not None and v.tolist() == trace[i].tolist()
        # Hidden vectors are never stored: the packed trace holds only public ones.
        assert len(row.trace) == sum(d for i, d in enumerate(served.dims) if i not in served.hidden)


@pytest.mark.parametrize("count", [1, 2, 3, 7, 64, 1000, 1025])
def test_merkle_tree_equals_the_protocol_tree(count: int) -> None:
    from node.hashing import merkle_tree
    from protocol.merkle import MerkleTree

    rng = np.random.default_rng(count)
    leaves = [bytes(rng.integers(0, 256, 32, dtype=np.uint8)) for _ in range(count)]
    assert merkle_tree(leaves) == MerkleTree.from_leaves(leaves)


def test_merkle_tree_refuses_what_the_protocol_refuses() -> None:
    from node.hashing import merkle_tree
    from protocol.exceptions import EmptyTreeError, InvalidHashError

    with pytest.raises(EmptyTreeError):
        merkle_tree([])
    with pytest.raises(InvalidHashError):
        merkle_tree([bytes(32), bytes(31)])
