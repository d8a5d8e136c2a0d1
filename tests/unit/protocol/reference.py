"""
Independent re-derivations of the protocol rules, for the tests.

Each function here computes a rule of ``docs/protocol.md`` a second way,
without going through the ``protocol`` code under test (only its Keccak):
ABI encodings are written out word by word or built with ``eth_abi.packed``
and ``struct``, the Merkle root is computed recursively with integer
comparison, and requantization uses exact rationals.
"""

import math
import struct
from collections.abc import Sequence
from fractions import Fraction

from eth_abi.packed import encode_packed

from protocol.keccak import keccak256
from protocol.model_id import LayerHeader, PartitionSpec
from protocol.receipts import Receipt


def word(value: int) -> bytes:
    """One big-endian 32-byte ABI word."""
    return value.to_bytes(32, "big")


def act_hash(raw: bytes) -> bytes:
    """keccak256(abi.encodePacked(uint32(len), bytes(v))) via eth_abi.packed."""
    return keccak256(encode_packed(["uint32", "bytes"], [len(raw), raw]))


def sorted_pair(a: bytes, b: bytes) -> bytes:
    """The OpenZeppelin commutative hash, comparing the nodes as uint256."""
    low, high = sorted((int.from_bytes(a, "big"), int.from_bytes(b, "big")))
    return keccak256(word(low) + word(high))


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """A recursive reading of the rule: pair up, carry an odd last node."""
    if len(leaves) == 1:
        return leaves[0]
    parents = [sorted_pair(leaves[i], leaves[i + 1]) for i in range(0, len(leaves) - 1, 2)]
    if len(leaves) % 2:
        parents.append(leaves[-1])
    return merkle_root(parents)


def receipt_preimage(r: Receipt) -> bytes:
    """abi.encode of a receipt's seven static words, written out by hand."""
    return (
        word(r.request_id)
        + r.model_id
        + r.input_hash
        + r.output_hash
        + r.trace_root
        + bytes(12)
        + bytes.fromhex(r.node[2:])
        + bytes(12)
        + bytes.fromhex(r.client[2:])
    )


def row_leaf(j: int, bias: int, row: Sequence[int]) -> bytes:
    """keccak256(keccak256(uint32 BE j ‖ int32 BE bias ‖ int8 row)), via struct."""
    return keccak256(keccak256(struct.pack(f">Ii{len(row)}b", j, bias, *row)))


def requant(z: int, m: int, k: int, activation: int) -> int:
    """Round half up with exact rationals: floor(z·M / 2^k + 1/2), then clamp."""
    q = math.floor(Fraction(z * m, 2**k) + Fraction(1, 2))
    return min(127, max(0 if activation == 1 else -128, q))


def model_id(
    headers: Sequence[LayerHeader], roots: Sequence[bytes], parts: Sequence[PartitionSpec]
) -> bytes:
    """abi.encode(bytes32, (5 words)[], bytes32[], (5 words)[]) written out by hand."""
    header_tail = word(len(headers)) + b"".join(
        word(h.in_dim) + word(h.out_dim) + word(h.multiplier) + word(h.shift) + word(h.activation)
        for h in headers
    )
    roots_tail = word(len(roots)) + b"".join(roots)
    parts_tail = word(len(parts)) + b"".join(
        word(p.first_layer)
        + word(p.last_layer)
        + word(int(p.sensitive))
        + p.weight_commitment
        + p.setup_id
        for p in parts
    )
    head_size = 4 * 32  # the domain word and three offsets
    offsets = (
        head_size,
        head_size + len(header_tail),
        head_size + len(header_tail) + len(roots_tail),
    )
    return keccak256(
        keccak256(b"opzk.model.v1")
        + b"".join(word(o) for o in offsets)
        + header_tail
        + roots_tail
        + parts_tail
    )
