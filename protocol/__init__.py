"""
The opzk protocol rules, as plain I/O-free Python.

Introduction
------------
This package is the reference for every rule that the off-chain services
and the Solidity contracts must agree on bit for bit: activation hashes,
traces, the sorted-pair Merkle tree, receipts and batches, public weight
commitments, integer requantization and model identity. The normative text
is ``docs/protocol.md``; the shared vectors in ``tests/vectors/`` pin each
rule for both languages.

Modules are small and import nothing heavier than ``numpy`` and
``eth_abi``, except the torch runtime (:mod:`protocol.runtime_torch`) and the
quantizer (:mod:`protocol.quantize`, torch imported inside); import the one
you need (``from protocol.merkle import merkle_root``).
"""
