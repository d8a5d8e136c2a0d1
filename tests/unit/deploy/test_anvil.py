"""
The Anvil launcher: start, chain id, BLS precompiles, dev keys, options, failures, and clean stops.

Every test here runs the real Anvil binary from node_modules (or OPZK_ANVIL).
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from eth_account import Account
from web3 import Web3

from deploy import anvil as anvil_module
from deploy import paths
from deploy.anvil import (
    ANVIL_CHAIN_ID,
    ANVIL_DEFAULT_KEYS,
    AnvilError,
    AnvilNode,
    dev_keys,
)
from deploy.compiler import compile_contracts

pytestmark = pytest.mark.anvil


def process_gone(pid: int) -> bool:
    """True when no process (not even a zombie) has this id."""
    return not Path(f"/proc/{pid}").exists()


def test_starts_answers_chain_id_and_stops_without_leftovers() -> None:
    node = AnvilNode()
    with node:
        pid = node.pid
        assert pid is not None and node.is_running()
        assert node.rpc_url.startswith("http://127.0.0.1:")
        assert int(node.rpc("eth_chainId"), 16) == ANVIL_CHAIN_ID == 31337
        assert Web3(Web3.HTTPProvider(node.rpc_url)).eth.chain_id == 31337
    assert not node.is_running()
    assert process_gone(pid)
    node.stop()  # idempotent


def test_has_the_eip2537_bls_precompiles() -> None:
    with AnvilNode() as node:
        assert node.has_bls_precompiles()
        result = node.rpc(
            "eth_call",
            {"to": "0x000000000000000000000000000000000000000b", "data": "0x" + "00" * 256},
        )
        assert result == "0x" + "00" * 128


def test_an_old_hardfork_is_refused_and_cleaned_up() -> None:
    node = AnvilNode(hardfork="cancun")
    with pytest.raises(AnvilError, match="EIP-2537"):
        node.start()
    assert node.pid is None


def test_dev_keys_control_anvils_funded_accounts() -> None:
    assert len(ANVIL_DEFAULT_KEYS) == 10
    assert ANVIL_DEFAULT_KEYS == dev_keys(10) == anvil_module.ANVIL_DEFAULT_KEYS
    addresses = [Account.from_key(key).address for key in ANVIL_DEFAULT_KEYS]
    assert addresses[0] == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # Anvil's account 0
    with AnvilNode(accounts=10, balance=123) as node:
        w3 = Web3(Web3.HTTPProvider(node.rpc_url))
        assert list(w3.eth.accounts) == addresses
        assert w3.eth.get_balance(addresses[9]) == Web3.to_wei(123, "ether")


def test_block_time_mines_without_transactions() -> None:
    with AnvilNode(block_time=0.5) as node:
        first = int(node.rpc("eth_blockNumber"), 16)
        time.sleep(1.3)
        assert int(node.rpc("eth_blockNumber"), 16) >= first + 2


def test_a_given_port_is_used() -> None:
    port = anvil_module.free_port()
    with AnvilNode(port=port) as node:
        assert node.port == port
        assert node.rpc_url == f"http://127.0.0.1:{port}"


def test_a_taken_port_fails_with_anvils_message() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        node = AnvilNode(port=port, startup_timeout=10)
        with pytest.raises(AnvilError, match=r"(?is)exited with code.*address already in use"):
            node.start()
        assert node.pid is None


def test_a_missing_binary_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AnvilError, match="cannot run"):
        AnvilNode(binary=tmp_path / "no-anvil").start()


def test_opzk_anvil_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = paths.anvil_binary()
    link = tmp_path / "anvil"
    link.symlink_to(real.resolve())
    monkeypatch.setenv("OPZK_ANVIL", str(link))
    assert paths.anvil_binary() == link
    node = AnvilNode()
    assert node.command(8545)[0] == str(link)
    with node:
        assert int(node.rpc("eth_chainId"), 16) == 31337


def test_a_forgotten_node_is_reaped_at_garbage_collection() -> None:
    node = AnvilNode().start()
    pid = node.pid
    assert pid is not None
    del node
    deadline = time.monotonic() + 10
    while not process_gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process_gone(pid)


def test_deploys_and_calls_a_compiled_contract(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "Roots.sol").write_text(
        "// SPDX-License-Identifier: MIT\n"
        "pragma solidity ^0.8.24;\n"
        'import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";\n'
        "contract Roots {\n"
        "  function check(bytes32[] calldata proof, bytes32 root, bytes32 leaf)\n"
        "    external pure returns (bool)\n"
        "  { return MerkleProof.verifyCalldata(proof, root, leaf); }\n"
        "}\n"
    )
    roots = compile_contracts(source_dirs=[source], build_dir=tmp_path / "build")["Roots"]
    with AnvilNode() as node:
        w3 = Web3(Web3.HTTPProvider(node.rpc_url))
        account = Account.from_key(ANVIL_DEFAULT_KEYS[1])
        factory = w3.eth.contract(abi=roots.abi, bytecode=roots.bytecode)
        tx = factory.constructor().build_transaction(
            {"from": account.address, "nonce": w3.eth.get_transaction_count(account.address)}
        )
        signed = account.sign_transaction(tx)
        receipt = w3.eth.wait_for_transaction_receipt(
            w3.eth.send_raw_transaction(signed.raw_transaction)
        )
        assert receipt["status"] == 1
        deployed = w3.eth.contract(address=receipt["contractAddress"], abi=roots.abi)
        a, b = Web3.keccak(b"a"), Web3.keccak(b"b")
        root = Web3.keccak(min(a, b) + max(a, b))  # OpenZeppelin's sorted-pair hashing
        assert deployed.functions.check([b], root, a).call() is True
        assert deployed.functions.check([b], root, Web3.keccak(b"c")).call() is False
        address = receipt["contractAddress"]
        assert address is not None
        assert w3.eth.get_code(address).to_0x_hex() == roots.deployed_bytecode


def test_pid_and_port_before_start() -> None:
    node = AnvilNode()
    assert node.pid is None and not node.is_running()
    with pytest.raises(AnvilError, match="not started"):
        _ = node.rpc_url
    assert "stopped" in repr(node)
