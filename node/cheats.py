"""
Cheat modes: a node that lies on purpose, for tests and the demo only (never off Anvil).

Introduction
------------
With ``cheat_rate > 0`` (settings, Anvil's chain id 31337 only: :func:`check_cheats_allowed`) the
node makes a deterministic, per-request choice (:func:`draw`, from ``cheat_seed`` and the request
id) to cheat on a share ``cheat_rate`` of its off-chain requests, with one of ``cheat_modes``:

``wrong_output``
    The final output ``h_L`` is changed (two logits swapped, so the predicted class changes);
    ``outputHash`` and ``traceRoot`` commit to the wrong output. Layer ``L`` is provably wrong
    (by a fraud proof when it is public; inside a sensitive partition only a proof demand tells).
``wrong_layer``
    One element of an intermediate public vector ``h_ℓ`` (``0 < ℓ < L``) is changed and the later
    layers are computed honestly from it; the trace commits to it. Layer ``ℓ`` is provably wrong.
``bad_endpoint``
    The trace is consistent but does not start (or end) with the receipt's input (or output):
    either the trace was computed from a different input (entry 0 is not ``inputHash``), or the
    client is given and the receipt names another output than the trace's last entry (entry
    ``L`` is not ``outputHash``). Provable by ``proveEndpointFraud``.
``withheld_trace``
    The receipt is committed honestly, but ``GET /v1/traces/{id}`` answers 410 and the
    data-availability responder (:mod:`node.responder`) never publishes a vector of it, so a
    data challenge times out and slashes the node.
``refused_proof``, ``invalid_proof``
    Accepted and drawn like the others, but only effective once the node answers proof demands:
    the proof path asks :meth:`CheatPlan.proof_action`. Until then such a request is answered
    honestly (its record says ``"effective": false``).

The client-facing answer of a cheated request looks like any other. On-chain requests
(:mod:`node.onchain`) are never cheated on.

**The record.** Every cheat is logged (a warning naming the request and the mode), counted in
the metric ``opzk_node_cheats_injected_total{mode}`` (counts only) and appended, before its receipt
is stored, as one JSON line to ``<data_dir>/cheats.jsonl`` (:data:`RECORD_FILE`):
``{"request_id", "mode", "detail", "effective", "model_id", "created_at"}``. This local file is what
tests and the demo read to count the frauds injected; no API route says which requests were lied
on (receipts and traces look like honest ones). At start the file is
read back (the trace route and the responder keep behaving the same after a restart) and lines for
request ids above the last stored receipt are dropped, since those ids are handed out again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from prometheus_client import Counter

from protocol.types import ZERO_HASH

from .claims import address_bytes, build_receipts
from .hashing import act_hash_fast, receipt_leaf_fast, trace_root_fast
from .records import NewReceipt, ReceiptRecord

if TYPE_CHECKING:
    from .metrics import NodeMetrics
    from .runtime import ServedModel
    from .settings import NodeSettings

log = logging.getLogger(__name__)

RECORD_FILE = "cheats.jsonl"
"""Name of the cheat record under the node's data dir."""

_DOMAIN = b"opzk.node.cheat.v1"


class CheatMode(StrEnum):
    """The ways a cheating node lies."""

    WRONG_OUTPUT = "wrong_output"
    WRONG_LAYER = "wrong_layer"
    BAD_ENDPOINT = "bad_endpoint"
    WITHHELD_TRACE = "withheld_trace"
    REFUSED_PROOF = "refused_proof"
    INVALID_PROOF = "invalid_proof"


TRACE_MODES: tuple[CheatMode, ...] = (
    CheatMode.WRONG_OUTPUT,
    CheatMode.WRONG_LAYER,
    CheatMode.BAD_ENDPOINT,
    CheatMode.WITHHELD_TRACE,
)
"""The modes in effect today (the default ``cheat_modes``)."""

PROOF_MODES: tuple[CheatMode, ...] = (CheatMode.REFUSED_PROOF, CheatMode.INVALID_PROOF)
"""Modes for the proof path, effective once the node answers proof demands."""


@dataclass(frozen=True, slots=True)
class Draw:
    """The cheat drawn for one request: its mode and a number that picks the details."""

    mode: CheatMode
    pick: int
    """64 pseudo-random bits choosing the layer, the element and the endpoint."""


def draw(seed: int, request_id: int, rate: float, modes: Sequence[CheatMode]) -> Draw | None:
    """
    The cheat for ``request_id``, or ``None`` for an honest answer.

    Must hold: deterministic in ``(seed, request_id, rate, modes)``; never a cheat when ``rate``
    is 0 or ``modes`` is empty; over many ids, a share ``rate`` of them cheat, the modes equally
    often.
    """
    if rate <= 0 or not modes:
        return None
    digest = hashlib.sha256(
        _DOMAIN + seed.to_bytes(32, "big") + request_id.to_bytes(32, "big")
    ).digest()
    u = int.from_bytes(digest[:8], "big")
    if u >= rate * 2**64:
        return None
    mode = modes[int.from_bytes(digest[8:16], "big") % len(modes)]
    return Draw(mode, int.from_bytes(digest[16:24], "big"))


@dataclass(frozen=True, slots=True)
class CheatedRow:
    """One request's lie: what the trace commits to and what the receipt (and client) see."""

    trace: list[npt.NDArray[np.int8]]
    """``h_0 … h_L`` as committed in the trace root (and served)."""
    receipt_input: npt.NDArray[np.int8]
    receipt_output: npt.NDArray[np.int8]
    detail: str


def _swap_top(y: npt.NDArray[np.int8], pick: int) -> tuple[npt.NDArray[np.int8], int]:
    """``y`` with its largest element swapped with another of a different value."""
    out = y.copy()
    top = int(np.argmax(out))
    others = [j for j in range(len(out)) if out[j] != out[top]]
    if not others:
        out[0] ^= 1  # every element equal: change one
        return out, 0
    other = others[pick % len(others)]
    out[top], out[other] = out[other], out[top]
    return out, other


def _flip(v: npt.NDArray[np.int8], element: int) -> npt.NDArray[np.int8]:
    """``v`` with the low bit of ``v[element]`` flipped (stays in 0..127 and in int8)."""
    out = v.copy()
    out[element] ^= 1
    return out


def _forward_from(
    served: ServedModel, trace: list[npt.NDArray[np.int8]], start: int
) -> list[npt.NDArray[np.int8]]:
    """``trace`` with ``h_{start+1} … h_L`` recomputed from ``h_start``."""
    out = list(trace)
    for index in range(start + 1, len(out)):
        out[index] = np.asarray(served.model.layers[index - 1].forward(out[index - 1]), np.int8)
    return out


def cheat_row(
    served: ServedModel, honest: Sequence[npt.NDArray[np.int8]], mode: CheatMode, pick: int
) -> CheatedRow | None:
    """
    The lie ``mode`` tells about one honest trace ``honest`` (``h_0 … h_L``), its details chosen
    by ``pick``; ``None`` when the mode changes nothing in the trace or receipt
    (``withheld_trace`` and the proof modes).
    """
    trace = [np.ascontiguousarray(v, dtype=np.int8) for v in honest]
    last = len(trace) - 1
    if mode is CheatMode.WRONG_LAYER:
        layers = [
            i
            for i in range(1, last)
            if i not in served.hidden and not served.model.is_sensitive_layer(i)
            and i - 1 not in served.hidden
        ]  # fmt: skip
        if layers:
            layer = layers[pick % len(layers)]
            element = (pick // 7) % len(trace[layer])
            trace[layer] = _flip(trace[layer], element)
            trace = _forward_from(served, trace, layer)
            return CheatedRow(trace, trace[0], trace[last], f"layer {layer}, element {element}")
        mode = CheatMode.WRONG_OUTPUT  # a one-layer model has no intermediate layer
    if mode is CheatMode.WRONG_OUTPUT:
        trace[last], other = _swap_top(trace[last], pick)
        return CheatedRow(trace, trace[0], trace[last], f"output, element {other} swapped")
    if mode is CheatMode.BAD_ENDPOINT:
        if pick % 2 == 0:
            # The trace was computed from another input than the receipt's.
            element = (pick // 2) % len(trace[0])
            computed = _forward_from(served, [_flip(trace[0], element), *trace[1:]], 0)
            return CheatedRow(computed, trace[0], computed[last], "endpoint 0 (input)")
        # The client is given (and the receipt names) another output than the trace's.
        wrong, _ = _swap_top(trace[last], pick // 2)
        return CheatedRow(trace, trace[0], wrong, f"endpoint {last} (output)")
    return None


def check_cheats_allowed(settings: NodeSettings, chain_id: int) -> None:
    """
    Refuses cheat modes (``cheat_rate > 0``) on any chain id but Anvil's (31337).

    Raises
    ------
    NodeConfigError
        Naming ``cheat_rate`` and the chain id.
    """
    from deploy.anvil import ANVIL_CHAIN_ID

    from .settings import NodeConfigError

    if settings.cheat_rate > 0 and chain_id != ANVIL_CHAIN_ID:
        raise NodeConfigError(
            f"cheat_rate: cheat modes are for tests and the demo only; refused on chain id "
            f"{chain_id} (only Anvil's {ANVIL_CHAIN_ID} allows them)"
        )


@dataclass(frozen=True, slots=True)
class CheatRecord:
    """One cheat as recorded in :data:`RECORD_FILE`."""

    request_id: int
    mode: CheatMode
    detail: str
    effective: bool


class CheatPlan:
    """
    Which requests a node cheats on, how, and the record of what it did.

    Parameters
    ----------
    rate :
        Share of requests cheated on (0 disables new cheats).
    modes :
        The modes drawn from, equally often.
    seed :
        Seeds :func:`draw`.
    record_path :
        The JSON-lines record (``None``: kept in memory only, for tests).
    metrics :
        Where ``opzk_node_cheats_injected`` is registered.
    """

    def __init__(
        self,
        rate: float = 0.0,
        modes: Sequence[CheatMode] = TRACE_MODES,
        seed: int = 0,
        *,
        record_path: Path | None = None,
        metrics: NodeMetrics | None = None,
    ) -> None:
        self.rate = rate
        self.modes = tuple(CheatMode(m) for m in modes)
        self.seed = seed
        self.record_path = record_path
        self._records: dict[int, CheatRecord] = {}
        self._lock = threading.Lock()
        self._counter: Counter | None = None
        if metrics is not None:
            self._counter = Counter(
                "opzk_node_cheats_injected",
                "Requests this node cheated on (cheat modes, Anvil only), by mode.",
                ["mode"],
                registry=metrics.registry,
            )

    @classmethod
    def from_settings(
        cls,
        settings: NodeSettings,
        chain_id: int,
        *,
        last_request_id: int,
        metrics: NodeMetrics | None = None,
    ) -> CheatPlan | None:
        """
        The plan of ``settings``, with the record under its data dir read back; ``None`` (an
        honest node, nothing on its hot path) when ``cheat_rate`` is 0 and nothing was recorded.

        Raises :class:`~node.settings.NodeConfigError` for cheat modes off Anvil.
        """
        check_cheats_allowed(settings, chain_id)
        path = settings.data_dir / RECORD_FILE
        if settings.cheat_rate <= 0 and not path.is_file():
            return None
        plan = cls(
            settings.cheat_rate,
            [CheatMode(m) for m in settings.cheat_modes],
            settings.cheat_seed,
            record_path=path,
            metrics=metrics,
        )
        plan.load(last_request_id)
        if plan.enabled:
            log.warning(
                "CHEAT MODE: this node lies on %.3g of its requests (%s, seed %d); record in %s",
                plan.rate,
                ", ".join(plan.modes),
                plan.seed,
                path,
            )
        return plan

    @property
    def enabled(self) -> bool:
        """Whether new requests may be cheated on."""
        return self.rate > 0 and bool(self.modes)

    def load(self, last_request_id: int) -> None:
        """Reads the record back, dropping (and rewriting without) ids above ``last_request_id``."""
        path = self.record_path
        if path is None or not path.is_file():
            return
        kept: list[str] = []
        stale = 0
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            data = json.loads(line)
            if int(data["request_id"]) > last_request_id:
                stale += 1
                continue
            record = CheatRecord(
                int(data["request_id"]),
                CheatMode(data["mode"]),
                str(data["detail"]),
                bool(data["effective"]),
            )
            self._records[record.request_id] = record
            kept.append(line)
        if stale:
            tmp = path.with_suffix(".tmp")
            tmp.write_text("".join(f"{k}\n" for k in kept))
            os.replace(tmp, path)

    # ---- what the node does ----------------------------------------------------------------------

    def mode_of(self, request_id: int) -> CheatMode | None:
        """The cheat recorded for ``request_id`` (``None``: answered honestly)."""
        with self._lock:
            record = self._records.get(request_id)
        return None if record is None else record.mode

    def records(self) -> list[CheatRecord]:
        """Every recorded cheat, by request id."""
        with self._lock:
            return [self._records[k] for k in sorted(self._records)]

    def withholds(self, request_id: int) -> bool:
        """Whether the node withholds this request's trace (API and data challenges)."""
        return self.mode_of(request_id) is CheatMode.WITHHELD_TRACE

    def proof_action(self, request_id: int) -> CheatMode | None:
        """
        The hook of the proof path: ``refused_proof`` (send no proof), ``invalid_proof`` (send a
        proof that does not verify) or ``None`` (answer honestly).
        """
        mode = self.mode_of(request_id)
        return mode if mode in PROOF_MODES else None

    def committed_hashes(
        self, record: ReceiptRecord, vectors: Sequence[npt.NDArray[np.int8] | None]
    ) -> list[bytes]:
        """
        The activation hashes under ``record.trace_root``: the stored ones, except for a
        ``bad_endpoint`` cheat, whose stored endpoints are the receipt's and whose trace entries are
        the hashes of the trace's own vectors ``vectors`` (``None`` where hidden).
        """
        if self.mode_of(record.request_id) is not CheatMode.BAD_ENDPOINT:
            return record.activation_hash_list()
        return [ZERO_HASH if v is None else bytes(act_hash_fast(v)) for v in vectors]

    def build_receipts(
        self,
        served: ServedModel,
        trace: Sequence[npt.NDArray[np.int8]],
        request_ids: Sequence[int],
        *,
        node: str,
        clients: Sequence[str],
        created_at: float,
    ) -> list[NewReceipt]:
        """
        :func:`node.claims.build_receipts`, lying on the requests :func:`draw` picks, each lie
        recorded before it is returned.
        """
        rows = build_receipts(
            served, trace, request_ids, node=node, clients=clients, created_at=created_at
        )
        if not self.enabled:
            return rows
        for row, request_id in enumerate(request_ids):
            drawn = draw(self.seed, request_id, self.rate, self.modes)
            if drawn is None:
                continue
            honest = [np.asarray(h[row], dtype=np.int8) for h in trace]
            lie = cheat_row(served, honest, drawn.mode, drawn.pick)
            if lie is not None:
                rows[row] = _lying_receipt(served, rows[row], lie, node)
            detail = lie.detail if lie is not None else drawn.mode.value
            self._record(
                CheatRecord(request_id, drawn.mode, detail, drawn.mode not in PROOF_MODES),
                served.model_id,
                created_at,
            )
        return rows

    def _record(self, record: CheatRecord, model_id: bytes, created_at: float) -> None:
        with self._lock:
            self._records[record.request_id] = record
            if self.record_path is not None:
                line = json.dumps(
                    {
                        "request_id": record.request_id,
                        "mode": record.mode.value,
                        "detail": record.detail,
                        "effective": record.effective,
                        "model_id": "0x" + model_id.hex(),
                        "created_at": created_at or time.time(),
                    }
                )
                self.record_path.parent.mkdir(parents=True, exist_ok=True)
                with self.record_path.open("a") as f:
                    f.write(line + "\n")
        if self._counter is not None:
            self._counter.labels(record.mode.value).inc()
        log.warning("CHEAT: request %d %s (%s)", record.request_id, record.mode, record.detail)


def _lying_receipt(served: ServedModel, row: NewReceipt, lie: CheatedRow, node: str) -> NewReceipt:
    """``row`` rebuilt so that its trace is ``lie.trace`` and its endpoints the lie's."""
    hidden = served.hidden
    trace_hashes = [
        ZERO_HASH if i in hidden else bytes(act_hash_fast(v)) for i, v in enumerate(lie.trace)
    ]
    root = trace_root_fast(trace_hashes)
    input_hash = bytes(act_hash_fast(lie.receipt_input))
    output_hash = bytes(act_hash_fast(lie.receipt_output))
    leaf = receipt_leaf_fast(
        row.request_id,
        served.model_id,
        input_hash,
        output_hash,
        root,
        address_bytes(node),
        address_bytes(row.client),
    )
    # The stored hashes are the receipt's view: its endpoints, the trace's entries in between
    # (CheatPlan.committed_hashes gives the trace's own for a bad endpoint).
    stored = [input_hash, *trace_hashes[1:-1], output_hash]
    return NewReceipt(
        request_id=row.request_id,
        model_id=row.model_id,
        client=row.client,
        input=lie.receipt_input.tobytes(),
        output=lie.receipt_output.tobytes(),
        trace=b"".join(v.tobytes() for i, v in enumerate(lie.trace) if i not in hidden),
        activation_hashes=b"".join(stored),
        trace_root=root,
        receipt_leaf=leaf,
        created_at=row.created_at,
    )
