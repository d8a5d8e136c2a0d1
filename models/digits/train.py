"""
Train, quantize and write the demo model: an MLP 64 → 64 → 32 → 10 on scikit-learn's ``digits``.

Usage::

    python -m models.digits.train [--out DIR] [--seed SEED]

Everything is fixed so that a re-run writes byte-identical files (on the same software stack):

- **Data**: ``sklearn.datasets.load_digits()`` (bundled with scikit-learn, no download): 1,797
  8×8 images, pixels 0..16. A float input is ``pixel / 16`` (in ``[0, 1]``). The split is
  ``train_test_split(test_size=0.2, stratify=y, random_state=SEED)``: 1,437 training and 360
  held-out images.
- **Training**: ``torch.manual_seed(SEED)``, ``torch.use_deterministic_algorithms(True)``, one
  thread; ``Linear(64,64)·ReLU·Linear(64,32)·ReLU·Linear(32,10)``, Adam, cross-entropy, mini-batches
  drawn by a ``torch.Generator`` seeded with ``SEED``, a fixed number of epochs.
- **Quantization**: :func:`protocol.quantize.quantize_sequential` calibrated on the training
  images with ``input_scale = 1/127`` (so a float input ``1.0`` is int8 127).
- **Accuracy**: the float model's ``argmax`` of its float32 logits; the quantized model's
  ``argmax`` (first index on ties) of the int8 output of the ``numpy`` reference runtime
  (:func:`protocol.model.forward_trace_batch`) on ``quantize_input(pixel / 16, input_scale)``,
  both on the held-out split. The script refuses (exit 1, nothing written) if the quantized accuracy
  is more than one percentage point below the float accuracy.

Outputs (into ``--out``, by default this package's directory): ``digits.opzkmodel`` (the model
file; one public partition over all layers) and ``metrics.json`` (accuracies, seed, split sizes,
hyper-parameters, scales, model id, model file hash, library versions).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import sklearn  # type: ignore[import-untyped]  # scikit-learn ships no type information
import torch
from sklearn.datasets import load_digits  # type: ignore[import-untyped]
from sklearn.model_selection import train_test_split  # type: ignore[import-untyped]
from torch import nn

from models.digits import METRICS_PATH, MODEL_PATH
from models.store import write_bytes_atomic
from protocol.model import QuantizedModel, forward_trace_batch
from protocol.modelfile import encode_model, model_file_hash
from protocol.quantize import quantize_input, quantize_sequential

SEED = 20250101
"""The seed of the split, the initialization and the mini-batch order."""

HELDOUT_FRACTION = 0.2
PIXEL_MAX = 16.0
"""``load_digits`` pixels are 0..16; a float input is ``pixel / PIXEL_MAX``."""

INPUT_SCALE = 1.0 / 127.0
"""The model's input scale: float ``1.0`` (a full pixel) is int8 127."""

WIDTHS = (64, 64, 32, 10)
EPOCHS = 60
BATCH_SIZE = 32
LEARNING_RATE = 2e-3
WEIGHT_DECAY = 1e-4

MAX_ACCURACY_DROP = 0.01
"""The quantized accuracy may be at most one percentage point below the float accuracy."""


@dataclass(frozen=True)
class DigitsSplit:
    """The fixed train / held-out split; ``x`` is ``pixel / 16`` as ``float64``."""

    x_train: npt.NDArray[np.float64]
    y_train: npt.NDArray[np.int64]
    x_heldout: npt.NDArray[np.float64]
    y_heldout: npt.NDArray[np.int64]


def load_split(seed: int = SEED) -> DigitsSplit:
    """
    The stratified split of ``load_digits()``.

    Parameters
    ----------
    seed :
        ``random_state`` of ``train_test_split``.

    Returns
    -------
    split : `DigitsSplit`
        1,437 training and 360 held-out images (for ``HELDOUT_FRACTION = 0.2``), each class in
        the same proportion in both.
    """
    digits = load_digits()
    x = np.asarray(digits.data, dtype=np.float64) / PIXEL_MAX
    y = np.asarray(digits.target, dtype=np.int64)
    x_train, x_heldout, y_train, y_heldout = train_test_split(
        x, y, test_size=HELDOUT_FRACTION, stratify=y, random_state=seed
    )
    return DigitsSplit(x_train, y_train, x_heldout, y_heldout)


def build_mlp() -> nn.Sequential:
    """The float architecture: ``Linear(64,64)·ReLU·Linear(64,32)·ReLU·Linear(32,10)``."""
    return nn.Sequential(
        nn.Linear(WIDTHS[0], WIDTHS[1]),
        nn.ReLU(),
        nn.Linear(WIDTHS[1], WIDTHS[2]),
        nn.ReLU(),
        nn.Linear(WIDTHS[2], WIDTHS[3]),
    )


def train_float(split: DigitsSplit, seed: int = SEED) -> nn.Sequential:
    """
    Train the float MLP deterministically.

    Sets ``torch.manual_seed(seed)``, ``torch.use_deterministic_algorithms(True)`` and one
    ``torch`` thread (process-wide settings: this is a script).

    Parameters
    ----------
    split :
        The data; only the training part is used.
    seed :
        Seeds the initialization and the mini-batch order.

    Returns
    -------
    net : `torch.nn.Sequential`
        The trained model, in eval mode, on CPU.
    """
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    net = build_mlp()
    x = torch.tensor(split.x_train, dtype=torch.float32)
    y = torch.tensor(split.y_train, dtype=torch.int64)
    optimizer = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    loss_fn = nn.CrossEntropyLoss()
    order = torch.Generator().manual_seed(seed)
    net.train()
    for _ in range(EPOCHS):
        permutation = torch.randperm(x.shape[0], generator=order)
        for start in range(0, x.shape[0], BATCH_SIZE):
            batch = permutation[start : start + BATCH_SIZE]
            optimizer.zero_grad()
            loss = loss_fn(net(x[batch]), y[batch])
            loss.backward()
            optimizer.step()
    net.eval()
    return net


def float_accuracy(net: nn.Sequential, x: npt.NDArray[np.float64], y: npt.NDArray[np.int64]) -> int:
    """
    Number of correct float predictions (``argmax`` of the float32 logits).

    Returns
    -------
    correct : `int`
        How many rows of ``x`` the float model classifies as ``y``.
    """
    with torch.no_grad():
        logits = net(torch.tensor(x, dtype=torch.float32))
    return int((logits.argmax(dim=1).numpy() == y).sum())


def quantized_predictions(
    model: QuantizedModel, x: npt.NDArray[np.float64]
) -> npt.NDArray[np.int64]:
    """
    The quantized model's classes: ``argmax`` (first on ties) of the reference runtime's int8
    output on ``quantize_input(x, model.input_scale)``.

    Parameters
    ----------
    model :
        A model with an ``input_scale``.
    x :
        Float inputs (``pixel / 16``), one row per image.

    Returns
    -------
    classes : `numpy.ndarray`
        One ``int64`` class per row.
    """
    if model.input_scale is None:
        raise ValueError("the model has no input_scale")
    inputs = quantize_input(x, model.input_scale)
    outputs = forward_trace_batch(model, inputs)[-1]
    classes: npt.NDArray[np.int64] = np.argmax(outputs, axis=1).astype(np.int64)
    return classes


def quantized_accuracy(
    model: QuantizedModel, x: npt.NDArray[np.float64], y: npt.NDArray[np.int64]
) -> int:
    """
    Number of correct quantized predictions (:func:`quantized_predictions`).

    Returns
    -------
    correct : `int`
        How many rows of ``x`` the quantized model classifies as ``y``.
    """
    return int((quantized_predictions(model, x) == y).sum())


def build(seed: int = SEED) -> tuple[bytes, dict[str, Any]]:
    """
    Train, quantize and measure; write nothing.

    Parameters
    ----------
    seed :
        The seed (:data:`SEED` for the committed files).

    Returns
    -------
    model_file, metrics : `tuple[bytes, dict]`
        The model file's bytes and the content of ``metrics.json``.
    """
    split = load_split(seed)
    net = train_float(split, seed)
    model = quantize_sequential(net, split.x_train, input_scale=INPUT_SCALE)
    data = encode_model(model)
    heldout = len(split.y_heldout)
    float_correct = float_accuracy(net, split.x_heldout, split.y_heldout)
    quantized_correct = quantized_accuracy(model, split.x_heldout, split.y_heldout)
    metrics: dict[str, Any] = {
        "dataset": "sklearn.datasets.load_digits (pixel / 16)",
        "seed": seed,
        "heldout_fraction": HELDOUT_FRACTION,
        "n_train": len(split.y_train),
        "n_heldout": heldout,
        "widths": list(WIDTHS),
        "activations": ["relu", "relu", "none"],
        "training": {
            "optimizer": "Adam",
            "learning_rate": LEARNING_RATE,
            "weight_decay": WEIGHT_DECAY,
            "epochs": EPOCHS,
            "batch_size": BATCH_SIZE,
        },
        "float_correct": float_correct,
        "quantized_correct": quantized_correct,
        "float_accuracy": float_correct / heldout,
        "quantized_accuracy": quantized_correct / heldout,
        "input_scale": model.input_scale,
        "output_scale": model.output_scale,
        "model_file": MODEL_PATH.name,
        "model_file_hash": "0x" + model_file_hash(data).hex(),
        "model_id": "0x" + model.model_id().hex(),
        "versions": {
            "torch": torch.__version__,
            "numpy": np.__version__,
            "scikit-learn": sklearn.__version__,
        },
    }
    return data, metrics


def main(argv: Sequence[str] | None = None) -> int:
    """
    The command line (module docstring).

    Returns
    -------
    status : `int`
        0 when the files were written, 1 when the quantized accuracy is too low.
    """
    parser = argparse.ArgumentParser(prog="python -m models.digits.train", description=__doc__)
    parser.add_argument("--out", type=Path, default=MODEL_PATH.parent, help="output directory")
    parser.add_argument("--seed", type=int, default=SEED, help="the seed")
    args = parser.parse_args(argv)
    data, metrics = build(args.seed)
    print(
        f"held-out accuracy: float {metrics['float_accuracy']:.4f}, "
        f"quantized {metrics['quantized_accuracy']:.4f} ({metrics['n_heldout']} images)"
    )
    if metrics["quantized_accuracy"] < metrics["float_accuracy"] - MAX_ACCURACY_DROP:
        print("error: the quantized accuracy is more than 1 point below float", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(args.out / MODEL_PATH.name, data)
    write_bytes_atomic(
        args.out / METRICS_PATH.name, (json.dumps(metrics, indent=2) + "\n").encode()
    )
    print(f"model id {metrics['model_id']}, file hash {metrics['model_file_hash']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
