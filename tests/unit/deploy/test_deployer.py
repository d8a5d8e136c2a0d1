"""Unit tests of deploy.deployer that need no chain: presets and the well-known-key guard.

The deployment itself (code, wiring, gas, funds) is tested against Anvil in
tests/integration/test_deploy.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import HexStr

from deploy import paths
from deploy.anvil import ANVIL_CHAIN_ID, ANVIL_DEFAULT_KEYS
from deploy.compiler import CompiledContract
from deploy.deployer import (
    DEPLOY_GAS_BUDGET,
    DISPUTE_GAMES,
    MAX_CODE_SIZE,
    PROOF_VERIFIER,
    STACK_VERIFIER,
    CodeSizeError,
    PresetError,
    WellKnownKeyError,
    check_code_sizes,
    check_key_allowed,
    load_preset,
    presets_dir,
)
from deploy.deployments import CONTRACT_NAMES
from protocol.params import InvalidParamsError
from sumkzg import SETUP_ID


@dataclass
class FakeClient:
    """The two attributes check_key_allowed reads."""

    account: LocalAccount | None
    chain_id: int


def test_load_shipped_preset_by_name() -> None:
    preset = load_preset("local")
    assert preset.name == "local"
    assert preset.description
    assert preset.params.challenge_window == 120
    assert preset.params.challenger_reward_bps == 5000
    assert load_preset("testnet").params.challenge_window == 3600


def test_load_preset_by_path(tmp_path: Path) -> None:
    data = json.loads((presets_dir() / "local.json").read_text())
    data["params"]["challenge_window"] = 60
    path = tmp_path / "fast.json"
    path.write_text(json.dumps(data))
    preset = load_preset(str(path))
    assert preset.name == "fast"
    assert preset.params.challenge_window == 60


def test_missing_preset_lists_the_shipped_ones() -> None:
    with pytest.raises(PresetError, match=r"no preset 'nope'.*'local'.*'testnet'"):
        load_preset("nope")


@pytest.mark.parametrize(
    ("text", "error", "match"),
    [
        ("{not json", PresetError, "not valid JSON"),
        ('{"description": "x"}', PresetError, "no 'params'"),
        ('{"params": {"challenge_window": 1}}', InvalidParamsError, "MalformedPreset"),
    ],
)
def test_malformed_presets_are_refused(
    tmp_path: Path, text: str, error: type[Exception], match: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(error, match=match):
        load_preset(str(path))


def test_preset_breaking_a_rule_is_refused_with_the_rule(tmp_path: Path) -> None:
    data = {"params": {**load_preset("local").params.as_json(), "withdrawal_delay": 10}}
    path = tmp_path / "short.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InvalidParamsError) as info:
        load_preset(str(path))
    assert info.value.rule == "WithdrawalDelayTooShort"


@pytest.mark.parametrize("index", [0, 5, 9])
def test_well_known_keys_are_refused_off_anvil(index: int) -> None:
    account = Account.from_key(ANVIL_DEFAULT_KEYS[index])
    with pytest.raises(WellKnownKeyError, match=account.address):
        check_key_allowed(FakeClient(account, 1))  # type: ignore[arg-type]
    with pytest.raises(WellKnownKeyError, match="chain id 11155111"):
        check_key_allowed(FakeClient(account, 11155111))  # type: ignore[arg-type]
    check_key_allowed(FakeClient(account, ANVIL_CHAIN_ID))  # type: ignore[arg-type]


def test_own_keys_and_read_only_clients_are_allowed_anywhere() -> None:
    check_key_allowed(FakeClient(Account.create(), 1))  # type: ignore[arg-type]
    check_key_allowed(FakeClient(None, 1))  # type: ignore[arg-type]


def test_contract_lists_and_budget() -> None:
    assert set(DISPUTE_GAMES) < set(CONTRACT_NAMES)
    assert PROOF_VERIFIER in CONTRACT_NAMES
    # The stack verifier is deployed right after the verifier it is built on.
    assert CONTRACT_NAMES.index(STACK_VERIFIER) == CONTRACT_NAMES.index(PROOF_VERIFIER) + 1
    assert len(CONTRACT_NAMES) == 8
    # Everything must fit in one default Anvil block (30M gas) with room to spare.
    assert 0 < DEPLOY_GAS_BUDGET <= 30_000_000


def test_every_deployed_contract_fits_eip170(compiled: dict[str, CompiledContract]) -> None:
    check_code_sizes(compiled)
    for name in CONTRACT_NAMES:
        size = len(compiled[name].deployed_bytecode) // 2 - 1
        assert 0 < size < MAX_CODE_SIZE, name
    # The verifier needs no linking: every library it uses is internal.
    assert "__$" not in compiled[PROOF_VERIFIER].bytecode


def test_verifier_setup_id_is_the_pinned_one(compiled: dict[str, CompiledContract]) -> None:
    """The SETUP_ID constant in the verifier's ABI-visible getter is sumkzg's, byte for byte."""
    verifier = compiled[PROOF_VERIFIER]
    assert "SETUP_ID()" in verifier.method_identifiers
    source = (paths.repo_root() / verifier.source_path).read_text()
    assert f"SETUP_ID = 0x{SETUP_ID.hex()};" in source


def test_oversized_code_is_named(compiled: dict[str, CompiledContract]) -> None:
    big = replace(compiled["ModelRegistry"], deployed_bytecode=HexStr("0x" + "ab" * 30_000))
    with pytest.raises(CodeSizeError, match=r"ModelRegistry has 30,000 bytes.*24,576"):
        check_code_sizes({**compiled, "ModelRegistry": big})
