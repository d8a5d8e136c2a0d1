"""
Small quantized models for the model-file, quantizer and runtime tests.

Everything is built from a seeded ``numpy.random.Generator``, so every run sees the same models.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from protocol.keccak import keccak256
from protocol.model import QLinearLayer, QuantizedModel, all_public
from protocol.model_id import PartitionSpec
from protocol.requant import Activation
from protocol.types import ZERO_HASH

LIMIT = 2**31 - 1
"""The largest allowed worst-case ``|z|``."""

COMMITMENT = keccak256(b"sensitive weights")
SETUP = keccak256(b"setup")


def random_int8(rng: np.random.Generator, shape: tuple[int, ...]) -> npt.NDArray[np.int8]:
    """Uniform int8 values."""
    return rng.integers(-128, 128, size=shape, dtype=np.int16).astype(np.int8)


def random_layer(
    rng: np.random.Generator,
    n: int,
    m: int,
    *,
    multiplier: int | None = None,
    shift: int | None = None,
    activation: Activation | None = None,
) -> QLinearLayer:
    """
    A valid random layer with int8 weights and biases of about the spread of ``Σ W·x``. Without
    ``multiplier``/``shift`` they are calibrated so that the outputs for uniform int8 inputs spread
    over int8 (a standard deviation of about 40).
    """
    weights = random_int8(rng, (m, n))
    spread = 74.0 * 74.0 * np.sqrt(n) + 1.0  # ~ std of Σ W·x for uniform int8 W and x
    biases = rng.integers(-int(spread), int(spread) + 1, size=m).astype(np.int32)
    if shift is None:
        shift = int(rng.integers(16, 40))
    if multiplier is None:
        multiplier = min(LIMIT, max(0, round(40.0 * 2.0**shift / spread)))
    if activation is None:
        activation = Activation(int(rng.integers(0, 2)))
    return QLinearLayer(weights, biases, multiplier, shift, activation)


def random_model(
    seed: int,
    dims: Sequence[int],
    *,
    extremes: bool = False,
) -> QuantizedModel:
    """
    An all-public random model with widths ``dims``. With ``extremes``, layers take turns at
    ``(M, k)`` = ``(2^31 − 1, 1)`` (everything saturates), ``(0, 62)`` (everything rounds to 0),
    ``(2^31 − 1, 62)``, ``(1, 1)``, and rows at the edge of the accumulator rule (all 127 or all
    −128 weights, biases up to the remaining slack).
    """
    rng = np.random.default_rng(seed)
    corners = [(LIMIT, 1), (0, 62), (LIMIT, 62), (1, 1)]
    layers: list[QLinearLayer] = []
    for index, (n, m) in enumerate(itertools.pairwise(dims)):
        if extremes:
            multiplier, shift = corners[(seed + index) % len(corners)]
            layer = random_layer(rng, n, m, multiplier=multiplier, shift=shift)
            weights = layer.weights.copy()
            weights[0, :] = 127
            weights[-1, :] = -128
            layer = _with_edge_biases(rng, weights, layer)
        else:
            layer = random_layer(rng, n, m)
        layers.append(layer)
    return all_public(layers)


def _with_edge_biases(
    rng: np.random.Generator, weights: npt.NDArray[np.int8], layer: QLinearLayer
) -> QLinearLayer:
    """
    Biases at the edge of the accumulator rule: row 0 at the positive edge (its largest ``z`` is
    exactly ``2^31 − 1``), the last row at the negative edge (smallest ``z`` exactly
    ``−(2^31 − 1)``), the others anywhere in between.
    """
    wide = weights.astype(np.int64)
    positive = np.clip(wide, 0, None).sum(axis=1)
    negative = np.clip(-wide, 0, None).sum(axis=1)
    top = LIMIT - (127 * positive + 128 * negative)  # largest bias allowed
    bottom = (128 * positive + 127 * negative) - LIMIT  # smallest bias allowed
    biases = np.array(
        [int(rng.integers(int(lo), int(hi) + 1)) for lo, hi in zip(bottom, top, strict=True)],
        dtype=np.int64,
    )
    biases[0] = top[0]
    biases[-1] = bottom[-1]
    return QLinearLayer(
        weights, biases.astype(np.int32), layer.multiplier, layer.shift, layer.activation
    )


def sensitive_model(seed: int = 5) -> QuantizedModel:
    """Four layers 12 → 10 → 8 → 6 → 4; layers 2..3 form a sensitive partition."""
    layers = random_model(seed, (12, 10, 8, 6, 4)).layers
    partitions = (
        PartitionSpec(1, 1, False, ZERO_HASH, ZERO_HASH),
        PartitionSpec(2, 3, True, COMMITMENT, SETUP),
        PartitionSpec(4, 4, False, ZERO_HASH, ZERO_HASH),
    )
    return QuantizedModel(layers=layers, partitions=partitions, input_scale=0.25)


def extreme_inputs(rng: np.random.Generator, count: int, width: int) -> npt.NDArray[np.int8]:
    """``count`` random int8 rows whose first rows are all −128, all 127, all 0, alternating."""
    inputs = random_int8(rng, (count, width))
    inputs[0] = -128
    inputs[1] = 127
    inputs[2] = 0
    inputs[3, 0::2] = 127
    inputs[3, 1::2] = -128
    inputs[4, 0::2] = -128
    inputs[4, 1::2] = 127
    return inputs
