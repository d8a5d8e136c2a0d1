"""Tests for protocol.params: shipped presets pass, each broken rule is named like Solidity's."""

from __future__ import annotations

import json
import re
from dataclasses import fields, replace
from pathlib import Path

import pytest

from deploy.compiler import CompiledContract
from deploy.deployer import load_preset, presets_dir
from protocol.params import (
    BPS,
    MARKET_PARAMS_ABI,
    InvalidParamsError,
    MarketParams,
    validate_params,
)
from tests.factories import BROKEN_PARAMS

PRESET_FILES = sorted(presets_dir().glob("*.json"))


def local_params() -> MarketParams:
    return MarketParams.from_json(json.loads((presets_dir() / "local.json").read_text())["params"])


def test_presets_are_shipped() -> None:
    assert {p.stem for p in PRESET_FILES} >= {"local", "testnet"}


@pytest.mark.parametrize("path", PRESET_FILES, ids=lambda p: p.stem)
def test_shipped_presets_are_valid(path: Path) -> None:
    params = MarketParams.from_json(json.loads(path.read_text())["params"])
    validate_params(params)  # raises if not
    assert params.withdrawal_delay > params.challenge_window + params.longest_dispute
    assert 0 < params.slash_amount <= params.min_node_stake
    assert load_preset(path.stem).params == params


@pytest.mark.parametrize(
    ("changes", "rule"), [(c, r) for _, c, r in BROKEN_PARAMS], ids=[i for i, _, _ in BROKEN_PARAMS]
)
def test_each_broken_field_names_its_rule(changes: dict[str, int], rule: str) -> None:
    with pytest.raises(InvalidParamsError) as info:
        validate_params(replace(local_params(), **changes))
    assert info.value.rule == rule
    assert str(info.value).startswith(f"{rule}: ")


def test_rule_boundaries_are_inclusive_where_solidity_is() -> None:
    p = local_params()
    bound = p.challenge_window + p.longest_dispute
    validate_params(replace(p, withdrawal_delay=bound + 1))
    validate_params(replace(p, challenger_reward_bps=BPS))
    validate_params(replace(p, challenger_reward_bps=0))
    validate_params(replace(p, slash_amount=p.min_node_stake))
    validate_params(replace(p, data_bond=1, proof_bond=1))
    assert p.longest_dispute == max(p.data_response_window, p.proof_response_window)


def test_broken_rules_are_exactly_the_solidity_errors(
    compiled: dict[str, CompiledContract],
) -> None:
    """Every rule name used here is an error of MarketParamsLib, and every such error is used."""
    lib = compiled["MarketParamsLib"]
    solidity = {e["name"] for e in lib.abi if e["type"] == "error"}
    assert {rule for _, _, rule in BROKEN_PARAMS} == solidity


def test_abi_tuple_follows_the_solidity_struct(compiled: dict[str, CompiledContract]) -> None:
    (ctor,) = [e for e in compiled["StakeManager"].abi if e["type"] == "constructor"]
    (param,) = ctor["inputs"]
    assert param["internalType"] == "struct MarketParams"
    names = [c["name"] for c in param["components"]]
    snake = [re.sub(r"(?<!^)([A-Z])", r"_\1", n).lower() for n in names]
    assert snake == [f.name for f in fields(MarketParams)]
    p = local_params()
    assert p.as_abi_tuple() == tuple(getattr(p, name) for name in snake)
    types = ",".join(c["type"] for c in param["components"])
    assert f"({types})" == MARKET_PARAMS_ABI


@pytest.mark.parametrize(
    "data",
    [
        {"challenge_window": 1},
        {**local_params().as_json(), "surprise": 1},
        {**local_params().as_json(), "slash_amount": -1},
        {**local_params().as_json(), "slash_amount": 1.5},
        {**local_params().as_json(), "slash_amount": "5"},
        {**local_params().as_json(), "data_bond": True},
    ],
    ids=["missing keys", "unknown key", "negative", "float", "string", "bool"],
)
def test_malformed_json_is_refused(data: dict[str, object]) -> None:
    with pytest.raises(InvalidParamsError) as info:
        MarketParams.from_json(data)
    assert info.value.rule == "MalformedPreset"


def test_json_round_trip() -> None:
    p = local_params()
    assert MarketParams.from_json(p.as_json()) == p


def test_values_must_fit_the_solidity_field_widths(compiled: dict[str, CompiledContract]) -> None:
    """A preset value the ABI cannot encode is refused when the preset is read, not at deploy."""
    (ctor,) = [e for e in compiled["StakeManager"].abi if e["type"] == "constructor"]
    components = ctor["inputs"][0]["components"]
    base = local_params().as_json()
    for component, field in zip(components, fields(MarketParams), strict=True):
        bits = int(component["type"].removeprefix("uint"))
        MarketParams.from_json({**base, field.name: 2**bits - 1})  # the largest value fits
        with pytest.raises(InvalidParamsError, match=f"uint{bits}") as info:
            MarketParams.from_json({**base, field.name: 2**bits})
        assert info.value.rule == "MalformedPreset"
