"""
Keccak-256, the only hash function of the protocol.

Introduction
------------
This is Ethereum's Keccak-256 (the pre-standard padding), as Solidity's
``keccak256``; it is *not* :func:`hashlib.sha3_256`.
"""

from Crypto.Hash import keccak as _keccak

from .types import Hash32


def keccak256(data: bytes) -> Hash32:
    """
    Hash ``data`` with Keccak-256.

    Parameters
    ----------
    data :
        The preimage, of any length.

    Returns
    -------
    digest : `Hash32`
        The 32-byte digest, equal to Solidity ``keccak256(data)``.
    """
    return Hash32(_keccak.new(digest_bits=256, data=data).digest())
