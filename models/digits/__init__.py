"""
The demo model: an MLP 64 → 64 → 32 → 10 for scikit-learn's bundled ``digits``.

``python -m models.digits.train`` trains it with a fixed seed, quantizes it and writes
``digits.opzkmodel`` and ``metrics.json`` beside this file (:mod:`models.digits.train`).
"""

from pathlib import Path

MODEL_PATH = Path(__file__).with_name("digits.opzkmodel")
"""The committed model file."""

METRICS_PATH = Path(__file__).with_name("metrics.json")
"""The committed training results (accuracies, seed, split sizes, model id, file hash)."""
