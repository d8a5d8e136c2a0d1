"""``opzk node``: help, and one-line errors with a non-zero exit."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from node.cli import AmountError, SensitiveLayerError, main, parse_eth, parse_layer_pair
from opzk.cli import EXIT_ERROR
from opzk.cli import main as opzk_main


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_node_is_an_opzk_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        opzk_main(["--help"])
    assert exited.value.code == 0
    assert "node" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        opzk_main(["node", "--help"])
    out = capsys.readouterr().out
    for command in ("run", "stake", "register-model", "info"):
        assert command in out


def test_missing_config_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--config", str(tmp_path / "nope.toml")]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("opzk node: error: cannot read the config file")
    assert err.count("\n") == 1


def test_invalid_settings_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "node.toml"
    config.write_text("batch_interval = -1\n")
    assert main(["run", "--config", str(config)]) == EXIT_ERROR
    assert "batch_interval: Input should be greater than 0" in capsys.readouterr().err


def test_unreachable_rpc_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    assert main(["stake", "--amount", "1", "--rpc-url", url]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("opzk node: error: cannot reach the RPC endpoint") and url in err


@pytest.mark.parametrize("text", ["0", "-1", "abc", "nan", "inf", "1e-19"])
def test_bad_amounts(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(AmountError):
        parse_eth(text)
    assert main(["stake", "--amount", text]) == EXIT_ERROR
    assert "--amount" in capsys.readouterr().err


def test_amounts_in_wei() -> None:
    assert parse_eth("10") == 10 * 10**18
    assert parse_eth("0.5") == 5 * 10**17
    assert parse_eth("1e-18") == 1


@pytest.mark.parametrize("text", ["1-2", "2-3", "10-11"])
def test_two_consecutive_layers(text: str) -> None:
    first, last = (int(v) for v in text.split("-"))
    assert parse_layer_pair(text) == (first, last)


@pytest.mark.parametrize("text", ["1-3", "2-1", "0-1", "1", "1-2-3", "a-b", "-1-0", "1--2", ""])
def test_anything_but_two_consecutive_layers_is_refused(
    text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SensitiveLayerError, match="two consecutive layers A-B with B = A \\+ 1"):
        parse_layer_pair(text)
    # The command refuses it before reading any config or touching a chain: one line.
    assert main(["register-model", f"--sensitive-layers={text}"]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--sensitive-layers {text!r}" in err


def test_one_and_two_layer_flags_do_not_mix(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["register-model", "--sensitive-layer", "2", "--sensitive-layers", "1-2"]
    assert main(args) == EXIT_ERROR
    assert "--sensitive-layer N or --sensitive-layers A-B, not both" in capsys.readouterr().err
    assert main(["register-model", "--out", "x"]) == EXIT_ERROR
    assert "--out goes with --sensitive-layer N or --sensitive-layers A-B" in (
        capsys.readouterr().err
    )
