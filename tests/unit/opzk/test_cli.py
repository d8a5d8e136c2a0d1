"""The ``opzk`` command: help, and a one-line error with a non-zero exit for bad input."""

import socket
from pathlib import Path

import pytest

from opzk.cli import EXIT_ERROR, main


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "deploy" in out and "demo" in out


def test_deploy_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["deploy", "--help"])
    assert exited.value.code == 0
    assert "--rpc-url" in capsys.readouterr().out


def test_unreachable_rpc_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    assert main(["deploy", "--rpc-url", url]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("opzk deploy: error: cannot reach the RPC endpoint")
    assert url in err


def test_unknown_preset_names_the_shipped_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deploy", "--rpc-url", "http://127.0.0.1:1", "--preset", "nope"]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert "no preset 'nope'" in err and "local" in err and "testnet" in err


def test_broken_preset_file_names_the_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from deploy.deployer import presets_dir

    text = (
        (presets_dir() / "local.json")
        .read_text()
        .replace('"withdrawal_delay": 300', '"withdrawal_delay": 30')
    )
    preset = tmp_path / "short.json"
    preset.write_text(text)
    assert (
        main(["deploy", "--rpc-url", "http://127.0.0.1:1", "--preset", str(preset)]) == EXIT_ERROR
    )
    assert "WithdrawalDelayTooShort" in capsys.readouterr().err


def test_unknown_command_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exited:
        main(["frobnicate"])
    assert exited.value.code == 2
