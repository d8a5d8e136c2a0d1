"""Tests for protocol.receipts."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.exceptions import InvalidAddressError, InvalidHashError, InvalidIntegerError
from protocol.keccak import keccak256
from protocol.merkle import merkle_root, verify_merkle_proof
from protocol.receipts import Receipt, batch_root, batch_tree, receipt_leaf, result_hash
from protocol.types import Hash32, ModelId, RequestId, hash32, to_address
from tests.unit.protocol import reference

NODE = to_address("0x" + "11" * 20)
CLIENT = to_address("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")


def make_receipt(request_id: int = 7, seed: bytes = b"") -> Receipt:
    return Receipt(
        request_id=RequestId(request_id),
        model_id=ModelId(keccak256(b"model" + seed)),
        input_hash=keccak256(b"in" + seed),
        output_hash=keccak256(b"out" + seed),
        trace_root=keccak256(b"trace" + seed),
        node=NODE,
        client=CLIENT,
    )


@given(st.integers(0, 2**256 - 1), st.binary(max_size=8))
def test_receipt_leaf_matches_hand_encoding(request_id: int, seed: bytes) -> None:
    receipt = make_receipt(request_id, seed)
    preimage = reference.receipt_preimage(receipt)
    assert len(preimage) == 224
    assert receipt_leaf(receipt) == keccak256(preimage)


def test_result_hash_is_two_words() -> None:
    out, root = keccak256(b"o"), keccak256(b"r")
    assert result_hash(out, root) == keccak256(out + root)
    assert result_hash(out, root) != result_hash(root, out)
    with pytest.raises(InvalidHashError):
        result_hash(out, root[:31])


def test_batch_root_and_proofs() -> None:
    receipts = [make_receipt(i, bytes([i])) for i in range(6)]
    leaves = [keccak256(reference.receipt_preimage(r)) for r in receipts]
    assert batch_root(receipts) == merkle_root(leaves)
    tree = batch_tree(receipts)
    for i, leaf in enumerate(leaves):
        assert verify_merkle_proof(tree.proof(i), tree.root, leaf)
    assert batch_root(receipts[:1]) == leaves[0]


def test_every_field_changes_the_leaf() -> None:
    base = make_receipt()
    other = Hash32(keccak256(b"other"))
    variants = [
        make_receipt(8),
        Receipt(
            base.request_id,
            ModelId(other),
            base.input_hash,
            base.output_hash,
            base.trace_root,
            base.node,
            base.client,
        ),
        Receipt(
            base.request_id,
            base.model_id,
            other,
            base.output_hash,
            base.trace_root,
            base.node,
            base.client,
        ),
        Receipt(
            base.request_id,
            base.model_id,
            base.input_hash,
            other,
            base.trace_root,
            base.node,
            base.client,
        ),
        Receipt(
            base.request_id,
            base.model_id,
            base.input_hash,
            base.output_hash,
            other,
            base.node,
            base.client,
        ),
        Receipt(
            base.request_id,
            base.model_id,
            base.input_hash,
            base.output_hash,
            base.trace_root,
            CLIENT,
            base.client,
        ),
        Receipt(
            base.request_id,
            base.model_id,
            base.input_hash,
            base.output_hash,
            base.trace_root,
            base.node,
            NODE,
        ),
    ]
    leaves = {receipt_leaf(r) for r in variants}
    assert len(leaves) == len(variants)
    assert receipt_leaf(base) not in leaves


def test_invalid_receipts() -> None:
    good = make_receipt()
    h = hash32(bytes(32))
    with pytest.raises(InvalidIntegerError):
        Receipt(RequestId(-1), good.model_id, h, h, h, NODE, CLIENT)
    with pytest.raises(InvalidIntegerError):
        Receipt(RequestId(2**256), good.model_id, h, h, h, NODE, CLIENT)
    with pytest.raises(InvalidHashError, match="input_hash"):
        Receipt(good.request_id, good.model_id, Hash32(bytes(31)), h, h, NODE, CLIENT)
    with pytest.raises(InvalidHashError, match="model_id"):
        Receipt(good.request_id, ModelId(Hash32(b"")), h, h, h, NODE, CLIENT)
    with pytest.raises(InvalidAddressError, match="client"):
        Receipt(good.request_id, good.model_id, h, h, h, NODE, CLIENT.lower())  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        batch_root([])


def test_claim_key_is_the_abi_encoding_of_source_container_and_leaf() -> None:
    from eth_abi.abi import encode

    from protocol.exceptions import InvalidHashError, InvalidIntegerError
    from protocol.receipts import claim_key

    leaf = keccak256(b"receipt")
    for source, container in [(0, 1), (1, 2**256 - 1), (1, 0)]:
        expected = keccak256(encode(["uint8", "uint256", "bytes32"], [source, container, leaf]))
        assert claim_key(source, container, leaf) == expected
    with pytest.raises(InvalidIntegerError):
        claim_key(2, 1, leaf)
    with pytest.raises(InvalidIntegerError):
        claim_key(0, 2**256, leaf)
    with pytest.raises(InvalidHashError):
        claim_key(0, 1, leaf[:31])
