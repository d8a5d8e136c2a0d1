"""Tests for sumkzg.field against independent, naive definitions."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sumkzg import field
from sumkzg.errors import EncodingError, ProofRejected
from sumkzg.field import (
    R,
    batch_inv,
    eq_eval,
    eq_table,
    fe,
    field_gemv_int,
    field_gemv_int_t,
    inv,
    lagrange_eval_0123,
    mle_eval,
    scalar_from_bytes,
    scalar_to_bytes,
)

scalars = st.integers(min_value=0, max_value=R - 1)
FAST = settings(max_examples=40, deadline=None)


def bits(f: int, count: int) -> list[int]:
    return [(f >> v) & 1 for v in range(count)]


def naive_eq(a: list[int], b: list[int]) -> int:
    out = 1
    for x, y in zip(a, b, strict=True):
        out = out * (x * y + (1 - x) * (1 - y)) % R
    return out


def naive_mle(values: list[int], point: list[int]) -> int:
    return sum(v * naive_eq(point, bits(f, len(point))) for f, v in enumerate(values)) % R


def test_modulus_is_the_bls12_381_scalar_field() -> None:
    assert R == 52435875175126190479447740508185965837690552500527637822603658699938581184513
    assert pow(7, R - 1, R) == 1


@given(st.integers(min_value=-(2**300), max_value=2**300))
@FAST
def test_fe_reduces_any_integer(v: int) -> None:
    assert fe(v) == v % R
    assert 0 <= fe(v) < R


def test_fe_of_minus_one() -> None:
    assert fe(-1) == R - 1
    assert fe(R) == 0


@given(st.integers(min_value=1, max_value=R - 1))
@FAST
def test_inv(a: int) -> None:
    assert inv(a) * a % R == 1
    assert inv(a + R) == inv(a)


def test_inv_of_zero_raises() -> None:
    with pytest.raises(ZeroDivisionError):
        inv(0)
    with pytest.raises(ZeroDivisionError):
        inv(R)


@given(st.lists(st.integers(min_value=1, max_value=R - 1), max_size=20))
@FAST
def test_batch_inv(values: list[int]) -> None:
    assert batch_inv(values) == [pow(v, R - 2, R) for v in values]


def test_batch_inv_rejects_a_zero() -> None:
    with pytest.raises(ZeroDivisionError):
        batch_inv([3, 5, 0, 7])
    with pytest.raises(ZeroDivisionError):
        batch_inv([R])
    assert batch_inv([]) == []


@given(st.lists(st.tuples(scalars, scalars), max_size=8))
@FAST
def test_eq_eval(pairs: list[tuple[int, int]]) -> None:
    a = [x for x, _ in pairs]
    b = [y for _, y in pairs]
    assert eq_eval(a, b) == naive_eq(a, b)


def test_eq_eval_on_the_hypercube_is_the_indicator() -> None:
    for f, g in itertools.product(range(8), repeat=2):
        assert eq_eval(bits(f, 3), bits(g, 3)) == (1 if f == g else 0)
    with pytest.raises(ValueError):
        eq_eval([1], [1, 2])


@given(st.lists(scalars, max_size=6))
@FAST
def test_eq_table(point: list[int]) -> None:
    table = eq_table(point)
    assert len(table) == 1 << len(point)
    assert table == [naive_eq(point, bits(f, len(point))) for f in range(len(table))]


def test_eq_table_bit_order() -> None:
    # point[0] goes with bit 0 of the index: eq((1, 0), f) selects f = 1, not f = 2.
    assert eq_table([1, 0]) == [0, 1, 0, 0]
    assert eq_table([]) == [1]


@given(st.data())
@FAST
def test_mle_eval(data: st.DataObject) -> None:
    mu = data.draw(st.integers(min_value=0, max_value=6))
    values = data.draw(st.lists(scalars, max_size=1 << mu))
    point = data.draw(st.lists(scalars, min_size=mu, max_size=mu))
    assert mle_eval(values, point) == naive_mle(values, point)


def test_mle_eval_on_the_hypercube_returns_the_entry() -> None:
    values = [random.Random(1).randrange(R) for _ in range(13)]
    for f in range(16):
        assert mle_eval(values, bits(f, 4)) == (values[f] if f < 13 else 0)


def test_mle_eval_rejects_too_many_values() -> None:
    with pytest.raises(ValueError):
        mle_eval([1, 2, 3], [5])
    assert mle_eval([], [1, 2]) == 0
    assert mle_eval([9], []) == 9


# --------------------------------------------------------------------------------------------------
# field_gemv_int
# --------------------------------------------------------------------------------------------------


def naive_gemv(weights: list[int], matrix: np.ndarray) -> list[int]:
    rows, cols = matrix.shape
    return [sum(weights[i] * int(matrix[i, j]) for i in range(rows)) % R for j in range(cols)]


def naive_gemv_t(weights: list[int], matrix: np.ndarray) -> list[int]:
    rows, cols = matrix.shape
    return [sum(int(matrix[i, j]) * weights[j] for j in range(cols)) % R for i in range(rows)]


EXTREMES = (-(2**31) + 1, 2**31 - 1, -(2**31), 0, 1, -1)


def random_case(
    rng: np.random.Generator, rows: int, cols: int, dtype: type[np.integer]
) -> tuple[list[int], np.ndarray]:
    info = np.iinfo(dtype)
    low, high = max(int(info.min), -(2**31)), min(int(info.max), 2**31 - 1)
    matrix = rng.integers(low, high, size=(rows, cols), endpoint=True).astype(dtype)
    if rows and cols and dtype in (np.int32, np.int64):
        flat = matrix.reshape(-1)
        flat[: len(EXTREMES)] = EXTREMES[: flat.size]
    weights = [int(rng.integers(0, 2**62)) * (2**193) % R for _ in range(rows)]
    weights[: min(rows, 3)] = [R - 1, 0, 1][: min(rows, 3)]
    return weights, matrix


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64])
@pytest.mark.parametrize(("rows", "cols"), [(1, 1), (3, 7), (17, 5), (64, 33), (0, 4), (4, 0)])
def test_field_gemv_int_against_naive(dtype: type[np.integer], rows: int, cols: int) -> None:
    rng = np.random.default_rng(rows * 100 + cols)
    weights, matrix = random_case(rng, rows, cols, dtype)
    assert field_gemv_int(weights, matrix) == naive_gemv(weights, matrix)
    assert field_gemv_int_t(weights, matrix.T) == naive_gemv(weights, matrix)
    # The transposed form on its own matrix (len(weights) columns, C-contiguous).
    _, other = random_case(rng, cols, rows, dtype)
    assert field_gemv_int_t(weights, other) == naive_gemv_t(weights, other)


def test_field_gemv_int_worst_case_does_not_overflow() -> None:
    # 2^15 + 3 rows of the largest magnitudes with the weight whose limbs are the largest: one full
    # int64 chunk plus a second one; every limb sum is near the 2^62 bound.
    rows = 2**15 + 3
    matrix = np.full((rows, 2), -(2**31), dtype=np.int64)
    matrix[:, 1] = 2**31 - 1
    weight = (1 << 254) - 1  # every 16-bit limb but the top one is 0xffff
    assert weight < R
    weights = [weight] * rows
    expected = [rows * weight * -(2**31) % R, rows * weight * (2**31 - 1) % R]
    assert field_gemv_int(weights, matrix) == expected
    assert field_gemv_int_t(weights, matrix.T) == expected


def test_field_gemv_int_chunks_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(field, "_MAX_CHUNK_ROWS", 4)
    rng = np.random.default_rng(7)
    weights, matrix = random_case(rng, 23, 6, np.int32)
    assert field_gemv_int(weights, matrix) == naive_gemv(weights, matrix)


def test_field_gemv_int_refuses_bad_input() -> None:
    with pytest.raises(ValueError):
        field_gemv_int([1, 2], np.zeros((3, 2), dtype=np.int8))
    with pytest.raises(TypeError):
        field_gemv_int([1], np.zeros((1, 2), dtype=np.float64))
    with pytest.raises(ValueError):
        field_gemv_int([1], np.array([[2**31 + 1]], dtype=np.int64))
    with pytest.raises(ValueError):
        field_gemv_int([1], np.zeros(3, dtype=np.int8))


# --------------------------------------------------------------------------------------------------
# Scalar encoding and interpolation
# --------------------------------------------------------------------------------------------------


@given(scalars)
@FAST
def test_scalar_round_trip(a: int) -> None:
    encoded = scalar_to_bytes(a)
    assert encoded == a.to_bytes(32, "big")
    assert scalar_from_bytes(encoded) == a


@pytest.mark.parametrize("value", [R, R + 1, 2**256 - 1])
def test_scalar_from_bytes_rejects_non_canonical(value: int) -> None:
    with pytest.raises(EncodingError):
        scalar_from_bytes(value.to_bytes(32, "big"))


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_scalar_from_bytes_rejects_wrong_length(length: int) -> None:
    with pytest.raises(EncodingError) as caught:
        scalar_from_bytes(bytes(length))
    assert isinstance(caught.value, ProofRejected)


@pytest.mark.parametrize("value", [-1, R, 2**256])
def test_scalar_to_bytes_refuses_out_of_range(value: int) -> None:
    with pytest.raises(ValueError):
        scalar_to_bytes(value)


@given(st.lists(scalars, min_size=4, max_size=4), scalars)
@FAST
def test_lagrange_eval_0123_matches_the_cubic(coeffs: list[int], x: int) -> None:
    def cubic(t: int) -> int:
        return sum(c * pow(t, k, R) for k, c in enumerate(coeffs)) % R

    evals = [cubic(t) for t in range(4)]
    assert lagrange_eval_0123(evals, x) == cubic(x)
    for t in range(4):
        assert lagrange_eval_0123(evals, t) == evals[t]


def test_lagrange_eval_0123_needs_four_values() -> None:
    with pytest.raises(ValueError):
        lagrange_eval_0123([1, 2, 3], 5)
