"""Settings: layering, refusals, secrets never shown; the PoSP refusal."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from challenger.config import ChallengerConfigError, check_key_for_chain, load_settings
from challenger.service import posp_check_for
from deploy.anvil import ANVIL_DEFAULT_KEYS
from deploy.deployer import load_preset

KEY = "0x" + "3c" * 32
SECRET = "0x" + "5e" * 32


def test_file_env_and_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'private_key = "{KEY}"\nsampling_secret = "{SECRET}"\nsampling_probability = 0.2\n'
        'state_path = "state.db"\n'
    )
    monkeypatch.setenv("OPZK_CHALLENGER_POLL_INTERVAL", "0.5")
    s = load_settings(cfg, sampling_probability=0.3)
    assert s.sampling_probability == 0.3
    assert s.poll_interval == 0.5
    assert s.state_path == tmp_path / "state.db"
    assert s.secret_bytes() == bytes.fromhex("5e" * 32)
    assert "5e5e" not in repr(s) and "3c3c" not in repr(s) and "3c3c" not in str(s.model_dump())


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"sampling_secret": "0x1234"}, "sampling_secret"),
        ({"private_key": "nothex"}, "private_key"),
        ({"sampling_probability": 1.5}, "sampling_probability"),
        ({"colluding_share": 1.0}, "colluding_share"),
        ({"node_urls": ["ftp://x"]}, "node_urls"),
    ],
)
def test_refusals(overrides: dict[str, object], field: str) -> None:
    base: dict[str, object] = {"private_key": KEY, "sampling_secret": SECRET}
    with pytest.raises(ChallengerConfigError, match=field) as info:
        load_settings(None, **{**base, **overrides})
    assert "5e5e5e" not in str(info.value) and "3c3c3c" not in str(info.value)


def test_secret_is_required() -> None:
    with pytest.raises(ChallengerConfigError, match="sampling_secret"):
        load_settings(None, private_key=KEY)


def test_anvil_keys_only_on_anvil() -> None:
    s = load_settings(None, private_key=ANVIL_DEFAULT_KEYS[2], sampling_secret=SECRET)
    check_key_for_chain(s, 31337)
    with pytest.raises(ChallengerConfigError, match="Anvil"):
        check_key_for_chain(s, 11155111)
    check_key_for_chain(load_settings(None, private_key=KEY, sampling_secret=SECRET), 1)


def test_posp_refusal_names_the_parameter() -> None:
    params = load_preset("local").params
    ok = posp_check_for(
        SimpleNamespace(cheat_gain=None, sampling_probability=0.1, colluding_share=0.1), params
    )
    assert ok.ok
    bad = posp_check_for(
        SimpleNamespace(cheat_gain=10**18, sampling_probability=0.01, colluding_share=0.1), params
    )
    assert not bad.ok and "raise p (sampling_probability)" in bad.message
