"""
The node's view of the chain: its account, the deployment's contracts, and crash-safe sending.

Introduction
------------
:func:`connect_node` connects to the RPC endpoint, picks the signing key (refusing Anvil's public
development keys on any chain id but Anvil's, as ``opzk deploy`` does), loads the deployments file
and checks it belongs to this chain and that its contracts exist. :class:`NodeChain` then offers
what the node's jobs need: reads (head, stake, registry), plain sends through
:class:`opzk.chain.ChainClient`, and for batch commits a split *sign → record → broadcast → wait*
(:meth:`NodeChain.sign`, :meth:`NodeChain.broadcast`, :meth:`NodeChain.wait`) so the batcher can
store the transaction hash before anything leaves the node. A lock serializes every transaction of
the node's account, so two jobs never pick the same nonce.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from hexbytes import HexBytes
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.exceptions import TransactionNotFound
from web3.logs import DISCARD
from web3.types import LogReceipt, TxParams, TxReceipt

from deploy.anvil import ANVIL_CHAIN_ID, dev_keys
from deploy.deployer import check_key_allowed
from deploy.deployments import Deployment, DeploymentsFileError, default_path, load_deployment
from opzk.chain import (
    GAS_HEADROOM,
    ChainClient,
    TransactionFailedError,
    connect,
    reverting_as_opzk,
)
from opzk.marketplace import Marketplace
from protocol.errors import OpzkError
from protocol.params import MarketParams

from .events import EventDecoder

FEE_TTL = 15.0
"""Seconds a fee estimate is reused for the node's transactions."""

ANVIL_NODE_KEY_INDEX = 1
"""Without a configured key, a node on Anvil signs with development account 1 (0 deploys)."""


class NodeChainError(OpzkError):
    """The chain or the deployment is not what the node needs."""


@dataclass(frozen=True)
class CommitResult:
    """A mined ``commitBatch``: the batch id the contract gave, where, and what it cost."""

    batch_id: int
    tx_hash: bytes
    block: int
    gas_used: int
    gas_price: int
    committed_at: int
    """Timestamp of the block (the challenge window starts there)."""


@dataclass(frozen=True)
class SignedTx:
    """A signed transaction, not yet broadcast."""

    raw: bytes
    tx_hash: bytes
    nonce: int


class NodeChain:
    """The deployment's contracts, acting as the node's account."""

    def __init__(self, client: ChainClient, deployment: Deployment) -> None:
        self.client = client
        self.deployment = deployment
        self.market = Marketplace(deployment, client)
        self.decoder = EventDecoder(
            {
                "InferenceMarket": self.market.market,
                "DataAvailabilityGame": self.market.data,
                "FraudProofGame": self.market.fraud,
                "ProofDemandGame": self.market.proofs,
            }
        )
        self.lock = threading.RLock()
        self._fee_cache: tuple[float, dict[str, int]] | None = None

    @property
    def w3(self) -> Web3:
        return self.client.w3

    @property
    def address(self) -> str:
        """The node's address."""
        return self.client.address

    @property
    def params(self) -> MarketParams:
        """The deployment's market parameters."""
        return self.deployment.params

    # ---- reads -----------------------------------------------------------------------------------

    def head(self) -> tuple[int, int]:
        """(number, timestamp) of the latest block."""
        block = self.w3.eth.get_block("latest")
        return int(block["number"]), int(block["timestamp"])

    def block_number(self) -> int:
        return int(self.w3.eth.block_number)

    def block_timestamp(self, number: int) -> int:
        return int(self.w3.eth.get_block(number)["timestamp"])

    def active_stake(self) -> int:
        """The node's active stake in wei."""
        return self.market.stake_of(self.address)[0]

    def is_registered(self, model_id: bytes) -> bool:
        """Whether ``model_id`` is registered in the deployment's ModelRegistry."""
        return bool(self.client.call(self.market.registry.functions.isRegistered(model_id)))

    def chain_id(self) -> int:
        return int(self.w3.eth.chain_id)

    def logs(self, from_block: int, to_block: int) -> list[LogReceipt]:
        """Every log of the followed contracts in ``[from_block, to_block]``."""
        return list(
            self.w3.eth.get_logs(
                {
                    "fromBlock": from_block,
                    "toBlock": to_block,
                    "address": [Web3.to_checksum_address(a) for a in self.decoder.addresses],
                }
            )
        )

    def find_commit(self, root: bytes, from_block: int) -> CommitResult | None:
        """This node's commit of ``root`` since ``from_block``, if any."""
        log = self.find_batch_commit(root, from_block)
        if log is None:
            return None
        return self.commit_result(self.receipt_of(bytes(log["transactionHash"])), root)

    def commit_result(self, receipt: TxReceipt, root: bytes) -> CommitResult:
        """The ``BatchCommitted`` of ``root`` in a mined transaction."""
        events = self.market.market.events.BatchCommitted().process_receipt(receipt, errors=DISCARD)
        mine = [e for e in events if bytes(e["args"]["root"]) == root]
        tx_hash = bytes(receipt["transactionHash"])
        if not mine:
            raise TransactionFailedError(
                f"transaction 0x{tx_hash.hex()} has no BatchCommitted event for root 0x{root.hex()}"
            )
        block = int(receipt["blockNumber"])
        return CommitResult(
            batch_id=int(mine[0]["args"]["batchId"]),
            tx_hash=tx_hash,
            block=block,
            gas_used=int(receipt["gasUsed"]),
            gas_price=int(receipt.get("effectiveGasPrice", 0) or 0),
            committed_at=self.block_timestamp(block),
        )

    def sign_commit(self, root: bytes, count: int) -> SignedTx:
        """Signs ``commitBatch(root, count)`` (see :meth:`sign`)."""
        return self.sign(self.market.market.functions.commitBatch(root, count))

    def wait_commit(self, tx_hash: bytes, root: bytes) -> CommitResult:
        """Waits for a ``commitBatch`` transaction; a failed one raises."""
        return self.commit_result(self.wait(tx_hash), root)

    def find_batch_commit(self, root: bytes, from_block: int) -> LogReceipt | None:
        """This node's ``BatchCommitted`` log with ``root`` since ``from_block``, if any."""
        market = self.market.market
        topic = self.decoder.topic(market, "BatchCommitted")
        node_topic = bytes(12) + bytes.fromhex(self.address[2:])
        logs = self.w3.eth.get_logs(
            {
                "fromBlock": from_block,
                "toBlock": "latest",
                "address": market.address,
                "topics": ["0x" + topic.hex(), None, "0x" + node_topic.hex()],
            }
        )
        for log in logs:
            args = market.events.BatchCommitted().process_log(log)["args"]
            if bytes(args["root"]) == root:
                return log
        return None

    def tx_known(self, tx_hash: bytes) -> bool:
        """Whether the node's RPC endpoint knows the transaction (pending or mined)."""
        try:
            self.w3.eth.get_transaction(HexBytes(tx_hash))
        except TransactionNotFound:
            return False
        return True

    # ---- sending ---------------------------------------------------------------------------------

    def send(self, fn: ContractFunction, *, value: int = 0) -> TxReceipt:
        """Estimates, signs, sends and waits (reverts raise :mod:`protocol.errors` exceptions)."""
        with self.lock:
            return self.client.send(fn, value=value)

    def sign(self, fn: ContractFunction) -> SignedTx:
        """
        Estimates (a revert raises its :mod:`protocol.errors` exception, nothing is signed) and
        signs ``fn`` with the next nonce. Call under :attr:`lock` until it is broadcast.
        """
        account = self.client.account
        if account is None:
            raise NodeChainError("the node has no signing key")
        params: TxParams = {"from": account.address}
        gas = int(reverting_as_opzk(lambda: fn.estimate_gas(params)) * GAS_HEADROOM)
        nonce = int(self.w3.eth.get_transaction_count(account.address, "pending"))
        fields: dict[str, Any] = {
            "from": account.address,
            "gas": gas,
            "nonce": nonce,
            "chainId": self.client.chain_id,
            **self._fees(),
        }
        build = cast(TxParams, fields)
        tx = fn.build_transaction(build)
        signed = account.sign_transaction(tx)  # type: ignore[arg-type]
        return SignedTx(bytes(signed.raw_transaction), bytes(signed.hash), nonce)

    def _fees(self) -> dict[str, int]:
        """
        EIP-1559 fee fields: twice the latest base fee plus the suggested tip, refreshed every
        :data:`FEE_TTL` seconds (each refresh is two RPC calls, and base fees move slowly).
        """
        now = time.monotonic()
        if self._fee_cache is None or now - self._fee_cache[0] > FEE_TTL:
            base = int(self.w3.eth.get_block("latest").get("baseFeePerGas", 0) or 0)
            tip = int(self.w3.eth.max_priority_fee)
            self._fee_cache = (now, {"maxFeePerGas": 2 * base + tip, "maxPriorityFeePerGas": tip})
        return dict(self._fee_cache[1])

    def broadcast(self, tx: SignedTx) -> None:
        """Sends a signed transaction (a refusal also drops the cached fees)."""
        try:
            self.w3.eth.send_raw_transaction(tx.raw)
        except Exception:
            self._fee_cache = None
            raise

    def wait(self, tx_hash: bytes) -> TxReceipt:
        """Waits for a transaction; a failed one raises its decoded revert."""
        receipt = self.w3.eth.wait_for_transaction_receipt(
            HexBytes(tx_hash), timeout=self.client.receipt_timeout, poll_latency=0.05
        )
        if receipt["status"] != 1:
            raise TransactionFailedError(f"transaction 0x{tx_hash.hex()} failed on-chain")
        return receipt

    def receipt_of(self, tx_hash: bytes) -> TxReceipt:
        return self.w3.eth.get_transaction_receipt(HexBytes(tx_hash))


def connect_node(
    rpc_url: str, private_key: str | None, deployments: Path | None, *, timeout: float = 10.0
) -> NodeChain:
    """
    Connects as the node and loads its deployment.

    Raises :class:`opzk.chain.RpcUnreachableError`, :class:`deploy.deployer.WellKnownKeyError`,
    :class:`deploy.deployments.DeploymentsFileError` or :class:`NodeChainError`.
    """
    probe = connect(rpc_url, timeout=timeout)
    if private_key is None:
        if probe.chain_id != ANVIL_CHAIN_ID:
            raise NodeChainError(
                f"no node key for chain id {probe.chain_id}: set private_key in the config file "
                "or OPZK_NODE_PRIVATE_KEY"
            )
        private_key = dev_keys()[ANVIL_NODE_KEY_INDEX]
    client = connect(rpc_url, private_key, timeout=timeout)
    check_key_allowed(client)
    path = deployments or default_path(client.chain_id)
    deployment = load_deployment(path)
    if deployment.chain_id != client.chain_id:
        raise DeploymentsFileError(
            f"{path} is for chain id {deployment.chain_id}, but {rpc_url} is chain id "
            f"{client.chain_id}"
        )
    missing = [
        name
        for name, address in deployment.addresses.items()
        if not client.w3.eth.get_code(Web3.to_checksum_address(address))
    ]
    if missing:
        raise NodeChainError(
            f"{path}: no contract code on chain for {', '.join(missing)} (was the chain "
            "restarted? run `opzk deploy` again)"
        )
    return NodeChain(client, deployment)


def identity_of(chain: NodeChain) -> dict[str, Any]:
    """What ties a node database to its chain, deployment and account."""
    return {
        "chain_id": str(chain.client.chain_id),
        "market": chain.deployment.address("InferenceMarket"),
        "node": chain.address,
    }
