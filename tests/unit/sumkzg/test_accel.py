"""
The accelerated prover backends (sumkzg/accel.py) against the numpy reference (sumkzg/field.py).

Bit-exact field × int products on random and extreme inputs, exact ``W·x + b``, the backend
selection, and byte-identical inference and registration proofs from the numpy and torch paths.
The CUDA variants are marked ``gpu`` and skip without a CUDA device.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import torch

from protocol.requant import Activation, qlinear
from sumkzg import accel
from sumkzg.field import R, field_gemv_int, field_gemv_int_t
from sumkzg.inference import prove_inference
from sumkzg.registration import commit_weights, prove_registration
from sumkzg.setup import Setup, load_setup
from sumkzg.statement import InferenceStatement, RegistrationStatement

VERIFIER = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
MODEL_ID = bytes.fromhex("11" * 32)

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
DEVICES = ["cpu", pytest.param("cuda", marks=[pytest.mark.gpu, cuda])]


@pytest.fixture(autouse=True)
def _reset_backend() -> Iterator[None]:
    yield
    accel.use_backend(None)


def random_weights(rng: random.Random, count: int) -> list[int]:
    return [rng.randrange(R) for _ in range(count)]


# --------------------------------------------------------------------------------------------------
# Field × int products


SHAPES = [(1, 1), (1, 7), (7, 1), (3, 5), (64, 64), (255, 257), (1024, 16), (4096, 1024)]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("rows", "cols"), SHAPES)
@pytest.mark.parametrize("dtype", [np.int8, np.int32])
def test_random_matches_reference(
    device: str, rows: int, cols: int, dtype: type[np.integer[Any]]
) -> None:
    if dtype is np.int32 and rows * cols > 2**20:
        pytest.skip("the int32 variant runs on the smaller shapes")
    rng = np.random.default_rng(rows * 7919 + cols)
    info = np.iinfo(dtype)
    matrix = rng.integers(info.min, int(info.max) + 1, (rows, cols)).astype(dtype)
    weights = random_weights(random.Random(rows + cols), rows)
    assert accel.torch_field_gemv_int(weights, matrix, device) == field_gemv_int(weights, matrix)
    tweights = weights[:cols] + random_weights(random.Random(1), max(0, cols - rows))
    assert accel.torch_field_gemv_int_t(tweights, matrix, device) == field_gemv_int_t(
        tweights, matrix
    )


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("entry", [2**31, -(2**31), 2**31 - 1, -(2**31) + 1, 2**16, -(2**16), 0])
def test_extreme_entries_and_weights(device: str, entry: int) -> None:
    rows, cols = 300, 9
    matrix = np.full((rows, cols), entry, dtype=np.int64)
    matrix[::3, 1] = -entry
    for weights in ([R - 1] * rows, [(R - 1) // 2] * rows, [2**255 % R] * rows, [1] * rows):
        assert accel.torch_field_gemv_int(weights, matrix, device) == field_gemv_int(
            weights, matrix
        )


@pytest.mark.parametrize("device", DEVICES)
def test_many_chunks_match_reference(device: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Force chunks of a few rows so that the carries between chunks are exercised."""
    monkeypatch.setattr(accel, "_MAX_CHUNK_ELEMENTS_CPU", 64)
    monkeypatch.setattr(accel, "_MAX_CHUNK_ELEMENTS_CUDA", 64)
    rng = np.random.default_rng(5)
    matrix = rng.integers(-(2**31), 2**31 + 1, (1000, 16), dtype=np.int64)
    matrix[:, 0] = 2**31
    matrix[:, 1] = -(2**31)
    weights = [R - 1] * 500 + random_weights(random.Random(5), 500)
    assert accel.torch_field_gemv_int(weights, matrix, device) == field_gemv_int(weights, matrix)


def test_uint_and_strided_inputs() -> None:
    rng = np.random.default_rng(9)
    weights = random_weights(random.Random(9), 40)
    for matrix in (
        rng.integers(0, 2**16, (40, 30)).astype(np.uint16),
        rng.integers(0, 256, (40, 30)).astype(np.uint8),
        rng.integers(-(2**15), 2**15, (40, 60)).astype(np.int16)[:, ::2],
        rng.integers(-128, 128, (40, 30)).astype(np.int8)[::-1],
    ):
        assert accel.torch_field_gemv_int(weights, matrix, "cpu") == field_gemv_int(weights, matrix)


def test_errors_and_empty() -> None:
    assert accel.torch_field_gemv_int([], np.zeros((0, 3), dtype=np.int8)) == [0, 0, 0]
    assert accel.torch_field_gemv_int([1, 2], np.zeros((2, 0), dtype=np.int8)) == []
    with pytest.raises(ValueError):
        accel.torch_field_gemv_int([1], np.zeros((2, 2), dtype=np.int8))
    with pytest.raises(ValueError):
        accel.torch_field_gemv_int([1], np.array([[2**31 + 1]], dtype=np.int64))
    with pytest.raises(TypeError):
        accel.torch_field_gemv_int([1], np.zeros((1, 1)))


# --------------------------------------------------------------------------------------------------
# W·x + b


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("m", "n"), [(1, 1), (3, 300), (1024, 1024)])
def test_int_gemv_matches_reference(device: str, m: int, n: int) -> None:
    rng = np.random.default_rng(m + n)
    w = rng.integers(-128, 128, (m, n)).astype(np.int8)
    x = rng.integers(-128, 128, n).astype(np.int8)
    w[0] = -128
    x[:] = np.where(np.arange(n) % 2, -128, x)
    expected = w.astype(np.int64) @ x.astype(np.int64)
    got = accel.torch_int_gemv(w, x, device)
    assert got is not None
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, expected)


def test_int_gemv_refuses_inexact_and_dispatch_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    w = np.full((2, 4), 2**31, dtype=np.int64)
    x = np.full(4, 2**22, dtype=np.int64)  # products of 2^53: float64 would not be exact
    assert accel.torch_int_gemv(w, x, "cpu") is None
    monkeypatch.setattr(accel, "MIN_ACCEL_ELEMENTS", 0)
    with accel.backend("torch", "cpu"):
        z = accel.int_gemv(w, x, np.array([1, -1]))
    assert z.tolist() == [2**55 + 1, 2**55 - 1]
    np.testing.assert_array_equal(z, w @ x + np.array([1, -1]))


# --------------------------------------------------------------------------------------------------
# Selection


def test_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(accel.ENV_VAR, raising=False)
    assert accel.active_backend() == ("torch" if torch.cuda.is_available() else "numpy")
    monkeypatch.setenv(accel.ENV_VAR, "torch")
    assert accel.active_backend() == "torch"
    monkeypatch.setenv(accel.ENV_VAR, "NumPy ")
    assert accel.active_backend() == "numpy"
    with accel.backend("torch", "cpu"):
        assert accel.active_backend() == "torch"
        assert accel.torch_device() == torch.device("cpu")
    assert accel.active_backend() == "numpy"
    monkeypatch.setenv(accel.ENV_VAR, "tpu")
    with pytest.raises(ValueError):
        accel.active_backend()
    with pytest.raises(ValueError):
        accel.use_backend("tpu")  # type: ignore[arg-type]
    if not torch.cuda.is_available():
        with pytest.raises(ValueError):
            accel.use_backend("torch", "cuda")


# --------------------------------------------------------------------------------------------------
# Byte-identical proofs


@pytest.fixture(scope="module")
def setup() -> Setup:
    return load_setup()


def layer(m: int, n: int, seed: int) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int32]]:
    rng = np.random.default_rng(seed)
    weights = rng.integers(-128, 128, (m, n)).astype(np.int8)
    biases = rng.integers(-(2**20), 2**20, m).astype(np.int32)
    return weights, biases


def both_backends(
    device: str, monkeypatch: pytest.MonkeyPatch, make: Callable[[], bytes]
) -> tuple[bytes, bytes]:
    """``make()`` on numpy, then on torch (every product routed to torch, counted)."""
    with accel.backend("numpy"):
        reference = make()
    calls = {"gemv": 0, "int": 0}
    gemv, int_gemv = accel.torch_field_gemv_int, accel.torch_int_gemv

    def counted_gemv(*args: Any) -> list[int]:
        calls["gemv"] += 1
        return gemv(*args)

    def counted_int(*args: Any) -> npt.NDArray[np.int64] | None:
        calls["int"] += 1
        return int_gemv(*args)

    monkeypatch.setattr(accel, "MIN_ACCEL_ELEMENTS", 0)
    monkeypatch.setattr(accel, "torch_field_gemv_int", counted_gemv)
    monkeypatch.setattr(accel, "torch_int_gemv", counted_int)
    with accel.backend("torch", device):
        accelerated = make()
    assert calls["gemv"] > 0
    return reference, accelerated


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("m", "n"), [(64, 64), (5, 300)])
def test_registration_proofs_identical(
    setup: Setup, device: str, m: int, n: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights, biases = layer(m, n, 1)

    def make() -> bytes:
        commitment = commit_weights(setup, weights, biases, rng=random.Random(1))
        statement = RegistrationStatement(
            chain_id=31337, verifier=VERIFIER, h_w=commitment.h_w, m=m, n=n
        )
        # TESTS ONLY rng: the masks are drawn from the same deterministic source on both paths.
        proof = prove_registration(
            setup, commitment, weights, biases, statement, rng=random.Random(11)
        )
        return commitment.h_w + proof

    reference, accelerated = both_backends(device, monkeypatch, make)
    assert accelerated == reference


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("m", "n"), [(64, 64), (30, 300)])
def test_inference_proofs_identical(
    setup: Setup, device: str, m: int, n: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights, biases = layer(m, n, 2)
    x = np.random.default_rng(3).integers(-128, 128, n).astype(np.int8)
    shift = 16
    y = qlinear(weights, biases, x, 3000, shift, Activation.RELU)

    def make() -> bytes:
        commitment = commit_weights(setup, weights, biases, rng=random.Random(2))
        statement = InferenceStatement.from_values(
            chain_id=31337,
            verifier=VERIFIER,
            model_id=MODEL_ID,
            partition_index=0,
            h_w=commitment.h_w,
            multiplier=3000,
            shift=shift,
            activation=int(Activation.RELU),
            x=x,
            y=y,
            job_id=7,
        )
        # TESTS ONLY rng: the masks are drawn from the same deterministic source on both paths.
        return prove_inference(setup, commitment, weights, biases, statement, rng=random.Random(12))

    reference, accelerated = both_backends(device, monkeypatch, make)
    assert accelerated == reference
