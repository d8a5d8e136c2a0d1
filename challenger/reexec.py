"""
Batched re-execution: the first wrong public element of many claimed traces at once.

Introduction
------------
:func:`prover.fraud.first_wrong_element` checks one trace layer by layer. :class:`ReExecutor` does
the same for a whole batch of traces of one model: for each public layer ``ℓ`` it stacks the claimed
inputs ``h_{ℓ−1}`` of every trace that has both vectors, applies the layer once with
:class:`protocol.runtime_torch.TorchRuntime` (bit-exact with the reference, GPU when available),
and compares with the claimed ``h_ℓ``. Each trace keeps the first layer (and in it the first row)
where they differ, so the result equals ``first_wrong_element`` trace by trace — which the tests
check on random honest and tampered traces. Wrong lengths are detected per trace, as in the
reference. Hidden or missing vectors skip the layers that need them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import torch

from protocol.model import QuantizedModel, all_public
from protocol.runtime_torch import TorchRuntime, default_device
from prover.fraud import WrongElement

ClaimedTrace = Sequence[npt.NDArray[np.int8] | None]
"""``h_0 … h_L`` as the node served them; ``None`` where hidden or not served."""


class ReExecutor:
    """
    One model's public layers on a device, ready to check batches of claimed traces.

    Parameters
    ----------
    model :
        The model; public layers need their weights (sensitive layers are never re-executed).
    device :
        ``"auto"`` (CUDA when present, else CPU) or any torch device.
    """

    def __init__(self, model: QuantizedModel, device: str | torch.device = "auto") -> None:
        self.model = model
        dev = default_device() if device == "auto" else torch.device(device)
        self.device = dev
        self._layers: dict[int, TorchRuntime] = {
            index: TorchRuntime(all_public([layer]), dev)
            for index, layer in enumerate(model.layers, start=1)
            if not model.is_sensitive_layer(index)
        }

    def expected(self, layer: int, inputs: npt.NDArray[np.int8]) -> npt.NDArray[np.int8]:
        """Layer ``layer`` (public, 1..L) applied to every row of ``inputs`` (int8, ``B×n``)."""
        out = self._layers[layer].run_batch(inputs)[1]
        result: npt.NDArray[np.int8] = out.cpu().numpy()
        return result

    def first_wrong_stacked(
        self, stacked: Sequence[npt.NDArray[np.int8] | None]
    ) -> list[WrongElement | None]:
        """
        The first wrong element of ``B`` traces given as stacked arrays.

        ``stacked[i]`` is ``H_i`` of shape ``(B, d_i)`` (every trace has every public vector, of
        the right length) or ``None`` for a hidden index. This is the fast path the benchmark
        measures.
        """
        batch = next(h.shape[0] for h in stacked if h is not None)
        found: list[WrongElement | None] = [None] * batch
        pending = np.ones(batch, dtype=bool)
        for index, runtime in self._layers.items():
            x, y = stacked[index - 1], stacked[index]
            if x is None or y is None:
                continue
            expected = runtime.run_batch(x)[1]
            diff = expected != torch.as_tensor(y).to(expected.device)
            bad = diff.any(dim=1).cpu().numpy() & pending
            if bad.any():
                rows = diff.to(torch.int8).argmax(dim=1).cpu().numpy()
                for b in np.flatnonzero(bad):
                    found[int(b)] = WrongElement(index, int(rows[b]))
                pending &= ~bad
            if not pending.any():
                break
        return found

    def first_wrong(self, traces: Sequence[ClaimedTrace]) -> list[WrongElement | None]:
        """
        ``[first_wrong_element(model, t) for t in traces]``, computed one layer at a time for the
        whole batch.

        Must hold: equal, element by element, to :func:`prover.fraud.first_wrong_element`.
        """
        found: list[WrongElement | None] = [None] * len(traces)
        pending = set(range(len(traces)))
        for index, runtime in self._layers.items():
            layer = self.model.layers[index - 1]
            rows: list[int] = []
            for t in sorted(pending):
                x, y = traces[t][index - 1], traces[t][index]
                if x is None or y is None:
                    continue
                if len(x) != layer.in_dim or len(y) != layer.out_dim:
                    found[t] = WrongElement(index, 0, wrong_length=True)
                    continue
                rows.append(t)
            pending -= {t for t in pending if found[t] is not None}
            if not rows:
                continue
            xs = np.stack([np.asarray(traces[t][index - 1], dtype=np.int8) for t in rows])
            ys = np.stack([np.asarray(traces[t][index], dtype=np.int8) for t in rows])
            expected = runtime.run_batch(xs)[1].cpu().numpy()
            diff = expected != ys
            bad = diff.any(axis=1)
            first = diff.argmax(axis=1)
            for k, t in enumerate(rows):
                if bad[k]:
                    found[t] = WrongElement(index, int(first[k]))
                    pending.discard(t)
            if not pending:
                break
        return found
