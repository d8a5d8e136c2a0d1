"""Tests for protocol.quantize and the accumulator rule of protocol.model."""

from __future__ import annotations

import copy
import itertools
from fractions import Fraction

import numpy as np
import pytest
import torch
from torch import nn

from protocol.exceptions import ProtocolError
from protocol.model import (
    AccumulatorRangeError,
    QLinearLayer,
    accumulator_bound,
    accumulator_bounds,
    check_accumulator_bounds,
    forward_trace_batch,
)
from protocol.modelfile import decode_model, encode_model
from protocol.quantize import (
    BiasRangeError,
    CalibrationDataError,
    InvalidFloatInputError,
    QuantizationError,
    UnsupportedModelError,
    float_layers,
    multiplier_shift,
    quantize_input,
    quantize_sequential,
)
from protocol.requant import Activation
from tests.unit.models.helpers import random_int8


@pytest.fixture(autouse=True)
def _seeded_torch() -> None:
    """Every test starts from the same torch generator state (layer inits are random)."""
    torch.manual_seed(0)


def small_net(seed: int, widths: tuple[int, ...] = (12, 16, 8, 5)) -> nn.Sequential:
    torch.manual_seed(seed)
    modules: list[nn.Module] = []
    for index, (n, m) in enumerate(itertools.pairwise(widths)):
        modules.append(nn.Linear(n, m))
        if index < len(widths) - 2:
            modules.append(nn.ReLU())
    return nn.Sequential(*modules)


def linear(net: nn.Sequential, index: int) -> nn.Linear:
    module = net[index]
    assert isinstance(module, nn.Linear)
    return module


def calibration(seed: int, rows: int, width: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 1.0, size=(rows, width))


# --------------------------------------------------------------------------------------------------
# quantize_input


def test_quantize_input_rounds_half_to_even_and_clamps() -> None:
    x = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999999, 127.4, 127.5, 200.0, -128.5, -1e9]
    assert quantize_input(x, 1.0).tolist() == [0, 2, 2, 0, -2, -2, 0, 127, 127, 127, -128, -128]


def test_quantize_input_divides_by_the_scale_in_float64() -> None:
    scale = 1.0 / 127.0
    x = np.array([[0.0, 1.0, 0.5, -1.0], [0.25, 0.75, 1e-3, 2.0]])
    expected = np.clip(np.rint(x / scale), -128, 127)
    q = quantize_input(x, scale)
    assert q.dtype == np.int8 and q.shape == (2, 4)
    assert q.tolist() == expected.astype(int).tolist()
    assert q[0].tolist() == [0, 127, 64, -127]  # 63.5 rounds to the even 64


@pytest.mark.parametrize("bad", [[float("nan")], [float("inf")], [1.0, -float("inf")], ["a"]])
def test_quantize_input_rejects_non_finite_or_non_numeric(bad: list[object]) -> None:
    with pytest.raises(InvalidFloatInputError):
        quantize_input(bad, 1.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("scale", [0.0, -1.0, float("nan"), float("inf"), True])
def test_quantize_input_rejects_bad_scales(scale: float) -> None:
    with pytest.raises(InvalidFloatInputError):
        quantize_input([1.0], scale)


# --------------------------------------------------------------------------------------------------
# multiplier_shift


@pytest.mark.parametrize("denominator", [1, 2, 3, 127, 128, 1000, 65537, 2**20 + 1, 2**31 - 1])
def test_multiplier_shift_is_the_most_precise_pair(denominator: int) -> None:
    multiplier, shift = multiplier_shift(127, denominator)
    assert 0 <= multiplier < 2**31 and 1 <= shift <= 62
    exact = Fraction(127 * 2**shift, denominator)
    assert abs(multiplier - exact) <= Fraction(1, 2)
    if shift < 62:  # one more bit of shift would overflow M
        assert (2 * 127 * 2 ** (shift + 1) + denominator) // (2 * denominator) >= 2**31


def test_multiplier_shift_examples() -> None:
    assert multiplier_shift(127, 1) == (127 * 2**24, 24)
    assert multiplier_shift(1, 1) == (2**30, 30)
    assert multiplier_shift(1, 2**31 - 1) == (2**30 + 1, 61)  # k = 62 would need M >= 2^31


@pytest.mark.parametrize(("a", "b"), [(0, 1), (1, 0), (-1, 5), (2**31, 1)])
def test_multiplier_shift_rejects_bad_ratios(a: int, b: int) -> None:
    with pytest.raises(QuantizationError):
        multiplier_shift(a, b)


# --------------------------------------------------------------------------------------------------
# The accumulator rule


@pytest.mark.parametrize("seed", range(3))
def test_accumulator_bound_is_attained_by_an_int8_input(seed: int) -> None:
    rng = np.random.default_rng(seed)
    weights = random_int8(rng, (6, 2))
    weights[0] = (0, 0)
    weights[1] = (-128, 127)
    biases = rng.integers(-5000, 5000, size=6).astype(np.int32)
    layer = QLinearLayer(weights, biases, 1, 1, Activation.NONE)
    grid = np.array(list(itertools.product(range(-128, 128), repeat=2)), dtype=np.int64)
    z = grid @ weights.astype(np.int64).T + biases.astype(np.int64)
    assert accumulator_bounds(layer).tolist() == np.abs(z).max(axis=0).tolist()


def test_accumulator_rule_edge() -> None:
    weights = np.full((1, 3), -128, dtype=np.int8)
    at_edge = 2**31 - 1 - 3 * 128 * 127  # x = 127 makes z = −3·128·127 − at_edge
    layer = QLinearLayer(weights, np.array([-at_edge], np.int32), 1, 1, Activation.NONE)
    assert accumulator_bound(layer) == 2**31 - 1
    check_accumulator_bounds([layer])
    over = QLinearLayer(weights, np.array([-at_edge - 1], np.int32), 1, 1, Activation.NONE)
    with pytest.raises(AccumulatorRangeError, match=r"layer 3: .*row 0 up to 2147483648") as e:
        check_accumulator_bounds([over], first_layer=3)
    assert (e.value.layer, e.value.row, e.value.bound) == (3, 0, 2**31)
    assert isinstance(e.value, ProtocolError)


def test_quantizer_refuses_a_huge_bias() -> None:
    net = nn.Sequential(nn.Linear(1, 1))
    with torch.no_grad():
        linear(net, 0).weight.fill_(1.0)
        # s_x = s_w = 1/127: b = (2^31 − 100)·s_x·s_w sits ~2^31 − 100 steps, and the weight's
        # 127·128 steps push the worst case past 2^31.
        linear(net, 0).bias.fill_((2**31 - 100) / 127 / 127)
    with pytest.raises(AccumulatorRangeError, match="layer 1") as e:
        quantize_sequential(net, np.array([[1.0]]))
    assert e.value.bound >= 2**31
    with torch.no_grad():
        linear(net, 0).bias.fill_(1e6)
    with pytest.raises(BiasRangeError, match="layer 1"):
        quantize_sequential(net, np.array([[1.0]]))


def test_quantizer_refuses_a_layer_too_wide_for_the_rule() -> None:
    width = 140_000  # 140,000 · 127 · 128 > 2^31
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, width), nn.ReLU(), nn.Linear(width, 2))
    with torch.no_grad():
        linear(net, 2).weight.fill_(0.5)
        # A zero bias makes the worst case exactly 128·Σ|W_j| = width·127·128 (any bias would
        # move it by |b|, and the default init draws one at random).
        linear(net, 2).bias.zero_()
    with pytest.raises(AccumulatorRangeError, match="layer 2") as e:
        quantize_sequential(net, calibration(0, 8, 4))
    assert e.value.layer == 2 and e.value.bound == width * 127 * 128 > 2**31


# --------------------------------------------------------------------------------------------------
# The quantizer


def test_quantizer_output_is_valid_and_approximates_the_float_model() -> None:
    net = small_net(1)
    calib = calibration(1, 2000, 12)
    model = quantize_sequential(net, calib)
    assert [layer.activation for layer in model.layers] == [
        Activation.RELU,
        Activation.RELU,
        Activation.NONE,
    ]
    assert model.input_scale == float(np.abs(calib).max()) / 127
    assert model.output_scale is not None and model.output_scale > 0
    for layer in model.layers:
        assert 0 < layer.multiplier < 2**31 and 1 <= layer.shift <= 62
        assert int(np.abs(layer.weights.astype(int)).max()) == 127
        # The most precise shift: one more bit would overflow M.
        assert layer.multiplier >= 2**30 or layer.shift == 62
    check_accumulator_bounds(model.layers)
    test = calibration(2, 500, 12)
    q = forward_trace_batch(model, quantize_input(test, model.input_scale))[-1]
    with torch.no_grad():
        expected = net(torch.tensor(test, dtype=torch.float32)).numpy()
    approx = q.astype(np.float64) * model.output_scale
    error = np.abs(approx - expected).max() / np.abs(expected).max()
    assert error < 0.08
    assert (q.argmax(axis=1) == expected.argmax(axis=1)).mean() > 0.9


def test_quantizer_is_deterministic() -> None:
    net = small_net(2)
    calib = calibration(3, 300, 12)
    first = encode_model(quantize_sequential(net, calib))
    again = encode_model(quantize_sequential(copy.deepcopy(net), calib.copy()))
    assert first == again
    assert encode_model(decode_model(first)) == first
    # the inputs are not modified
    assert np.array_equal(calib, calibration(3, 300, 12))


def test_quantizer_handles_no_bias_dead_and_zero_layers() -> None:
    net = nn.Sequential(
        nn.Linear(4, 3, bias=False), nn.ReLU(), nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 2)
    )
    with torch.no_grad():
        linear(net, 2).weight.fill_(-1.0)
        linear(net, 2).bias.fill_(-1.0)  # always negative: a dead ReLU layer
        linear(net, 4).weight.zero_()
    model = quantize_sequential(net, np.abs(calibration(4, 50, 4)))
    assert model.layers[0].biases.tolist() == [0, 0, 0]
    assert model.layers[2].weights.tolist() == [[0, 0, 0], [0, 0, 0]]
    outputs = forward_trace_batch(model, quantize_input(calibration(5, 20, 4), 0.1))
    assert not outputs[2].any()


def test_quantizer_accepts_a_final_relu_and_an_explicit_input_scale() -> None:
    net = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    model = quantize_sequential(net, calibration(6, 10, 3), input_scale=0.5)
    assert model.input_scale == 0.5
    assert model.layers[0].activation == Activation.RELU


@pytest.mark.parametrize(
    "net",
    [
        nn.Sequential(),
        nn.Sequential(nn.ReLU(), nn.Linear(3, 2)),
        nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.ReLU()),
        nn.Sequential(nn.Linear(3, 3), nn.Tanh()),
        nn.Sequential(nn.Linear(3, 4), nn.Linear(5, 2)),
        nn.Sequential(nn.Sequential(nn.Linear(3, 2))),
    ],
)
def test_unsupported_models_are_refused(net: nn.Sequential) -> None:
    with pytest.raises(UnsupportedModelError):
        quantize_sequential(net, calibration(0, 4, 3))


def test_non_sequential_and_non_finite_models_are_refused() -> None:
    with pytest.raises(UnsupportedModelError):
        float_layers(nn.Linear(3, 2))  # type: ignore[arg-type]
    net = nn.Sequential(nn.Linear(3, 2))
    with torch.no_grad():
        linear(net, 0).weight[0, 0] = float("nan")
    with pytest.raises(UnsupportedModelError, match="finite"):
        quantize_sequential(net, calibration(0, 4, 3))


@pytest.mark.parametrize(
    "data",
    [
        np.zeros((0, 3)),
        np.zeros((4, 2)),
        np.zeros(3),
        np.array([[1.0, float("nan"), 0.0]]),
        np.zeros((2, 3)),  # all zeros, no input_scale
        [[1.0, 2.0, 3.0]],
        np.array([["a", "b", "c"]]),
    ],
)
def test_bad_calibration_data_is_refused(data: object) -> None:
    with pytest.raises(CalibrationDataError):
        quantize_sequential(nn.Sequential(nn.Linear(3, 2)), data)  # type: ignore[arg-type]
