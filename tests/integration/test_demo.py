"""The README's main job, ``opzk demo``, end to end on its own Anvil node."""

import json

import pytest

from opzk.cli import main

pytestmark = pytest.mark.anvil


def test_demo_slashes_every_cheat_and_no_honest_claim(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["demo", "--requests", "12", "--onchain-requests", "3", "--cheats", "2"])
    out = capsys.readouterr().out
    summary = json.loads(out.strip().splitlines()[-1])
    assert code == 0
    assert summary["requests"] == 15
    assert summary["committed"] == 15
    assert summary["frauds_injected"] == 2
    assert summary["frauds_sampled"] == 2
    assert summary["frauds_slashed"] == 2
    assert summary["honest_slashed"] == 0
    assert 0 < summary["gas_per_inference"] < 100_000
    assert "honest answers classify" in out
