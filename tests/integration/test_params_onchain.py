"""Python's preset rules and Solidity's MarketParamsLib reject the same presets by the same name."""

from __future__ import annotations

from dataclasses import replace

import pytest

from deploy.compiler import CompiledContract
from deploy.deployer import Preset
from protocol import errors
from protocol.params import InvalidParamsError, validate_params
from tests.factories import BROKEN_PARAMS
from tests.integration.chain_env import ChainEnv

pytestmark = pytest.mark.anvil


@pytest.mark.parametrize(
    ("changes", "rule"), [(c, r) for _, c, r in BROKEN_PARAMS], ids=[i for i, _, _ in BROKEN_PARAMS]
)
def test_broken_preset_reverts_with_the_same_named_error(
    chain: ChainEnv,
    compiled: dict[str, CompiledContract],
    local_preset: Preset,
    changes: dict[str, int],
    rule: str,
) -> None:
    params = replace(local_preset.params, **changes)
    with pytest.raises(InvalidParamsError) as python_error:
        validate_params(params)
    assert python_error.value.rule == rule

    stake_manager = compiled["StakeManager"]
    nonce = chain.nonce(chain.deployer.address)
    with pytest.raises(errors.ContractError) as solidity_error:
        chain.deployer.deploy(stake_manager.abi, stake_manager.bytecode, params.as_abi_tuple())
    assert type(solidity_error.value).__name__ == rule
    assert type(solidity_error.value) is getattr(errors, rule)
    assert chain.nonce(chain.deployer.address) == nonce  # refused at estimation: nothing sent
    if rule == "WithdrawalDelayTooShort":
        assert solidity_error.value.values == {
            "withdrawalDelay": params.withdrawal_delay,
            "minimumExclusive": params.challenge_window + params.longest_dispute,
        }
    if rule == "RewardShareTooHigh":
        assert solidity_error.value.values == {"bps": params.challenger_reward_bps}


def test_every_contract_validates_the_preset(
    chain: ChainEnv, compiled: dict[str, CompiledContract], local_preset: Preset
) -> None:
    """InferenceMarket and each dispute game check the preset in their constructors too."""
    bad = replace(local_preset.params, data_bond=0).as_abi_tuple()
    market = compiled["InferenceMarket"]
    with pytest.raises(errors.ZeroBond):
        chain.deployer.deploy(
            market.abi, market.bytecode, chain.registry.address, chain.stakes.address, bad
        )
    for name in ("FraudProofGame", "DataAvailabilityGame", "ProofDemandGame"):
        game = compiled[name]
        with pytest.raises(errors.ZeroBond):
            chain.deployer.deploy(game.abi, game.bytecode, chain.market.address, bad)


def test_a_valid_preset_deploys(
    chain: ChainEnv, compiled: dict[str, CompiledContract], local_preset: Preset
) -> None:
    # Exactly at the bound + 1 is accepted by both.
    params = replace(
        local_preset.params,
        withdrawal_delay=241,
        challenger_reward_bps=10_000,
        slash_amount=local_preset.params.min_node_stake,
    )
    validate_params(params)
    stake_manager = compiled["StakeManager"]
    address, _ = chain.deployer.deploy(
        stake_manager.abi, stake_manager.bytecode, params.as_abi_tuple()
    )
    deployed = chain.deployer.contract(address, stake_manager.abi)
    assert chain.call(deployed.functions.withdrawalDelay()) == 241
    assert chain.call(deployed.functions.challengerRewardBps()) == 10_000
