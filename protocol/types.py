"""
Domain types shared by the protocol rules.

Introduction
------------
Each quantity the protocol talks about gets its own name, in the style of
the consensus specs, so that a signature says what it expects: a
:data:`ModelId` is not any 32 bytes, a :data:`RequestId` is not any integer.
The types are :func:`typing.NewType` aliases, free at run time; the
constructors below (:func:`hash32`, :func:`to_address`, ...) are where a
raw value is checked and becomes a domain value.

Representation choices:

- Hashes and roots are 32-byte :class:`bytes` (not hex strings).
- Addresses are EIP-55 checksummed ``0x`` strings, the form web3 and
  ``eth_abi`` accept and print.
- Amounts and identifiers are Python :class:`int` (unbounded), checked
  against their Solidity width where they are encoded.
"""

from typing import NewType

from eth_utils.address import is_address, is_checksum_address, to_checksum_address

from .exceptions import InvalidAddressError, InvalidHashError, InvalidIntegerError

Hash32 = NewType("Hash32", bytes)
"""A Keccak-256 digest or Merkle root: exactly 32 bytes."""

ModelId = NewType("ModelId", Hash32)
"""A model's identity, ``modelId`` of ``docs/protocol.md``."""

Address = NewType("Address", str)
"""A 20-byte account address as an EIP-55 checksummed ``0x`` string."""

Wei = NewType("Wei", int)
"""An amount of ether in wei (a ``uint256``)."""

RequestId = NewType("RequestId", int)
"""An inference request's identifier (a ``uint256``)."""

BatchId = NewType("BatchId", int)
"""A committed batch's identifier (a ``uint256``)."""

ZERO_HASH = Hash32(bytes(32))
"""``bytes32(0)``: the leaf of a hidden activation, an absent commitment."""

HASH_LENGTH = 32


def hash32(value: bytes | bytearray | memoryview, what: str = "hash") -> Hash32:
    """
    Check that ``value`` is a 32-byte hash and return it as a :data:`Hash32`.

    Parameters
    ----------
    value :
        Candidate bytes; :class:`bytearray` and :class:`memoryview` are
        copied into :class:`bytes`.
    what :
        Name of the value, used in the error message.

    Returns
    -------
    hash : `Hash32`
        The same 32 bytes.

    Raises
    ------
    InvalidHashError
        If ``value`` is not bytes-like or is not exactly 32 bytes long.
    """
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise InvalidHashError(f"{what} must be 32 bytes, got {type(value).__name__}")
    raw = bytes(value)
    if len(raw) != HASH_LENGTH:
        raise InvalidHashError(f"{what} must be 32 bytes, got {len(raw)} bytes")
    return Hash32(raw)


def to_address(value: str | bytes, what: str = "address") -> Address:
    """
    Normalize an address to its checksummed string form.

    Parameters
    ----------
    value :
        A ``0x`` hex string, all lower case, all upper case or with a
        correct EIP-55 checksum (mixed case with a wrong checksum is
        rejected), or 20 raw bytes.
    what :
        Name of the value, used in the error message.

    Returns
    -------
    address : `Address`
        The EIP-55 checksummed form.

    Raises
    ------
    InvalidAddressError
        If ``value`` is not a valid 20-byte address.
    """
    if isinstance(value, (bytes, bytearray)):
        if len(value) != 20:
            raise InvalidAddressError(f"{what} must be 20 bytes, got {len(value)}")
        return Address(to_checksum_address(bytes(value)))
    if not isinstance(value, str) or not is_address(value):
        raise InvalidAddressError(f"{what} is not a valid address: {value!r}")
    digits = value[2:] if value[:2] in ("0x", "0X") else value
    mixed_case = digits != digits.lower() and digits != digits.upper()
    if mixed_case and not is_checksum_address(value):
        raise InvalidAddressError(f"{what} has a wrong EIP-55 checksum: {value!r}")
    return Address(to_checksum_address(value))


def require_address(value: object, what: str = "address") -> Address:
    """
    Check that ``value`` is already a checksummed address string.

    Parameters
    ----------
    value :
        The candidate.
    what :
        Name of the value, used in the error message.

    Returns
    -------
    address : `Address`
        ``value`` unchanged.

    Raises
    ------
    InvalidAddressError
        If ``value`` is not a ``str`` in EIP-55 checksummed form; use
        :func:`to_address` to normalize first.
    """
    if not isinstance(value, str) or not is_checksum_address(value):
        raise InvalidAddressError(
            f"{what} must be an EIP-55 checksummed address string, got {value!r}"
        )
    return Address(value)


def require_uint(value: object, bits: int, what: str) -> int:
    """
    Check that ``value`` is an ``int`` that fits ``uint<bits>``.

    Parameters
    ----------
    value :
        The candidate; ``bool`` is rejected even though it is an ``int``.
    bits :
        Width of the unsigned Solidity type.
    what :
        Name of the value, used in the error message.

    Returns
    -------
    value : `int`
        ``value`` unchanged.

    Raises
    ------
    InvalidIntegerError
        If ``value`` is not an ``int`` or is outside ``0 .. 2**bits - 1``.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidIntegerError(f"{what} must be an int, got {type(value).__name__}")
    if value < 0 or value >= 1 << bits:
        raise InvalidIntegerError(f"{what} = {value} does not fit uint{bits}")
    return value


def require_int(value: object, bits: int, what: str) -> int:
    """
    Check that ``value`` is an ``int`` that fits ``int<bits>``.

    Parameters
    ----------
    value :
        The candidate; ``bool`` is rejected even though it is an ``int``.
    bits :
        Width of the signed Solidity type.
    what :
        Name of the value, used in the error message.

    Returns
    -------
    value : `int`
        ``value`` unchanged.

    Raises
    ------
    InvalidIntegerError
        If ``value`` is not an ``int`` or is outside
        ``-2**(bits-1) .. 2**(bits-1) - 1``.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidIntegerError(f"{what} must be an int, got {type(value).__name__}")
    half = 1 << (bits - 1)
    if value < -half or value >= half:
        raise InvalidIntegerError(f"{what} = {value} does not fit int{bits}")
    return value
