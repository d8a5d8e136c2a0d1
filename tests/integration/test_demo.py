"""
The README's main job, ``opzk demo``, end to end: Anvil, the real node (serving the digits model
with layers 1–2 one private two-layer partition, lying on 5% of its requests) and the real
challenger (p = 1, proof demands at p_zk = 0.05, answered with stack proofs checked by the real
SumKzgStackVerifier) as subprocesses, ~200 requests of the digits test split.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from opzk.cli import main
from opzk.demo import DEFAULT_P_ZK, PROOF_CHEAT_MODES
from opzk.demo_report import SUMMARY_KEYS

pytestmark = pytest.mark.anvil


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _processes_naming(text: str) -> list[int]:
    """Pids of the processes whose command line contains ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(int(entry.name))
    return found


def test_demo_catches_every_lie_slashes_no_honest_claim_and_leaves_nothing_running(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["demo"])
    captured = capsys.readouterr()
    out = captured.out
    summary = json.loads(out.strip().splitlines()[-1])
    assert code == 0, captured.err[-2000:]
    assert list(summary)[: len(SUMMARY_KEYS)] == list(SUMMARY_KEYS)
    assert summary["requests"] >= 200
    assert summary["committed"] == summary["requests"]
    assert summary["sampling_probability"] == 1.0
    # ~5% of 200 (the seed is fixed: the same lies every run)
    assert 3 <= summary["frauds_injected"] <= 25
    assert summary["frauds_slashed"] == summary["frauds_sampled"] == summary["frauds_injected"]
    assert summary["honest_slashed"] == 0

    # Proof demands of the private partition (~5% of ~200 claims; none at all has odds ~1e-4): every
    # demand of an honest claim is answered with a proof the verifier accepts; a proof lie (only
    # effective when its claim is demanded) is rejected or times out, and is slashed above.
    by_mode = summary["frauds_by_mode"]
    proof_lies = {m: by_mode.get(m, [0, 0, 0])[0] for m in PROOF_CHEAT_MODES}
    assert summary["p_zk"] == DEFAULT_P_ZK
    assert summary["proofs_demanded"] >= 1
    assert summary["proofs_accepted"] == summary["proofs_demanded"] - sum(proof_lies.values())
    assert summary["proofs_rejected"] == proof_lies["invalid_proof"]
    assert summary["proofs_timed_out"] == proof_lies["refused_proof"]
    assert 100_000 < summary["proof_verify_gas"] < 3_000_000
    assert 0 < summary["prove_s"] < 20
    assert 0 < summary["gas_per_inference"] < 20_000
    assert summary["seconds"] < 180
    assert "[" in out and "requests 200/200" in out  # progress lines
    assert "honest claims slashed" in out and "cheat mode" in out  # the tables
    assert "proofs demanded (p_zk = 0.05)" in out and "PoSP holds at p_zk" in out

    # every process the demo started (Anvil, node, challenger) is gone
    assert len(summary["pids"]) == 3
    assert not [pid for pid in summary["pids"] if _alive(pid)]
    assert _processes_naming(summary["workdir"]) == []
    assert not Path(summary["workdir"]).exists()  # removed after a successful run
