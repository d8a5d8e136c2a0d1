"""Batched re-execution equals ``prover.fraud.first_wrong_element`` trace by trace."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from challenger.reexec import ReExecutor
from protocol.model import QuantizedModel, forward_trace
from prover.fraud import first_wrong_element
from tests import factories

Trace = list[npt.NDArray[np.int8] | None]


def random_traces(model: QuantizedModel, n: int, seed: int) -> list[Trace]:
    """Honest traces, some tampered in one element, some with a bad length, some withheld."""
    rng = factories.rng_for(seed)
    hidden = model.hidden_indices()
    out: list[Trace] = []
    for _ in range(n):
        vectors: Trace = list(forward_trace(model, factories.random_input(rng, 36)))
        kind = rng.integers(0, 6)
        layer = int(rng.integers(1, len(model.layers) + 1))
        v = vectors[layer]
        if kind in (1, 2) and v is not None:
            v = v.copy()
            v[int(rng.integers(0, len(v)))] ^= np.int8(int(rng.integers(1, 127)))
            vectors[layer] = v
        elif kind == 3 and v is not None:
            vectors[layer] = np.concatenate([v, np.zeros(1, dtype=np.int8)])
        elif kind == 4:
            vectors[int(rng.integers(0, len(vectors)))] = None
        out.append([None if i in hidden else x for i, x in enumerate(vectors)])
    return out


@pytest.mark.parametrize("which", ["public", "sensitive"])
def test_equals_reference(
    which: str, public_model: QuantizedModel, sensitive_model: QuantizedModel
) -> None:
    model = public_model if which == "public" else sensitive_model
    traces = random_traces(model, 400, seed=3)
    got = ReExecutor(model, "cpu").first_wrong(traces)
    want = [first_wrong_element(model, t) for t in traces]
    assert got == want
    assert sum(w is not None for w in want) > 100  # the table exercises fraud


def test_stacked_fast_path(public_model: QuantizedModel) -> None:
    rng = factories.rng_for(4)
    x = np.stack([factories.random_input(rng, 36) for _ in range(300)])
    from protocol.model import forward_trace_batch

    stacked = [h.copy() for h in forward_trace_batch(public_model, x)]
    stacked[2][17, 3] ^= 1
    stacked[3][17, 0] ^= 1
    stacked[3][40, 2] ^= 1
    got = ReExecutor(public_model, "cpu").first_wrong_stacked(stacked)
    traces = [[h[r] for h in stacked] for r in range(300)]
    assert got == [first_wrong_element(public_model, t) for t in traces]
    assert got[17] is not None and got[17].layer == 2


def test_empty_batch(public_model: QuantizedModel) -> None:
    assert ReExecutor(public_model, "cpu").first_wrong([]) == []
