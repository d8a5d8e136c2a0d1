"""
``opzk node`` against the test chain: the node never stakes by itself (``run`` refuses below the
minimum and names the command), ``stake`` and ``register-model`` do what they say, and keys and
deployments are checked before anything is sent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy.anvil import ANVIL_DEFAULT_KEYS, AnvilNode
from deploy.deployer import WellKnownKeyError
from deploy.deployments import DeploymentsFileError
from models.digits import MODEL_PATH
from models.store import load_model
from node.chainio import NodeChainError, connect_node
from node.cli import main
from opzk.cli import EXIT_ERROR
from tests.integration.chain_env import ChainEnv

FRESH_KEY = ANVIL_DEFAULT_KEYS[7]  # an account no other test stakes with


def _config(tmp_path: Path, chain: ChainEnv, key: str) -> Path:
    deployments = tmp_path / "deployments.json"
    chain.deployment.save(deployments)
    config = tmp_path / "node.toml"
    config.write_text(
        f'rpc_url = "{chain.anvil.rpc_url}"\nprivate_key = "{key}"\n'
        f'deployments = "{deployments}"\ndata_dir = "data"\n'
    )
    return config


def test_run_refuses_without_stake_then_stake_and_register(
    chain: ChainEnv, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, chain, FRESH_KEY)
    address = chain.w3.eth.account.from_key(FRESH_KEY).address
    assert main(["run", "--config", str(config)]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"node {address} has 0 ETH of active stake, below the minimum 10 ETH" in err
    assert f"`opzk node stake --amount 10 --config {config}`" in err
    assert chain.stake_of(address) == (0, 0, 0)  # nothing was staked silently

    assert main(["stake", "--amount", "10", "--config", str(config)]) == 0
    assert "active stake 10 ETH, minimum 10 ETH" in capsys.readouterr().out
    assert chain.stake_of(address)[0] == 10 * 10**18

    model_id = load_model(MODEL_PATH).model_id()
    assert not chain.call(chain.registry.functions.isRegistered(model_id))
    assert main(["register-model", "--config", str(config)]) == 0
    assert f"registered model 0x{model_id.hex()}" in capsys.readouterr().out
    assert chain.call(chain.registry.functions.ownerOf(model_id)) == address
    assert main(["register-model", "--config", str(config)]) == 0
    assert "already registered" in capsys.readouterr().out
    assert main(["info", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert address in out and "[registered]" in out and "10 ETH active" in out


def test_deployments_of_another_chain_are_refused(chain: ChainEnv, tmp_path: Path) -> None:
    with AnvilNode(chain_id=1337, check_bls=False) as other:
        deployments = tmp_path / "deployments.json"
        chain.deployment.save(deployments)
        with pytest.raises(
            WellKnownKeyError, match="refusing to use Anvil's public development key"
        ):
            connect_node(other.rpc_url, ANVIL_DEFAULT_KEYS[1], deployments)
        with pytest.raises(NodeChainError, match="no node key for chain id 1337"):
            connect_node(other.rpc_url, None, deployments)
        own_key = "0x" + "5a" * 32
        with pytest.raises(
            DeploymentsFileError, match=r"is for chain id 31337, but .* is chain id"
        ):
            connect_node(other.rpc_url, own_key, deployments)
