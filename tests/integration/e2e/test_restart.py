"""
A challenger killed mid-dispute finishes it after a restart: ``opzk challenger run --config …``
runs as a real process against a node that withholds a trace (cheat mode ``withheld_trace``), is
killed with SIGKILL as soon as its first data challenge is mined, and started again on the same
state file; it resolves the timed-out challenges, slashes the node and gets its bonds back,
without opening any challenge twice. SIGTERM then stops it cleanly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from deploy import paths
from tests.integration.e2e.conftest import E2EEnv, RunningNode, advance, random_inputs, wait_for
from tests.integration.e2e.test_cheats import claim_slashed_logs, data_challenges


class ChallengerProcess:
    """``python -m opzk.cli challenger run --config FILE`` as a child process."""

    def __init__(self, config: Path, log: Path) -> None:
        self.config = config
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("OPZK_CHALLENGER_")}
        environment["PYTHONPATH"] = str(paths.repo_root())
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "opzk.cli", "challenger", "run", "--config",
                 str(self.config)],
                cwd=paths.repo_root(),
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        runs = self.tail().count(" running every ")
        deadline = time.monotonic() + 60
        while self.tail().count(" running every ") == runs:
            if self.process.poll() is not None:
                pytest.fail(f"the challenger exited with {self.process.returncode}:\n{self.tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"the challenger did not start:\n{self.tail()}")
            time.sleep(0.1)

    def stop(self, sig: int = signal.SIGKILL) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        code = self.process.wait(timeout=30)
        self.process = None
        return code

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


def test_challenger_killed_mid_dispute_finishes_it(
    e2e: E2EEnv, start_node: Callable[..., RunningNode]
) -> None:
    """
    Proves: a challenger process killed with SIGKILL right after its first data challenge is
    mined, and restarted on the same state file past the response deadline, resolves every
    challenge (each index challenged exactly once), slashes the node inside the window and gets
    every bond back; its credits are exactly the reward plus the bonds; SIGTERM exits 0. (Killed
    after its first challenge, the restarted process finds that challenge past its deadline and
    resolves it first: that slash settles the claim, so it need not open the others.)
    """
    pytest.importorskip("node.cheats", reason="the node's cheat modes have not landed")
    chain = e2e.chain
    p = chain.params
    node = start_node(cheat_rate=1.0, cheat_modes=["withheld_trace"])
    config = e2e.challenger_config("challenger", node.url, poll_interval=0.2)
    me = chain.challenger.address
    process = ChallengerProcess(config, e2e.directory / "challenger.log")
    process.start()
    try:
        (body,) = node.infer(random_inputs(1, seed=70), threads=1)
        node.wait_all_committed(1)
        receipt = node.get(f"/receipts/{body['request_id']}")
        key = bytes.fromhex(receipt["claim_key"][2:])
        window_end = receipt["batch"]["committed_at"] + p.challenge_window
        wait_for(lambda: data_challenges(chain, {key}), timeout=60, what="a data challenge")
        assert process.stop(signal.SIGKILL) == -signal.SIGKILL  # mid-dispute
        opened_before = len(data_challenges(chain, {key}))

        advance(chain, p.data_response_window + 1)
        process.start()
        wait_for(
            lambda: claim_slashed_logs(chain, {key}), timeout=60, what="the restarted challenger"
        )
        (slash,) = claim_slashed_logs(chain, {key})
        assert int(chain.w3.eth.get_block(slash["blockNumber"])["timestamp"]) < window_end
        # Challenges opened after the restart (if the kill came before all were sent) time out
        # later; each is resolved and its bond returned.
        advance(chain, p.data_response_window + 1)
        wait_for(
            lambda: chain.call(chain.stakes.functions.bondsOf(me)) == 0,
            timeout=60,
            what="every bond to come back",
        )
        opened = data_challenges(chain, {key})
        assert len(opened) >= opened_before
        indices = [int(e["args"]["index"]) for e in opened]
        assert len(set(indices)) == len(indices)  # no index challenged twice
        assert set(indices) <= set(range(len(e2e.model.layers) + 1))
        credits = chain.call(chain.stakes.functions.credits(me))
        assert credits == chain.reward() + len(opened) * p.data_bond
        assert process.stop(signal.SIGTERM) == 0
        assert "challenger stopped" in process.tail()
    finally:
        if process.process is not None:
            process.stop()
