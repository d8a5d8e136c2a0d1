"""Building a challenger from settings: the PoSP refusal, and a working build."""

from __future__ import annotations

from pathlib import Path

import pytest

from challenger.config import ChallengerConfigError, load_settings
from challenger.service import build_challenger
from deploy.anvil import ANVIL_DEFAULT_KEYS
from tests.integration.chain_env import ChainEnv

pytestmark = pytest.mark.anvil


def settings_for(chain: ChainEnv, tmp_path: Path, p: float) -> object:
    path = tmp_path / "deployments.json"
    chain.deployment.save(path)
    return load_settings(
        None,
        rpc_url=chain.anvil.rpc_url,
        private_key=ANVIL_DEFAULT_KEYS[2],
        sampling_secret="0x" + "42" * 32,
        deployments=path,
        state_path=tmp_path / "state.db",
        sampling_probability=p,
        device="cpu",
    )


def test_refuses_a_sampling_rate_that_breaks_posp(chain: ChainEnv, tmp_path: Path) -> None:
    with pytest.raises(ChallengerConfigError, match=r"raise p \(sampling_probability\) to > "):
        build_challenger(settings_for(chain, tmp_path, 1e-6))


def test_builds_and_ticks(chain: ChainEnv, tmp_path: Path) -> None:
    ch = build_challenger(settings_for(chain, tmp_path, 0.1))
    assert ch.me == chain.challenger.address
    ch.watch()
    assert ch.state.cursor() == chain.block_number()
    ch.state.close()
