"""Tests for protocol.activations."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.activations import act_hash, int8_array, int8_bytes
from protocol.exceptions import InvalidActivationError, ProtocolError
from protocol.keccak import keccak256
from tests.unit.protocol import reference

int8_lists = st.lists(st.integers(-128, 127), max_size=300)


@given(int8_lists)
def test_act_hash_matches_encode_packed_in_every_form(values: list[int]) -> None:
    expected = reference.act_hash(bytes(v % 256 for v in values))
    assert act_hash(values) == expected
    assert act_hash(tuple(values)) == expected
    assert act_hash(np.array(values, dtype=np.int8)) == expected
    assert act_hash(np.array(values, dtype=np.int8).tobytes()) == expected


@given(int8_lists)
def test_int8_bytes_round_trips(values: list[int]) -> None:
    raw = int8_bytes(values)
    assert len(raw) == len(values)
    assert int8_array(raw).tolist() == values


def test_known_encodings() -> None:
    assert int8_bytes([-128, -1, 0, 1, 127]) == bytes([0x80, 0xFF, 0x00, 0x01, 0x7F])
    assert act_hash(b"") == keccak256(bytes(4))
    assert act_hash([-1]) == keccak256(bytes([0, 0, 0, 1, 0xFF]))
    # The length prefix separates vectors whose bytes would otherwise collide.
    assert act_hash(bytes(4)) != act_hash(b"")


def test_non_contiguous_array_is_read_in_order() -> None:
    matrix = np.arange(-8, 8, dtype=np.int8).reshape(4, 4)
    column = matrix[:, 1]
    assert not column.flags["C_CONTIGUOUS"]
    assert int8_bytes(column) == int8_bytes([int(v) for v in column])


@pytest.mark.parametrize(
    "bad",
    [
        [128],
        [-129],
        [0, 1, 300],
        [1.0],
        [True],
        ["1"],
        [None],
        np.array([1, 2], dtype=np.int16),
        np.array([1, 2], dtype=np.uint8),
        np.array([1.0]),
        np.zeros((2, 2), dtype=np.int8),
        np.int8(3),
        "abc",
        None,
        3,
    ],
)
def test_invalid_vectors_are_rejected(bad: object) -> None:
    with pytest.raises(InvalidActivationError):
        int8_bytes(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):  # the error is a ValueError for plain callers
        act_hash(bad)  # type: ignore[arg-type]


def test_error_names_the_bad_position() -> None:
    with pytest.raises(ProtocolError, match=r"\[2\] = 128"):
        int8_bytes([0, 0, 128])


def test_numpy_integer_elements_are_accepted() -> None:
    assert int8_bytes([np.int64(-5), np.int8(5)]) == bytes([0xFB, 0x05])
