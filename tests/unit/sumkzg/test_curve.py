"""Tests for sumkzg.curve: EIP-2537 encodings, strict decoding, MSM, commitments, pairings."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py_arkworks_bls12381 import G1Point, G2Point

from sumkzg.curve import (
    G1_ENCODED_LEN,
    P,
    commit,
    decode_g1,
    decode_g1_unchecked,
    encode_g1,
    g1_add,
    g1_eq,
    g1_generator,
    g1_identity,
    g1_mul,
    g1_neg,
    g2_encode,
    g2_generator,
    g2_mul,
    msm,
    pairing_check,
)
from sumkzg.errors import EncodingError
from sumkzg.field import R
from sumkzg.setup import Setup, load_setup

FAST = settings(max_examples=15, deadline=None)
scalars = st.integers(min_value=0, max_value=R - 1)

# EIP-2537 / BLS12-381 G2 generator coordinates (x = x_c0 + x_c1·u, y likewise).
G2_X_C0 = int(
    "024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02"
    "b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8",
    16,
)
G2_X_C1 = int(
    "13e02b6052719f607dacd3a088274f65596bd0d09920b61a"
    "b5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e",
    16,
)
G2_Y_C0 = int(
    "0ce5d527727d6e118cc9cdc6da2e351aadfd9baa8cbdd3a7"
    "6d429a695160d12c923ac9cc3baca289e193548608b82801",
    16,
)
G2_Y_C1 = int(
    "0606c4a02ea734cc32acd2b02bc28b99cb3e287e85a763af"
    "267492ab572e99ab3f370d275cec1da1aaa9075ff05f79be",
    16,
)
G1_X = int(
    "17f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905"
    "a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb",
    16,
)
G1_Y = int(
    "08b3f481e3aaa0f1a09e30ed741d8ae4fcf5e095d5d00af6"
    "00db18cb2c04b3edd03cc744a2888ae40caa232946c5e7e1",
    16,
)


def fp64(value: int) -> bytes:
    return value.to_bytes(64, "big")


def raw_g1(x: int, y: int) -> bytes:
    return fp64(x) + fp64(y)


@pytest.fixture(scope="module")
def setup() -> Setup:
    return load_setup()


def point_outside_subgroup() -> bytes:
    """An on-curve point y² = x³ + 4 outside the order-r subgroup (the cofactor is not 1)."""
    x = 5
    while True:
        rhs = (x**3 + 4) % P
        y = pow(rhs, (P + 1) // 4, P)  # P ≡ 3 (mod 4)
        if y * y % P == rhs:
            return raw_g1(x, y)
        x += 1


# --------------------------------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------------------------------


def test_generator_encodings_are_the_eip_2537_constants() -> None:
    assert encode_g1(g1_generator()) == raw_g1(G1_X, G1_Y)
    assert g2_encode(g2_generator()) == b"".join(
        fp64(c) for c in (G2_X_C0, G2_X_C1, G2_Y_C0, G2_Y_C1)
    )
    assert g2_encode(G2Point.identity()) == bytes(256)
    assert G1_ENCODED_LEN == 128


@given(scalars)
@FAST
def test_g1_round_trip(k: int) -> None:
    point = g1_mul(g1_generator(), k)
    encoded = encode_g1(point)
    assert len(encoded) == 128
    assert encoded[:16] == bytes(16) and encoded[64:80] == bytes(16)
    assert g1_eq(decode_g1(encoded), point)


def test_identity_is_128_zero_bytes() -> None:
    assert encode_g1(g1_identity()) == bytes(128)
    assert decode_g1(bytes(128)) == g1_identity()
    assert encode_g1(g1_mul(g1_generator(), 0)) == bytes(128)


@pytest.mark.parametrize("length", [0, 96, 127, 129, 256])
def test_decode_rejects_wrong_length(length: int) -> None:
    with pytest.raises(EncodingError, match="bytes"):
        decode_g1(bytes(length))


@pytest.mark.parametrize("position", [0, 7, 15, 64, 72, 79])
def test_decode_rejects_non_zero_padding(position: int) -> None:
    data = bytearray(encode_g1(g1_generator()))
    data[position] = 1
    with pytest.raises(EncodingError, match="padding"):
        decode_g1(bytes(data))
    # Also around the identity: padding set on an otherwise zero encoding.
    zero = bytearray(128)
    zero[position] = 0x80
    with pytest.raises(EncodingError, match="padding"):
        decode_g1(bytes(zero))


@pytest.mark.parametrize("which", ["x", "y"])
@pytest.mark.parametrize("offset", [0, P])
def test_decode_rejects_coordinates_at_or_above_p(which: str, offset: int) -> None:
    # (G1_X + P, G1_Y) would be the generator if it were reduced; P itself is also refused.
    x, y = (G1_X + offset, G1_Y) if which == "x" else (G1_X, G1_Y + offset)
    if offset == 0:
        x, y = (P, G1_Y) if which == "x" else (G1_X, P)
    with pytest.raises(EncodingError, match=">= p"):
        decode_g1(raw_g1(x, y))
    with pytest.raises(EncodingError, match=">= p"):
        decode_g1(raw_g1(2**384 - 1, 0) if which == "x" else raw_g1(0, 2**384 - 1))


def test_decode_rejects_points_off_the_curve() -> None:
    with pytest.raises(EncodingError, match="not on the curve"):
        decode_g1(raw_g1(G1_X, G1_Y ^ 1))
    with pytest.raises(EncodingError, match="not on the curve"):
        decode_g1(raw_g1(1, 1))
    with pytest.raises(EncodingError, match="not on the curve"):
        decode_g1(raw_g1(0, 1))


def test_decode_rejects_points_outside_the_subgroup() -> None:
    for data in (raw_g1(0, 2), point_outside_subgroup()):
        unchecked = decode_g1_unchecked(data)
        assert not unchecked.is_in_subgroup()
        with pytest.raises(EncodingError, match="subgroup"):
            decode_g1(data)


def test_negation_has_the_other_y() -> None:
    point = g1_mul(g1_generator(), 12345)
    negated = encode_g1(g1_neg(point))
    assert negated[:64] == encode_g1(point)[:64]
    assert int.from_bytes(negated[64:], "big") == P - int.from_bytes(encode_g1(point)[64:], "big")
    assert g1_add(point, g1_neg(point)) == g1_identity()


# --------------------------------------------------------------------------------------------------
# MSM and commitments
# --------------------------------------------------------------------------------------------------


def naive_sum(points: list[G1Point], values: list[int]) -> G1Point:
    total = g1_identity()
    for point, value in zip(points, values, strict=True):
        total = g1_add(total, g1_mul(point, value))
    return total


def test_msm_against_naive_sum(setup: Setup) -> None:
    rng = random.Random(3)
    points = list(setup.g1[:20])
    values = [rng.randrange(R) for _ in range(20)]
    values[:4] = [0, 1, R - 1, 2**200]
    assert msm(points, values) == naive_sum(points, values)


def test_msm_edge_cases(setup: Setup) -> None:
    assert msm([], []) == g1_identity()
    assert msm(list(setup.g1[:5]), [0] * 5) == g1_identity()
    assert msm([g1_identity()], [7]) == g1_identity()
    with pytest.raises(ValueError):
        msm(list(setup.g1[:2]), [1])
    for bad in (R, -1, 2**256):
        with pytest.raises(ValueError):
            msm([g1_generator()], [bad])


def test_commit_equals_msm(setup: Setup) -> None:
    rng = random.Random(4)
    values = [rng.randrange(R) for _ in range(300)]
    assert commit(setup, values) == msm(list(setup.g1[:300]), values)
    assert commit(setup, []) == g1_identity()
    assert commit(setup, [5]) == g1_mul(g1_generator(), 5)


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint8])
def test_commit_numpy_fast_path(setup: Setup, dtype: type[np.integer]) -> None:
    rng = np.random.default_rng(5)
    info = np.iinfo(dtype)
    values = rng.integers(int(info.min), int(info.max), size=257, endpoint=True).astype(dtype)
    values[:2] = [info.min, info.max]
    if info.min < 0:
        values[2] = -1
    if dtype == np.int64:
        values[0] = -(2**63) + 1
    field_values = [int(v) % R for v in values]
    assert commit(setup, values) == msm(list(setup.g1[:257]), field_values)
    assert commit(setup, values) == commit(setup, field_values)
    with pytest.raises(ValueError):
        commit(setup, values.reshape(1, -1))


def test_commit_refuses(setup: Setup) -> None:
    with pytest.raises(ValueError):
        commit(setup, [1] * (len(setup.g1) + 1))
    with pytest.raises(ValueError):
        commit(setup, np.array([-(2**63)], dtype=np.int64))
    with pytest.raises(ValueError):
        commit(setup, np.array([2**63], dtype=np.uint64))
    with pytest.raises(TypeError):
        commit(setup, np.array([1.0]))
    assert commit(setup, np.zeros(0, dtype=np.int8)) == g1_identity()


def test_commit_of_the_full_setup_matches_the_naive_sum_of_a_sparse_vector(setup: Setup) -> None:
    values = [0] * len(setup.g1)
    values[0], values[1], values[-1] = 3, R - 2, 11
    expected = naive_sum([setup.g1[0], setup.g1[1], setup.g1[-1]], [3, R - 2, 11])
    assert commit(setup, values) == expected


# --------------------------------------------------------------------------------------------------
# Pairings
# --------------------------------------------------------------------------------------------------


def test_pairing_check() -> None:
    a, b = 1234567, 7654321
    g1, g2 = g1_generator(), g2_generator()
    assert pairing_check([(g1_mul(g1, a), g2_mul(g2, b)), (g1_neg(g1_mul(g1, a * b)), g2)])
    assert not pairing_check([(g1_mul(g1, a), g2_mul(g2, b)), (g1_neg(g1_mul(g1, a * b + 1)), g2)])
    assert pairing_check([])
    assert pairing_check([(g1_identity(), g2)])
    assert not pairing_check([(g1, g2)])


@pytest.mark.parametrize("period", [1, 2, 128, 2048, 4096])
def test_commit_periodic_is_commit_of_the_repeated_vector(period: int) -> None:
    """The periodic bases give the same group element as committing the repeated vector."""
    from sumkzg.curve import commit_periodic
    from sumkzg.setup import load_setup

    setup = load_setup()
    rng = random.Random(period)
    values = [rng.randrange(R) for _ in range(period)]
    repeated = [values[f % period] for f in range(len(setup.g1))]
    assert commit_periodic(setup, values, period) == commit(setup, repeated)
    with pytest.raises(ValueError, match="periodic values"):
        commit_periodic(setup, values[:-1] if period > 1 else [], period)
    with pytest.raises(ValueError, match="does not divide"):
        commit_periodic(setup, [1, 2, 3], 3)
