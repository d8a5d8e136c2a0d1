"""Tests for protocol.weights."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.exceptions import InvalidActivationError, InvalidIntegerError, InvalidWeightsError
from protocol.keccak import keccak256
from protocol.merkle import merkle_root, verify_merkle_proof
from protocol.weights import (
    weight_root,
    weight_row_leaf,
    weight_row_leaves,
    weight_row_proof,
    weight_tree,
)
from tests.unit.protocol import reference


@st.composite
def layers(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    m = draw(st.integers(1, 9))
    n = draw(st.integers(1, 9))
    values = draw(st.lists(st.integers(-128, 127), min_size=m * n, max_size=m * n))
    biases = draw(st.lists(st.integers(-(2**31), 2**31 - 1), min_size=m, max_size=m))
    return np.array(values, dtype=np.int8).reshape(m, n), np.array(biases, dtype=np.int32)


@settings(deadline=None)
@given(layers())
def test_weight_root_matches_hand_encoding(layer: tuple[np.ndarray, np.ndarray]) -> None:
    weights, biases = layer
    rows = weights.tolist()
    leaves = [reference.row_leaf(j, int(biases[j]), rows[j]) for j in range(len(rows))]
    assert weight_row_leaves(weights, biases) == leaves
    assert weight_root(weights, biases) == merkle_root(leaves)
    tree = weight_tree(weights, biases)
    for j, leaf in enumerate(leaves):
        assert weight_row_proof(weights, biases, j) == tree.proof(j)
        assert verify_merkle_proof(tree.proof(j), tree.root, leaf)


def test_row_leaf_forms_and_extremes() -> None:
    row = [-128, 127, 0, -1]
    expected = reference.row_leaf(3, -(2**31), row)
    assert weight_row_leaf(3, -(2**31), row) == expected
    assert weight_row_leaf(3, -(2**31), np.array(row, dtype=np.int8)) == expected
    assert weight_row_leaf(3, -(2**31), bytes([0x80, 0x7F, 0x00, 0xFF])) == expected
    # The leaf is the hash of a 32-byte value, never of a 64-byte pair.
    inner = keccak256(b"\x00\x00\x00\x03" + b"\x80\x00\x00\x00" + bytes([0x80, 0x7F, 0, 0xFF]))
    assert expected == keccak256(inner)


def test_biases_of_any_integer_dtype_are_accepted_when_in_range() -> None:
    weights = np.ones((2, 3), dtype=np.int8)
    assert weight_root(weights, np.array([1, -1], dtype=np.int64)) == weight_root(
        weights, np.array([1, -1], dtype=np.int32)
    )


@pytest.mark.parametrize(
    ("weights", "biases", "message"),
    [
        (np.ones((2, 3), dtype=np.int16), np.zeros(2, dtype=np.int32), "int8"),
        (np.ones((2, 3)), np.zeros(2, dtype=np.int32), "int8"),
        ([[1, 2]], np.zeros(1, dtype=np.int32), "int8"),
        (np.ones(3, dtype=np.int8), np.zeros(3, dtype=np.int32), "shape"),
        (np.ones((0, 3), dtype=np.int8), np.zeros(0, dtype=np.int32), "shape"),
        (np.ones((2, 0), dtype=np.int8), np.zeros(2, dtype=np.int32), "shape"),
        (np.ones((2, 3), dtype=np.int8), np.zeros(3, dtype=np.int32), r"shape \(2,\)"),
        (np.ones((2, 3), dtype=np.int8), np.zeros(2), "integer"),
        (np.ones((2, 3), dtype=np.int8), [0, 0], "integer"),
        (np.ones((2, 3), dtype=np.int8), np.array([0, 2**31], dtype=np.int64), "int32"),
        (np.ones((2, 3), dtype=np.int8), np.array([-(2**31) - 1, 0]), "int32"),
    ],
)
def test_invalid_layers(weights: object, biases: object, message: str) -> None:
    with pytest.raises(InvalidWeightsError, match=message):
        weight_root(weights, biases)  # type: ignore[arg-type]


def test_invalid_row_leaf_inputs() -> None:
    with pytest.raises(InvalidIntegerError):
        weight_row_leaf(0, 2**31, [1])
    with pytest.raises(InvalidIntegerError):
        weight_row_leaf(-1, 0, [1])
    with pytest.raises(InvalidActivationError):
        weight_row_leaf(0, 0, [128])
    with pytest.raises(ValueError):
        weight_row_proof(np.ones((2, 2), dtype=np.int8), np.zeros(2, dtype=np.int32), 2)
