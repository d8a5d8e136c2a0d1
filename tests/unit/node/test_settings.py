"""Node settings: file, environment and overrides, validated at start with clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.digits import MODEL_PATH
from node.settings import NodeConfigError, load_settings

KEY = "0x" + "ab" * 32


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("OPZK_NODE_"):
            monkeypatch.delenv(name)


def test_defaults_serve_the_digits_model_from_a_sqlite_file() -> None:
    s = load_settings()
    assert s.models == [MODEL_PATH]
    assert s.resolved_database_url.startswith("sqlite:///")
    assert s.resolved_database_url.endswith(".opzk/node/node.sqlite")
    assert s.sqlite_synchronous == "FULL"
    assert s.private_key is None and s.key_hex is None


def test_toml_file_with_paths_relative_to_it(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "d.json").write_text("{}")
    config = tmp_path / "conf" / "node.toml"
    config.write_text(
        f'rpc_url = "http://127.0.0.1:9"\nprivate_key = "{KEY[2:]}"\ndeployments = "d.json"\n'
        'data_dir = "data"\nbatch_interval = 2.5\nmax_batch_size = 8\n'
    )
    s = load_settings(config)
    assert s.deployments == tmp_path / "conf" / "d.json"
    assert s.data_dir == tmp_path / "conf" / "data"
    assert s.batch_interval == 2.5 and s.max_batch_size == 8
    assert s.key_hex == KEY  # 0x added
    assert "ab" * 32 not in repr(s)  # the key is a secret


def test_environment_beats_the_file_and_overrides_beat_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "node.json"
    config.write_text(json.dumps({"port": 9001, "batch_interval": 3}))
    monkeypatch.setenv("OPZK_NODE_PORT", "9002")
    assert load_settings(config).port == 9002
    assert load_settings(config).batch_interval == 3
    assert load_settings(config, port=9003).port == 9003
    monkeypatch.setenv("OPZK_NODE_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert load_settings(config).resolved_database_url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"batch_interval": 0}, "batch_interval: Input should be greater than 0"),
        ({"max_batch_size": 0}, "max_batch_size: Input should be greater than or equal to 1"),
        ({"port": 70000}, "port: Input should be less than or equal to 65535"),
        ({"private_key": "0x1234"}, "private_key: Value error, must be 32 bytes of hex"),
        ({"models": ["/nonexistent.opzkmodel"]}, "model file(s) not found: /nonexistent"),
        ({"rpc_url": "ftp://x"}, "rpc_url: Value error, must be an http:// or https:// URL"),
        ({"deployments": "/nonexistent.json"}, "deployments file /nonexistent.json not found"),
        ({"sqlite_synchronous": "OFF"}, "sqlite_synchronous: Input should be 'FULL' or 'NORMAL'"),
    ],
)
def test_invalid_values_are_named(values: dict[str, object], message: str) -> None:
    with pytest.raises(NodeConfigError) as info:
        load_settings(None, **values)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_unknown_keys_and_bad_files_are_refused(tmp_path: Path) -> None:
    config = tmp_path / "node.toml"
    config.write_text("batch_intervall = 3\n")
    with pytest.raises(NodeConfigError, match="batch_intervall: Extra inputs are not permitted"):
        load_settings(config)
    config.write_text("batch_interval = [\n")
    with pytest.raises(NodeConfigError, match="is not valid TOML"):
        load_settings(config)
    with pytest.raises(NodeConfigError, match="cannot read the config file"):
        load_settings(tmp_path / "missing.toml")
    array = tmp_path / "node.json"
    array.write_text("[1, 2]")
    with pytest.raises(NodeConfigError, match="must hold a table/object"):
        load_settings(array)
