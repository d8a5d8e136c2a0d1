"""What ``opzk demo`` prints: progress lines, tables and the JSON summary line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from opzk.demo import (
    PROVE_SECONDS_METRIC,
    DemoError,
    demo_params,
    histogram_mean,
    public_copy,
    zk_verdict,
)
from opzk.demo_report import (
    SUMMARY_KEYS,
    Progress,
    modes_table,
    progress_line,
    summary_json,
    table,
)
from protocol.model import QuantizedModel


def test_progress_line() -> None:
    line = progress_line(
        Progress(
            elapsed=41.04, sent=200, total=200, batched=192, batches=3, batches_final=1,
            onchain_fulfilled=4, onchain_final=0, onchain_total=4, slashed=7, open_disputes=1,
            data_challenges=2, proofs_demanded=9, proofs_answered=8,
        )
    )  # fmt: skip
    assert line == (
        "[  41.0s] requests 200/200 | batched 192 in 3 batches (1 final) | on-chain 4/4 "
        "fulfilled (0 final) | slashed 7 | disputes open 1 | data challenges 2 | proofs demanded "
        "9 (8 closed)"
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


def test_summary_keys_include_the_proof_figures() -> None:
    assert SUMMARY_KEYS[-6:] == (
        "proofs_demanded",
        "proofs_accepted",
        "proofs_rejected",
        "proofs_timed_out",
        "proof_verify_gas",
        "prove_s",
    )


def test_proof_demands_are_rarer_than_re_execution_but_keep_the_posp_condition() -> None:
    params, _ = demo_params(1.0)
    verdict = zk_verdict(params, 0.05)
    assert "p_zk = 0.05" in verdict and "proof bond" in verdict and "PoSP holds" in verdict
    for bad in (0.0, 1.5):
        with pytest.raises(DemoError, match="--p-zk"):
            zk_verdict(params, bad)
    with pytest.raises(DemoError, match="--p-zk 1e-09"):
        zk_verdict(params, 1e-9)  # p_zk·(1−r)·(R+S) below C


def test_the_challengers_copy_has_no_private_weights(sensitive_model: QuantizedModel) -> None:
    public = public_copy(sensitive_model)
    assert public.model_id() == sensitive_model.model_id()
    for index, (mine, theirs) in enumerate(
        zip(public.layers, sensitive_model.layers, strict=True), start=1
    ):
        if sensitive_model.is_sensitive_layer(index):
            assert not mine.weights.any() and not mine.biases.any()
            assert mine.header() == theirs.header()
        else:
            assert np.array_equal(mine.weights, theirs.weights)
            assert np.array_equal(mine.biases, theirs.biases)


def test_histogram_mean_reads_the_provers_metric() -> None:
    text = (
        f"# HELP {PROVE_SECONDS_METRIC} Seconds to prove one demanded sensitive partition.\n"
        f"# TYPE {PROVE_SECONDS_METRIC} histogram\n"
        f'{PROVE_SECONDS_METRIC}_bucket{{le="0.5"}} 3.0\n'
        f'{PROVE_SECONDS_METRIC}_bucket{{le="+Inf"}} 4.0\n'
        f"{PROVE_SECONDS_METRIC}_count 4.0\n"
        f"{PROVE_SECONDS_METRIC}_sum 1.5\n"
    )
    assert histogram_mean(text, PROVE_SECONDS_METRIC) == pytest.approx(0.375)
    assert histogram_mean(text, "opzk_other_seconds") is None
    empty = text.replace("_count 4.0", "_count 0.0").replace("_sum 1.5", "_sum 0.0")
    assert histogram_mean(empty, PROVE_SECONDS_METRIC) is None
