"""Tests for protocol.requant."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.exceptions import (
    InvalidActivationError,
    InvalidIntegerError,
    InvalidRequantParameterError,
)
from protocol.requant import Activation, qlinear, qlinear_row, requant, requant_array
from tests.unit.protocol import reference

Z_MAX = 2**31 - 1
M_MAX = 2**31 - 1

accumulators = st.one_of(
    st.integers(-Z_MAX, Z_MAX),
    st.sampled_from([0, 1, -1, Z_MAX, -Z_MAX, 2**30, -(2**30)]),
    st.integers(-1000, 1000),
)
multipliers = st.one_of(st.integers(0, M_MAX), st.sampled_from([0, 1, M_MAX]))
shifts = st.integers(1, 62)
activations = st.sampled_from([Activation.NONE, Activation.RELU])


@given(accumulators, multipliers, shifts, activations)
def test_requant_matches_rational_reference(z: int, m: int, k: int, act: Activation) -> None:
    assert requant(z, m, k, act) == reference.requant(z, m, k, act)


@pytest.mark.parametrize(
    ("z", "m", "k", "activation", "expected"),
    [
        (5, 1, 1, Activation.NONE, 3),  # 2.5 rounds up
        (-5, 1, 1, Activation.NONE, -2),  # -2.5 rounds up too (towards +inf)
        (-3, 1, 1, Activation.NONE, -1),  # -1.5 -> -1
        (-7, 1, 2, Activation.NONE, -2),  # -1.75 -> -2
        (3, 1, 1, Activation.NONE, 2),  # 1.5 -> 2
        (0, M_MAX, 62, Activation.NONE, 0),
        (Z_MAX, 0, 1, Activation.NONE, 0),  # M = 0: always round(0)
        (Z_MAX, M_MAX, 62, Activation.NONE, 1),  # (2^31-1)^2 / 2^62 ~ 1.0
        (-Z_MAX, M_MAX, 62, Activation.NONE, -1),
        (-Z_MAX, M_MAX, 1, Activation.NONE, -128),
        (-Z_MAX, M_MAX, 1, Activation.RELU, 0),
        (Z_MAX, M_MAX, 1, Activation.RELU, 127),
        (127 << 4, 1, 4, Activation.NONE, 127),
        ((128 << 4) - 9, 1, 4, Activation.NONE, 127),  # 127.4375 -> 127
        ((128 << 4) - 8, 1, 4, Activation.NONE, 127),  # 127.5 -> 128 -> clamp 127
        (-(128 << 4) - 8, 1, 4, Activation.NONE, -128),  # -128.5 -> -128
        (-(128 << 4) - 9, 1, 4, Activation.NONE, -128),  # -128.56 -> -129 -> clamp
        (-8, 1, 4, Activation.RELU, 0),  # -0.5 -> 0
        (-9, 1, 4, Activation.NONE, -1),
    ],
)
def test_requant_examples(z: int, m: int, k: int, activation: Activation, expected: int) -> None:
    assert requant(z, m, k, activation) == expected


@pytest.mark.parametrize(
    ("z", "m", "k", "activation"),
    [
        (2**31, 1, 1, Activation.NONE),
        (-(2**31), 1, 1, Activation.NONE),
        (0, -1, 1, Activation.NONE),
        (0, 2**31, 1, Activation.NONE),
        (0, 1, 0, Activation.NONE),
        (0, 1, 63, Activation.NONE),
        (0, 1, 1, 2),
        (0, 1, 1, -1),
        (True, 1, 1, Activation.NONE),
        (0, True, 1, Activation.NONE),
        (0, 1, True, Activation.NONE),
        (0, 1, 1, True),
        (0, 1, 1, 1.0),
        (1.0, 1, 1, Activation.NONE),
        (0, 1.0, 1, Activation.NONE),
    ],
)
def test_requant_rejects_out_of_range(z: object, m: object, k: object, activation: object) -> None:
    with pytest.raises(InvalidRequantParameterError):
        requant(z, m, k, activation)  # type: ignore[arg-type]


@settings(deadline=None)
@given(st.lists(accumulators, max_size=64), multipliers, shifts, activations)
def test_requant_array_is_bit_exact(zs: list[int], m: int, k: int, act: Activation) -> None:
    out = requant_array(np.array(zs, dtype=np.int64), m, k, act)
    assert out.dtype == np.int8
    assert out.tolist() == [requant(z, m, k, act) for z in zs]


def test_requant_array_extremes_and_dtypes() -> None:
    zs = np.array([Z_MAX, -Z_MAX, 0, 1, -1], dtype=np.int64)
    for m in (0, 1, M_MAX):
        for k in (1, 2, 31, 32, 61, 62):
            for act in Activation:
                expected = [requant(int(z), m, k, act) for z in zs]
                assert requant_array(zs, m, k, act).tolist() == expected
                assert requant_array(zs.astype(np.int32), m, k, act).tolist() == expected
    grid = np.arange(-12, 13, dtype=np.int64).reshape(5, 5)
    assert requant_array(grid, 3, 2, Activation.NONE).shape == (5, 5)
    assert requant_array(np.array([], dtype=np.int64), 1, 1, Activation.NONE).size == 0
    big = np.array([2**63 - 1], dtype=np.uint64)
    with pytest.raises(InvalidRequantParameterError):
        requant_array(big, 1, 1, Activation.NONE)
    for bad in (np.array([2**31]), np.array([-(2**31)]), np.array([1.0]), [1, 2]):
        with pytest.raises(InvalidRequantParameterError):
            requant_array(bad, 1, 1, Activation.NONE)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequantParameterError):
        requant_array(zs, 1, 63, Activation.NONE)


def test_qlinear_row_by_hand() -> None:
    # z = 1·-2 + 3·4 + (-128)·1 + 10 = -108; M = 3, k = 2: (-324 + 2) >> 2 = -81 (floor of -80.5)
    assert qlinear_row([1, 3, -128], 10, [-2, 4, 1], 3, 2, Activation.NONE) == -81
    assert qlinear_row([1, 3, -128], 10, [-2, 4, 1], 3, 2, Activation.RELU) == 0
    with pytest.raises(InvalidRequantParameterError, match="3 values but the input has 2"):
        qlinear_row([1, 2, 3], 0, [1, 2], 1, 1, Activation.NONE)
    with pytest.raises(InvalidActivationError):
        qlinear_row([1, 2], 0, [1, 200], 1, 1, Activation.NONE)
    with pytest.raises(InvalidIntegerError):
        qlinear_row([1], 2**31, [1], 1, 1, Activation.NONE)
    # 17 products of 128·128 plus a large bias leave the int32 accumulator range.
    row = [-128] * 17
    with pytest.raises(InvalidRequantParameterError, match="accumulator"):
        qlinear_row(row, 2**31 - 1, row, 1, 1, Activation.NONE)


@st.composite
def layer_cases(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    m = draw(st.integers(1, 8))
    n = draw(st.integers(1, 16))
    weights = draw(st.lists(st.integers(-128, 127), min_size=m * n, max_size=m * n))
    biases = draw(st.lists(st.integers(-(2**24), 2**24), min_size=m, max_size=m))
    x = draw(st.lists(st.integers(-128, 127), min_size=n, max_size=n))
    return (
        np.array(weights, dtype=np.int8).reshape(m, n),
        np.array(biases, dtype=np.int32),
        np.array(x, dtype=np.int8),
        draw(multipliers),
        draw(shifts),
    )


@settings(deadline=None)
@given(layer_cases(), activations)
def test_qlinear_matches_qlinear_row(
    case: tuple[np.ndarray, np.ndarray, np.ndarray, int, int], act: Activation
) -> None:
    weights, biases, x, m, k = case
    expected = [
        qlinear_row(weights[j], int(biases[j]), x, m, k, act) for j in range(weights.shape[0])
    ]
    assert qlinear(weights, biases, x, m, k, act).tolist() == expected


def test_qlinear_rejects_bad_shapes() -> None:
    w = np.ones((2, 3), dtype=np.int8)
    b = np.zeros(2, dtype=np.int32)
    with pytest.raises(InvalidRequantParameterError, match="columns"):
        qlinear(w, b, [1, 2], 1, 1, Activation.NONE)
    with pytest.raises(InvalidRequantParameterError, match="shape"):
        qlinear(w, np.zeros(3, dtype=np.int32), [1, 2, 3], 1, 1, Activation.NONE)
    with pytest.raises(InvalidRequantParameterError, match="int8"):
        qlinear(w.astype(np.int32), b, [1, 2, 3], 1, 1, Activation.NONE)
    with pytest.raises(InvalidRequantParameterError, match="int32"):
        qlinear(w, np.array([2**31, 0]), [1, 2, 3], 1, 1, Activation.NONE)
