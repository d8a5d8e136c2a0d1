"""Deploying the marketplace: code, wiring, the deployments file, key and funds checks, gas."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from eth_abi.abi import encode
from eth_account import Account
from eth_typing import HexStr

from deploy import cli
from deploy import deployer as deployer_module
from deploy.anvil import ANVIL_DEFAULT_KEYS, AnvilNode
from deploy.compiler import CompiledContract
from deploy.deployer import (
    DEPLOY_GAS_BUDGET,
    DISPUTE_GAMES,
    MAX_CODE_SIZE,
    PROOF_VERIFIER,
    STACK_VERIFIER,
    CodeSizeError,
    Preset,
    UnderfundedKeyError,
    WellKnownKeyError,
    deploy_marketplace,
)
from deploy.deployments import CONTRACT_NAMES, DeploymentsFileError, load_deployment
from opzk.chain import connect
from protocol import errors
from protocol.model_id import LAYER_HEADER_ABI
from sumkzg import SETUP_ID
from tests.integration.chain_env import ChainEnv

pytestmark = pytest.mark.anvil


def test_all_eight_contracts_have_code(chain: ChainEnv) -> None:
    assert set(chain.deployment.addresses) == set(CONTRACT_NAMES)
    addresses = list(chain.deployment.addresses.values())
    assert len(set(addresses)) == 8
    for name, address in chain.deployment.addresses.items():
        code = bytes(chain.w3.eth.get_code(address))
        deployed = bytes.fromhex(chain.compiled[name].deployed_bytecode[2:])
        assert len(code) == len(deployed) > 0, name


def test_proof_verifier_is_deployed_with_the_pinned_setup(chain: ChainEnv) -> None:
    address = chain.deployment.address(PROOF_VERIFIER)
    code = bytes(chain.w3.eth.get_code(address))
    assert 0 < len(code) < MAX_CODE_SIZE
    verifier = chain.deployer.contract(address, chain.deployment.abis[PROOF_VERIFIER])
    assert bytes(chain.call(verifier.functions.SETUP_ID())) == SETUP_ID
    # Nothing is recorded as well-formed in a fresh deployment.
    headers = encode([f"{LAYER_HEADER_ABI}[]"], [[(64, 32, 1, 8, 1)]])
    assert chain.call(verifier.functions.isWellFormed(b"\x01" * 32, SETUP_ID, headers)) is False
    # The deployments file carries it like every other contract.
    assert PROOF_VERIFIER in chain.deployment.to_json()["contracts"]


def test_stack_verifier_is_built_on_the_deployments_verifier(chain: ChainEnv) -> None:
    """SumKzgStackVerifier is deployed after SumKzgVerifier, with it as its base."""
    names = list(chain.deployment.addresses)
    assert names.index(STACK_VERIFIER) == names.index(PROOF_VERIFIER) + 1
    address = chain.deployment.address(STACK_VERIFIER)
    assert 0 < len(bytes(chain.w3.eth.get_code(address))) < MAX_CODE_SIZE
    stack = chain.deployer.contract(address, chain.deployment.abis[STACK_VERIFIER])
    assert stack.address == chain.stack_verifier.address
    # Nothing is recorded in a fresh deployment, and a stack of unregistered matrices is refused.
    headers = encode([f"{LAYER_HEADER_ABI}[]"], [[(64, 64, 1, 8, 1), (64, 32, 1, 8, 1)]])
    assert chain.call(stack.functions.isWellFormed(b"\x01" * 32, SETUP_ID, headers)) is False
    with pytest.raises(errors.StackNotRegistered):
        chain.deployer.send(stack.functions.recordStack(b"\x01" * 32, b"\x02" * 32, headers))


def test_oversized_code_is_refused_before_sending(
    chain: ChainEnv, compiled: dict[str, CompiledContract], local_preset: Preset
) -> None:
    big = dataclasses.replace(
        compiled[PROOF_VERIFIER], deployed_bytecode=HexStr("0x" + "00" * (MAX_CODE_SIZE + 1))
    )
    block = chain.block_number()
    with pytest.raises(CodeSizeError, match=f"{PROOF_VERIFIER} has 24,577 bytes"):
        deploy_marketplace(chain.deployer, local_preset, compiled={**compiled, PROOF_VERIFIER: big})
    assert chain.block_number() == block


def test_contracts_are_wired_to_each_other(chain: ChainEnv) -> None:
    games = [chain.deployment.address(name) for name in DISPUTE_GAMES]
    for contract in (chain.stakes, chain.market):
        assert chain.call(contract.functions.wired()) is True
        for game in games:
            assert chain.call(contract.functions.isDisputeGame(game)) is True
        # Neither the deployer nor a core contract holds the dispute role.
        assert chain.call(contract.functions.isDisputeGame(chain.deployer.address)) is False
        assert chain.call(contract.functions.isDisputeGame(chain.market.address)) is False
    assert chain.call(chain.market.functions.registry()) == chain.registry.address
    assert chain.call(chain.market.functions.stakes()) == chain.stakes.address
    for game in (chain.fraud, chain.da, chain.pdg):
        assert chain.call(game.functions.market()) == chain.market.address
        assert chain.call(game.functions.stakes()) == chain.stakes.address
        assert chain.call(game.functions.registry()) == chain.registry.address
        assert chain.call(game.functions.slashAmount()) == chain.params.slash_amount
    assert chain.call(chain.da.functions.bond()) == chain.params.data_bond
    assert chain.call(chain.pdg.functions.bond()) == chain.params.proof_bond
    assert chain.call(chain.stakes.functions.minNodeStake()) == chain.params.min_node_stake
    assert chain.call(chain.market.functions.challengeWindow()) == chain.params.challenge_window


@pytest.mark.parametrize("contract_name", ["StakeManager", "InferenceMarket"])
def test_second_wiring_reverts(chain: ChainEnv, contract_name: str) -> None:
    contract = chain.session.contracts[contract_name]
    rogue = [chain.challenger.address]
    with pytest.raises(errors.AlreadyWired):
        chain.deployer.send(contract.functions.wireDisputeGames(rogue))
    with pytest.raises(errors.NotDeployer) as info:
        chain.challenger.send(contract.functions.wireDisputeGames(rogue))
    assert info.value.values == {"caller": chain.challenger.address}
    assert chain.call(contract.functions.isDisputeGame(chain.challenger.address)) is False


def test_deployments_file_round_trips(chain: ChainEnv, tmp_path: Path) -> None:
    path = tmp_path / "deployments" / "31337.json"
    chain.deployment.save(path)
    loaded = load_deployment(path)
    assert loaded == chain.deployment
    assert loaded.params == chain.params
    assert loaded.chain_id == 31337
    assert loaded.rpc_url == chain.anvil.rpc_url
    assert loaded.deployer == chain.deployer.address
    # The ABIs in the file are usable: read a value through them.
    market = chain.deployer.contract(
        loaded.address("InferenceMarket"), loaded.abis["InferenceMarket"]
    )
    assert chain.call(market.functions.wired()) is True


def test_deployments_file_with_tampered_abi_is_refused(chain: ChainEnv, tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    chain.deployment.save(path)
    data = json.loads(path.read_text())
    data["abis"]["StakeManager"] = [
        e for e in data["abis"]["StakeManager"] if e.get("name") != "slash"
    ]
    path.write_text(json.dumps(data))
    with pytest.raises(DeploymentsFileError, match="abisHash"):
        load_deployment(path)


def test_deployments_file_missing_contract_or_format_is_refused(
    chain: ChainEnv, tmp_path: Path
) -> None:
    path = tmp_path / "d.json"
    chain.deployment.save(path)
    original = json.loads(path.read_text())

    data = json.loads(json.dumps(original))
    del data["contracts"]["ProofDemandGame"]
    path.write_text(json.dumps(data))
    with pytest.raises(DeploymentsFileError, match="ProofDemandGame"):
        load_deployment(path)

    data = json.loads(json.dumps(original))
    data["format"] = 99
    path.write_text(json.dumps(data))
    with pytest.raises(DeploymentsFileError, match="format 99"):
        load_deployment(path)

    with pytest.raises(DeploymentsFileError, match="no deployments file"):
        load_deployment(tmp_path / "absent.json")


def test_well_known_key_refused_on_another_chain(
    anvil: AnvilNode, compiled: dict[str, CompiledContract], local_preset: Preset
) -> None:
    """A second Anvil node with chain id 1337 (the session's node only makes sure Anvil exists)."""
    with AnvilNode(chain_id=1337, check_bls=False) as other:
        client = connect(other.rpc_url, ANVIL_DEFAULT_KEYS[0])
        assert client.chain_id == 1337
        with pytest.raises(WellKnownKeyError, match="1337"):
            deploy_marketplace(client, local_preset, compiled=compiled)
        assert client.w3.eth.get_transaction_count(client.address) == 0
        assert client.w3.eth.block_number == 0
        # A key of one's own is accepted on that chain (it gets as far as the funds check).
        own = Account.create()
        with pytest.raises(UnderfundedKeyError):
            deploy_marketplace(
                connect(other.rpc_url, own.key.to_0x_hex()), local_preset, compiled=compiled
            )


def test_unfunded_key_is_refused_before_sending(
    chain: ChainEnv, compiled: dict[str, CompiledContract], local_preset: Preset
) -> None:
    fresh = Account.create()
    client = connect(chain.anvil.rpc_url, fresh.key.to_0x_hex())
    block = chain.block_number()
    with pytest.raises(UnderfundedKeyError, match=fresh.address):
        deploy_marketplace(client, local_preset, compiled=compiled)
    assert chain.block_number() == block
    assert chain.nonce(fresh.address) == 0


def test_deployment_gas_is_below_budget(
    chain: ChainEnv, compiled: dict[str, CompiledContract], local_preset: Preset
) -> None:
    first = chain.block_number() + 1
    deployment = deploy_marketplace(chain.deployer, local_preset, compiled=compiled)
    last = chain.block_number()
    assert deployment.start_block == first
    total = 0
    transactions = 0
    for number in range(first, last + 1):
        block = chain.w3.eth.get_block(number, full_transactions=True)
        for tx in block["transactions"]:
            assert tx["from"] == chain.deployer.address
            total += int(chain.w3.eth.get_transaction_receipt(tx["hash"])["gasUsed"])
            transactions += 1
    assert transactions == 8 + 2  # eight contracts, two wiring calls
    assert 0 < total < DEPLOY_GAS_BUDGET
    # The new deployment is independent of the session's.
    assert set(deployment.addresses.values()).isdisjoint(chain.deployment.addresses.values())


def test_deploy_to_writes_a_loadable_file(
    chain: ChainEnv,
    compiled: dict[str, CompiledContract],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Reuse the session's compile (the CLI would compile contracts/src alone, a second cold build).
    monkeypatch.setattr(deployer_module, "compile_contracts", lambda: compiled)
    out = tmp_path / "out.json"
    path = cli.deploy_to(chain.anvil.rpc_url, ANVIL_DEFAULT_KEYS[0], "local", out)
    assert path == out
    loaded = load_deployment(out)
    assert loaded.preset == "local"
    assert loaded.chain_id == 31337
    for name in CONTRACT_NAMES:
        assert len(bytes(chain.w3.eth.get_code(loaded.address(name)))) > 0
    printed = capsys.readouterr().out
    assert str(out) in printed
    assert loaded.address("InferenceMarket") in printed
