"""The committed demo model: it decodes, matches its metrics, and re-training reproduces it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from models.digits import METRICS_PATH, MODEL_PATH
from models.digits.train import (
    HELDOUT_FRACTION,
    INPUT_SCALE,
    MAX_ACCURACY_DROP,
    SEED,
    WIDTHS,
    load_split,
    quantized_accuracy,
)
from models.store import load_model_file
from protocol.model import check_accumulator_bounds
from protocol.requant import Activation

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def metrics() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(METRICS_PATH.read_text())
    return loaded


def test_committed_model_decodes_and_matches_its_metrics(metrics: dict[str, Any]) -> None:
    loaded = load_model_file(MODEL_PATH)
    model = loaded.model
    assert "0x" + loaded.file_hash.hex() == metrics["model_file_hash"]
    assert "0x" + model.model_id().hex() == metrics["model_id"]
    assert [layer.in_dim for layer in model.layers] + [model.layers[-1].out_dim] == list(WIDTHS)
    assert [layer.activation for layer in model.layers] == [
        Activation.RELU,
        Activation.RELU,
        Activation.NONE,
    ]
    assert len(model.partitions) == 1 and not model.partitions[0].sensitive
    assert model.input_scale == INPUT_SCALE == metrics["input_scale"]
    assert model.output_scale == metrics["output_scale"]
    check_accumulator_bounds(model.layers)
    assert len(loaded.data) < 16_000  # small enough to commit


def test_committed_model_reproduces_its_accuracy(metrics: dict[str, Any]) -> None:
    split = load_split(metrics["seed"])
    assert metrics["seed"] == SEED and metrics["heldout_fraction"] == HELDOUT_FRACTION
    assert (len(split.y_train), len(split.y_heldout)) == (
        metrics["n_train"],
        metrics["n_heldout"],
    )
    model = load_model_file(MODEL_PATH).model
    correct = quantized_accuracy(model, split.x_heldout, split.y_heldout)
    assert correct == metrics["quantized_correct"]
    assert correct / len(split.y_heldout) == metrics["quantized_accuracy"]
    assert metrics["float_correct"] / metrics["n_heldout"] == metrics["float_accuracy"]
    assert metrics["quantized_accuracy"] >= metrics["float_accuracy"] - MAX_ACCURACY_DROP
    assert metrics["float_accuracy"] > 0.95


def test_split_is_stratified_and_disjoint() -> None:
    split = load_split()
    train_counts = np.bincount(split.y_train, minlength=10)
    heldout_counts = np.bincount(split.y_heldout, minlength=10)
    assert np.all(np.abs(train_counts / len(split.y_train) - heldout_counts / 360) < 0.01)
    assert split.x_train.min() == 0.0 and split.x_train.max() == 1.0


@pytest.mark.slow
def test_training_reproduces_the_committed_files(tmp_path: Path) -> None:
    outputs = []
    for run in ("first", "second"):
        out = tmp_path / run
        subprocess.run(
            [sys.executable, "-m", "models.digits.train", "--out", str(out)],
            cwd=REPO_ROOT,
            check=True,
            capture_output=True,
            timeout=600,
        )
        outputs.append(
            ((out / MODEL_PATH.name).read_bytes(), (out / METRICS_PATH.name).read_text())
        )
    assert outputs[0] == outputs[1]
    # Pins this software stack (torch, numpy, scikit-learn versions in metrics.json): a different
    # CPU kernel or library version may train to different float weights.
    assert outputs[0][0] == MODEL_PATH.read_bytes()
    assert outputs[0][1] == METRICS_PATH.read_text()
