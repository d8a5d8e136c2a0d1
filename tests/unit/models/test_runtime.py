"""
The batched runtimes against the reference: ``forward_trace_batch`` (numpy) and ``TorchRuntime``
(CPU always, CUDA when present) must give the bits of ``forward_trace`` for every input.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch

from protocol.exceptions import InvalidActivationError
from protocol.model import (
    AccumulatorRangeError,
    QLinearLayer,
    QuantizedModel,
    all_public,
    forward_trace,
    forward_trace_batch,
)
from protocol.requant import Activation, requant_array
from protocol.runtime_torch import MatmulMode, TorchRuntime, default_device, run_batch
from tests.unit.models.helpers import extreme_inputs, random_model

RANDOM_INPUTS = 100_000
"""Inputs per model in the bit-exactness tests (the issue asks for at least 100,000)."""

MODELS = {
    "calibrated": lambda: random_model(1, (48, 40, 24, 10)),
    "wide": lambda: random_model(2, (128, 32, 10)),
    "extreme-a": lambda: random_model(3, (20, 16, 12, 8), extremes=True),
    "extreme-b": lambda: random_model(4, (20, 16, 12, 8), extremes=True),
    "extreme-c": lambda: random_model(5, (9, 7, 6, 5, 4), extremes=True),
}

MATMULS: tuple[MatmulMode, ...] = ("int64", "float64")

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


def assert_traces_equal(reference: list[np.ndarray], candidate: list[torch.Tensor]) -> None:
    assert len(reference) == len(candidate)
    for position, (expected, got) in enumerate(zip(reference, candidate, strict=True)):
        array = got.cpu().numpy()
        assert array.dtype == np.int8, position
        assert array.shape == expected.shape, position
        mismatches = np.argwhere(array != expected)
        assert mismatches.size == 0, f"trace entry {position}: first mismatch {mismatches[:1]}"


@pytest.fixture(scope="module", params=sorted(MODELS))
def model_and_inputs(request: pytest.FixtureRequest) -> tuple[QuantizedModel, np.ndarray]:
    model = MODELS[request.param]()
    rng = np.random.default_rng(zlib.crc32(request.param.encode()))
    inputs = extreme_inputs(rng, RANDOM_INPUTS, model.layers[0].in_dim)
    return model, inputs


@pytest.fixture(scope="module")
def reference_traces(
    model_and_inputs: tuple[QuantizedModel, np.ndarray],
) -> list[np.ndarray]:
    model, inputs = model_and_inputs
    return forward_trace_batch(model, inputs)


# --------------------------------------------------------------------------------------------------
# numpy batch vs per-input reference


def test_batched_numpy_equals_the_per_input_reference(
    model_and_inputs: tuple[QuantizedModel, np.ndarray], reference_traces: list[np.ndarray]
) -> None:
    model, inputs = model_and_inputs
    rows = list(range(8)) + list(range(8, RANDOM_INPUTS, RANDOM_INPUTS // 120))
    for row in rows:
        single = forward_trace(model, inputs[row])
        for position, vector in enumerate(single):
            assert np.array_equal(reference_traces[position][row], vector), (row, position)


def test_extreme_models_saturate_and_hit_the_edge() -> None:
    model = MODELS["extreme-a"]()
    inputs = extreme_inputs(np.random.default_rng(0), 2000, 20)
    trace = forward_trace_batch(model, inputs)
    first = model.layers[0]
    z = inputs.astype(np.int64) @ first.weights.astype(np.int64).T + first.biases
    assert int(z[1, 0]) == 2**31 - 1  # all 127 into a row of 127s at the positive edge
    assert int(z[1, -1]) == -(2**31 - 1)  # all 127 into a row of −128s at the negative edge
    assert [(layer.multiplier, layer.shift) for layer in model.layers] == [
        (1, 1),
        (2**31 - 1, 1),
        (0, 62),
    ]
    saturated = trace[2]  # M = 2^31 − 1, k = 1: every non-zero accumulator saturates
    assert 127 in saturated and int(saturated.min()) in (-128, 0)
    assert not trace[3].any()  # M = 0: everything rounds to 0


# --------------------------------------------------------------------------------------------------
# torch CPU vs numpy


@pytest.mark.parametrize("matmul", ["int64", "float64"])
def test_torch_cpu_is_bit_exact(
    model_and_inputs: tuple[QuantizedModel, np.ndarray],
    reference_traces: list[np.ndarray],
    matmul: str,
) -> None:
    model, inputs = model_and_inputs
    runtime = TorchRuntime(model, "cpu", matmul=matmul)  # type: ignore[arg-type]
    assert_traces_equal(reference_traces, runtime.run_batch(inputs))


def test_torch_accepts_tensors_and_small_batches() -> None:
    model = MODELS["calibrated"]()
    inputs = extreme_inputs(np.random.default_rng(1), 64, 48)
    reference = forward_trace_batch(model, inputs)
    runtime = TorchRuntime(model)
    assert_traces_equal(reference, runtime.run_batch(torch.from_numpy(inputs.copy())))
    for size in (0, 1, 3):
        assert_traces_equal([h[:size] for h in reference], runtime.run_batch(inputs[:size].copy()))
    assert_traces_equal(reference, run_batch(model, inputs))


def test_torch_does_not_alias_the_input() -> None:
    model = MODELS["calibrated"]()
    inputs = torch.zeros((2, 48), dtype=torch.int8)
    trace = TorchRuntime(model).run_batch(inputs)
    trace[0][0, 0] = 5
    assert int(inputs[0, 0]) == 0


def test_right_shift_of_negative_int64_is_arithmetic_on_cpu() -> None:
    check_arithmetic_shift(torch.device("cpu"))


def check_arithmetic_shift(device: torch.device) -> None:
    values = [-(2**62), -(2**61) - 1, -(2**31) * (2**31 - 1), -12345, -5, -1, 0, 1, 5, 2**62 - 1]
    z = torch.tensor(values, dtype=torch.int64, device=device)
    for shift in range(1, 63):
        got = torch.bitwise_right_shift(z, shift).cpu().tolist()
        assert got == [v >> shift for v in values], shift


def test_requant_corner_accumulators_match() -> None:
    """Every accumulator corner through a one-input layer, on both torch matmul paths."""
    edges = [0, 1, -1, 2**31 - 1, -(2**31 - 1), 2**30, -(2**30), 12345, -12345]
    for multiplier, shift in [(0, 62), (2**31 - 1, 1), (2**31 - 1, 62), (1, 1), (3, 2)]:
        for activation in (Activation.NONE, Activation.RELU):
            for bias in edges:
                limit = 2**31 - 1 - abs(bias)
                weight = max(-128, min(127, limit // 128)) if limit >= 0 else 0
                layer = QLinearLayer(
                    np.array([[weight]], np.int8),
                    np.array([bias], np.int32),
                    multiplier,
                    shift,
                    activation,
                )
                model = all_public([layer])
                inputs = np.array([[-128], [127], [0], [1], [-1]], dtype=np.int8)
                z = inputs.astype(np.int64) * weight + bias
                expected = requant_array(z, multiplier, shift, activation)
                for matmul in MATMULS:
                    got = run_batch(model, inputs, matmul=matmul)[-1].numpy()
                    assert np.array_equal(got, expected), (multiplier, shift, bias, matmul)


# --------------------------------------------------------------------------------------------------
# Errors


def test_torch_runtime_refuses_invalid_models_and_inputs() -> None:
    hot = QLinearLayer(
        np.full((1, 2), 127, np.int8), np.array([2**31 - 1], np.int32), 1, 1, Activation.NONE
    )
    with pytest.raises(AccumulatorRangeError):
        TorchRuntime(all_public([hot]))
    model = MODELS["calibrated"]()
    runtime = TorchRuntime(model)
    for bad in (
        np.zeros((2, 48), np.int16),
        np.zeros(48, np.int8),
        np.zeros((2, 47), np.int8),
        torch.zeros((2, 48), dtype=torch.int32),
        [[0] * 48],
    ):
        with pytest.raises(InvalidActivationError):
            runtime.run_batch(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="only available on CPU"):
        TorchRuntime(model, "cuda", matmul="int64")
    with pytest.raises(ValueError, match="matmul"):
        TorchRuntime(model, matmul="int32")  # type: ignore[arg-type]


def test_numpy_batch_refuses_bad_inputs() -> None:
    model = MODELS["calibrated"]()
    bad_batches: list[np.ndarray] = [
        np.zeros((2, 48), np.int64),
        np.zeros(48, np.int8),
        np.zeros((2, 5), np.int8),
    ]
    for bad in bad_batches:
        with pytest.raises(InvalidActivationError):
            forward_trace_batch(model, bad)


def test_default_device_is_cuda_only_when_available() -> None:
    assert default_device().type == ("cuda" if torch.cuda.is_available() else "cpu")


# --------------------------------------------------------------------------------------------------
# CUDA


@pytest.mark.gpu
@cuda
def test_torch_cuda_is_bit_exact(
    model_and_inputs: tuple[QuantizedModel, np.ndarray], reference_traces: list[np.ndarray]
) -> None:
    model, inputs = model_and_inputs
    runtime = TorchRuntime(model, "cuda")
    assert runtime.matmul == "float64"
    assert not torch.backends.cuda.matmul.allow_tf32
    assert not torch.backends.cudnn.allow_tf32
    trace = runtime.run_batch(inputs)
    assert all(h.device.type == "cuda" for h in trace)
    assert_traces_equal(reference_traces, trace)


@pytest.mark.gpu
@cuda
def test_right_shift_of_negative_int64_is_arithmetic_on_cuda() -> None:
    check_arithmetic_shift(torch.device("cuda"))
