"""What ``opzk demo`` prints: progress lines, tables and the JSON summary line."""

from __future__ import annotations

import json

import pytest

from opzk.demo import DemoError, demo_params
from opzk.demo_report import (
    SUMMARY_KEYS,
    Progress,
    modes_table,
    progress_line,
    summary_json,
    table,
)


def test_progress_line() -> None:
    line = progress_line(
        Progress(
            elapsed=41.04, sent=200, total=200, batched=192, batches=3, batches_final=1,
            onchain_fulfilled=4, onchain_final=0, onchain_total=4, slashed=7, open_disputes=1,
            data_challenges=2,
        )
    )  # fmt: skip
    assert line == (
        "[  41.0s] requests 200/200 | batched 192 in 3 batches (1 final) | on-chain 4/4 "
        "fulfilled (0 final) | slashed 7 | disputes open 1 | data challenges 2"
    )


def test_table_aligns_labels_and_values() -> None:
    text = table([("requests", 1200), ("ratio", 0.5), ("honest", True), ("x", "7 / 8")], "T")
    lines = text.splitlines()
    assert lines[0] == "  T"
    assert {len(line) for line in lines[1:]} == {len(lines[1])}
    assert lines[2].endswith("1,200") and lines[3].endswith("0.50") and lines[4].endswith("yes")


def test_modes_table_totals() -> None:
    text = modes_table({"wrong_output": (2, 2, 2), "bad_endpoint": (3, 3, 2)})
    lines = text.splitlines()
    assert lines[2].split() == ["bad_endpoint", "3", "3", "2"]  # sorted by mode
    assert lines[-1].split() == ["all", "5", "5", "4"]


def test_summary_json_puts_the_required_keys_first() -> None:
    values = {k: i for i, k in enumerate(reversed(SUMMARY_KEYS))}
    line = summary_json({"extra": 1, **values})
    assert list(json.loads(line)) == [*SUMMARY_KEYS, "extra"]
    with pytest.raises(KeyError):
        summary_json({"requests": 1})


def test_demo_parameters_keep_the_posp_condition() -> None:
    params, verdict = demo_params(1.0)
    assert params.challenge_window < 120 and "honesty is the equilibrium" in verdict
    assert params.withdrawal_delay > params.challenge_window + params.longest_dispute
    demo_params(0.01)  # the condition holds far below p = 1
    with pytest.raises(DemoError, match="--sampling-probability 0"):
        demo_params(0.0)
