"""
What ``opzk demo`` prints: progress lines while it runs, tables at the end, the JSON summary last.

Introduction
------------
Pure formatting, no I/O but the ``print`` helpers: :func:`progress_line` renders one
:class:`Progress` snapshot, :func:`table` a list of ``(label, value)`` rows, :func:`modes_table`
the cheats per mode, and :func:`summary_json` the last line of the demo's output, whose first
keys are always :data:`SUMMARY_KEYS` in that order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SUMMARY_KEYS = (
    "requests",
    "committed",
    "frauds_injected",
    "frauds_sampled",
    "frauds_slashed",
    "honest_slashed",
    "gas_per_inference",
    "seconds",
    "proofs_demanded",
    "proofs_accepted",
    "proofs_rejected",
    "proofs_timed_out",
    "proof_verify_gas",
    "prove_s",
)
"""The keys the demo's JSON line always starts with."""


@dataclass(frozen=True)
class Progress:
    """One look at the marketplace while the demo runs."""

    elapsed: float
    sent: int
    total: int
    batched: int
    """Receipts committed in batches."""
    batches: int
    batches_final: int
    onchain_fulfilled: int
    onchain_final: int
    """On-chain requests finalized (or refunded)."""
    onchain_total: int
    slashed: int
    open_disputes: int
    data_challenges: int
    proofs_demanded: int = 0
    proofs_answered: int = 0
    """Demands closed: accepted, rejected or timed out."""


def progress_line(p: Progress) -> str:
    """``p`` as one line: ``[ 41.0s] requests 200/200 | batched 200 in 4 batches (1 final) | …``."""
    return (
        f"[{p.elapsed:6.1f}s] requests {p.sent}/{p.total} | batched {p.batched} in {p.batches} "
        f"batches ({p.batches_final} final) | on-chain {p.onchain_fulfilled}/{p.onchain_total} "
        f"fulfilled ({p.onchain_final} final) | slashed {p.slashed} | disputes open "
        f"{p.open_disputes} | data challenges {p.data_challenges} | proofs demanded "
        f"{p.proofs_demanded} ({p.proofs_answered} closed)"
    )


def table(rows: Sequence[tuple[str, object]], title: str = "") -> str:
    """Two aligned columns, labels left and values right, under an optional title."""
    width = max([len(label) for label, _ in rows] + [len(title)])
    values = [_value(v) for _, v in rows]
    vwidth = max([len(v) for v in values] + [5])
    lines = []
    if title:
        lines.append(f"  {title}")
    lines.append(f"  {'-' * (width + vwidth + 2)}")
    for (label, _), value in zip(rows, values, strict=True):
        lines.append(f"  {label:<{width}}  {value:>{vwidth}}")
    return "\n".join(lines)


def _value(v: object) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.2f}"
    return str(v)


def modes_table(per_mode: Mapping[str, tuple[int, int, int]]) -> str:
    """Cheats per mode: ``{mode: (injected, sampled, slashed)}``, with a total row."""
    header = f"  {'cheat mode':<16}{'injected':>10}{'sampled':>10}{'slashed':>10}"
    lines = [header, f"  {'-' * (len(header) - 2)}"]
    total = [0, 0, 0]
    for mode in sorted(per_mode):
        counts = per_mode[mode]
        total = [t + c for t, c in zip(total, counts, strict=True)]
        lines.append(f"  {mode:<16}{counts[0]:>10}{counts[1]:>10}{counts[2]:>10}")
    lines.append(f"  {'all':<16}{total[0]:>10}{total[1]:>10}{total[2]:>10}")
    return "\n".join(lines)


def summary_json(summary: Mapping[str, Any]) -> str:
    """
    The demo's last line: :data:`SUMMARY_KEYS` first, in order, then the other keys as given.

    Raises :class:`KeyError` if one of :data:`SUMMARY_KEYS` is missing.
    """
    ordered = {k: summary[k] for k in SUMMARY_KEYS}
    ordered.update({k: v for k, v in summary.items() if k not in ordered})
    return json.dumps(ordered)
