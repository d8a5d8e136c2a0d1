"""The Proof-of-Sampling check: shipped presets pass with the default p; failures name the fix."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest

from deploy.deployer import load_preset
from protocol.economics import (
    DEFAULT_COLLUDING_SHARE,
    DEFAULT_SAMPLING_PROBABILITY,
    PospViolationError,
    challenger_reward,
    check_posp,
    default_cheat_gain,
    require_posp,
)


@pytest.mark.parametrize("name", ["local", "testnet"])
def test_shipped_presets_pass_with_the_default_p(name: str) -> None:
    params = load_preset(name).params
    check = check_posp(
        params, DEFAULT_SAMPLING_PROBABILITY, DEFAULT_COLLUDING_SHARE, default_cheat_gain(params)
    )
    assert check.ok, check.message
    assert check.margin > 0
    assert "honesty is the equilibrium" in check.message


def test_formula_is_exact() -> None:
    params = load_preset("local").params
    r_plus_s = challenger_reward(params) + params.slash_amount
    assert r_plus_s == params.slash_amount * 3 // 2  # 50% reward
    check = check_posp(params, Fraction(1, 10), Fraction(1, 5), 10**15)
    assert check.expected_loss == Fraction(1, 10) * Fraction(4, 5) * r_plus_s
    assert check.margin == check.expected_loss - 10**15


def test_boundary_is_strict() -> None:
    params = load_preset("local").params
    at_stake = challenger_reward(params) + params.slash_amount
    p = Fraction(10**15, at_stake)  # p·(R+S) == C exactly
    assert not check_posp(params, p, 0, 10**15).ok
    assert check_posp(params, p * Fraction(1001, 1000), 0, 10**15).ok


def test_failure_names_the_parameters_to_change() -> None:
    params = load_preset("local").params
    gain = 10**18  # a very lucrative cheat
    check = check_posp(params, 0.01, 0.1, gain)
    assert not check.ok
    assert check.min_p is not None and check.min_slash is not None
    assert "raise p (sampling_probability) to > " in check.message
    assert "slash_amount to >= " in check.message
    assert f"{float(check.min_p):.6g}" in check.message
    # The suggested values really are the thresholds.
    assert check_posp(params, float(check.min_p) * 1.001, 0.1, gain).ok
    bigger = replace(params, slash_amount=check.min_slash, min_node_stake=10**21)
    assert check_posp(bigger, 0.01, 0.1, gain).ok
    smaller = replace(bigger, slash_amount=check.min_slash - 1)
    assert not check_posp(smaller, 0.01, 0.1, gain).ok
    with pytest.raises(PospViolationError, match="raise p"):
        require_posp(params, 0.01, 0.1, gain)


def test_p_zero_or_full_collusion_never_passes() -> None:
    params = load_preset("local").params
    assert not check_posp(params, 0, 0, 1).ok
    check = check_posp(params, 0.5, 1, 1)
    assert not check.ok and check.min_slash is None


def test_unreachable_p_is_not_suggested() -> None:
    params = load_preset("local").params
    check = check_posp(params, 0.5, 0, 10**20)
    assert check.min_p is None
    assert "raise p" not in check.message and "slash_amount" in check.message


@pytest.mark.parametrize(("p", "r", "c"), [(-0.1, 0, 1), (1.1, 0, 1), (0.5, 2, 1), (0.5, 0, -1)])
def test_arguments_are_checked(p: float, r: float, c: int) -> None:
    with pytest.raises(ValueError):
        check_posp(load_preset("local").params, p, r, c)
