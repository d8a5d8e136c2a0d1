"""Tests for protocol.types and protocol.keccak."""

import hashlib

import pytest
from eth_utils.crypto import keccak as eth_utils_keccak

from protocol.exceptions import InvalidAddressError, InvalidHashError, InvalidIntegerError
from protocol.keccak import keccak256
from protocol.types import (
    ZERO_HASH,
    hash32,
    require_address,
    require_int,
    require_uint,
    to_address,
)

CHECKSUMMED = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # the EIP-55 example


def test_keccak256_known_digests() -> None:
    assert keccak256(b"").hex() == (
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )
    assert keccak256(b"abc").hex() == (
        "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
    )


@pytest.mark.parametrize("data", [b"", b"\x00", b"opzk.model.v1", bytes(range(256)) * 3])
def test_keccak256_matches_eth_utils_and_is_not_sha3(data: bytes) -> None:
    assert keccak256(data) == eth_utils_keccak(data)
    assert keccak256(data) != hashlib.sha3_256(data).digest()


def test_hash32_accepts_32_bytes_only() -> None:
    assert hash32(bytearray(32)) == ZERO_HASH
    assert isinstance(hash32(memoryview(bytes(32))), bytes)
    for bad in (b"", bytes(31), bytes(33)):
        with pytest.raises(InvalidHashError, match="32 bytes"):
            hash32(bad)
    with pytest.raises(InvalidHashError):
        hash32("00" * 32)  # type: ignore[arg-type]


def test_to_address_normalizes() -> None:
    assert to_address(CHECKSUMMED.lower()) == CHECKSUMMED
    assert to_address(bytes.fromhex(CHECKSUMMED[2:])) == CHECKSUMMED
    for bad in ("0x1234", "not an address", CHECKSUMMED.replace("a", "A", 1), bytes(19)):
        with pytest.raises(InvalidAddressError):
            to_address(bad)


def test_require_address_wants_the_checksummed_form() -> None:
    assert require_address(CHECKSUMMED) == CHECKSUMMED
    for bad in (CHECKSUMMED.lower(), CHECKSUMMED.replace("a", "A", 1)):
        with pytest.raises(InvalidAddressError, match="checksummed"):
            require_address(bad)
    with pytest.raises(InvalidAddressError):
        require_address(bytes(20))


def test_integer_width_checks() -> None:
    assert require_uint(2**32 - 1, 32, "x") == 2**32 - 1
    assert require_int(-(2**31), 32, "x") == -(2**31)
    for value in (-1, 2**32):
        with pytest.raises(InvalidIntegerError, match="uint32"):
            require_uint(value, 32, "x")
    for value in (-(2**31) - 1, 2**31):
        with pytest.raises(InvalidIntegerError, match="int32"):
            require_int(value, 32, "x")
    not_ints: tuple[object, ...] = (True, 1.0, "1")
    for not_int in not_ints:
        with pytest.raises(InvalidIntegerError, match="must be an int"):
            require_uint(not_int, 32, "x")
