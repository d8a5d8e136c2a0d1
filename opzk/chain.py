"""
A small web3 client: connect, send signed transactions, read, and turn reverts into exceptions.

Introduction
------------
Deploy, node and challenger all talk to the chain the same way, through :class:`ChainClient`:
every transaction is estimated first (so a revert surfaces before anything is sent, as the matching
:mod:`protocol.errors` exception with its decoded values), signed locally with the client's key,
sent, and waited for. A transaction that is mined but fails is replayed with ``eth_call`` at its
block to recover the revert reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractLogicError, TimeExhausted
from web3.types import TxParams, TxReceipt, Wei

from protocol.errors import OpzkError, decode_revert

T = TypeVar("T")

GAS_HEADROOM = 1.25
"""Estimated gas is multiplied by this before sending (estimates can fall short by a few %)."""


class RpcUnreachableError(OpzkError):
    """The RPC endpoint did not answer."""


class NoSignerError(OpzkError):
    """A transaction was asked of a client that has no private key."""


class TransactionFailedError(OpzkError):
    """A transaction was mined but failed, for a reason that could not be decoded."""


class TransactionTimeoutError(OpzkError):
    """A sent transaction was not mined in time."""


def _revert_data(exc: ContractLogicError) -> bytes | None:
    data: object = exc.data
    if isinstance(data, str) and data.startswith("0x"):
        return bytes.fromhex(data[2:])
    if isinstance(data, bytes):
        return data
    return None


def translate_revert(exc: ContractLogicError) -> OpzkError:
    """The :mod:`protocol.errors` exception a web3 revert stands for."""
    data = _revert_data(exc)
    if data is None:
        return TransactionFailedError(str(exc))
    return decode_revert(data)


def reverting_as_opzk(fn: Callable[[], T]) -> T:
    """Runs ``fn``, re-raising a contract revert as its :mod:`protocol.errors` exception."""
    try:
        return fn()
    except ContractLogicError as exc:
        raise translate_revert(exc) from exc


def connect(rpc_url: str, private_key: str | None = None, timeout: float = 10.0) -> ChainClient:
    """
    Connect to ``rpc_url``, optionally with a signing key.

    Raises :class:`RpcUnreachableError` with the URL if the endpoint does not answer
    ``eth_chainId``.
    """
    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))
    try:
        chain_id = w3.eth.chain_id
    except Exception as exc:
        raise RpcUnreachableError(
            f"cannot reach the RPC endpoint {rpc_url}: {type(exc).__name__}: {exc}"
        ) from exc
    account: LocalAccount | None = Account.from_key(private_key) if private_key else None
    return ChainClient(w3=w3, account=account, chain_id=chain_id, rpc_url=rpc_url)


@dataclass
class ChainClient:
    """A web3 connection with an optional local signing account."""

    w3: Web3
    account: LocalAccount | None
    chain_id: int
    rpc_url: str
    receipt_timeout: float = 120.0

    @property
    def address(self) -> str:
        """The signing account's checksummed address."""
        return self._signer().address

    def _signer(self) -> LocalAccount:
        if self.account is None:
            raise NoSignerError("this client has no private key; pass one to send transactions")
        return self.account

    def contract(self, address: str, abi: Sequence[dict[str, Any]]) -> Contract:
        """A contract handle at ``address``."""
        return self.w3.eth.contract(address=Web3.to_checksum_address(address), abi=list(abi))

    def balance(self, address: str) -> int:
        """Balance of ``address`` in wei."""
        return int(self.w3.eth.get_balance(Web3.to_checksum_address(address)))

    def call(self, fn: ContractFunction) -> Any:
        """Calls a view function, turning a revert into its :mod:`protocol.errors` exception."""
        return reverting_as_opzk(fn.call)

    def send(self, fn: ContractFunction, *, value: int = 0, gas: int | None = None) -> TxReceipt:
        """
        Estimates, signs, sends and waits for a contract call. A revert (at estimation or after
        mining) raises the matching :mod:`protocol.errors` exception and, when caught at estimation,
        sends nothing.
        """
        signer = self._signer()
        params: TxParams = {"from": signer.address, "value": value}  # type: ignore[typeddict-item]
        if gas is None:
            gas = int(reverting_as_opzk(lambda: fn.estimate_gas(params)) * GAS_HEADROOM)
        params["gas"] = gas
        params["nonce"] = self.w3.eth.get_transaction_count(signer.address, "pending")
        tx = fn.build_transaction(params)
        return self._send_raw(tx)

    def deploy(
        self, abi: Sequence[dict[str, Any]], bytecode: str, *args: Any
    ) -> tuple[str, TxReceipt]:
        """Deploys a contract; returns its address and the receipt."""
        signer = self._signer()
        factory = self.w3.eth.contract(abi=list(abi), bytecode=bytecode)
        ctor = factory.constructor(*args)
        params: TxParams = {"from": signer.address}
        gas = int(reverting_as_opzk(lambda: ctor.estimate_gas(params)) * GAS_HEADROOM)
        tx = ctor.build_transaction(
            {
                "from": signer.address,
                "gas": gas,
                "nonce": self.w3.eth.get_transaction_count(signer.address, "pending"),
            }
        )
        receipt = self._send_raw(tx)
        address = receipt["contractAddress"]
        if address is None:
            raise TransactionFailedError("deployment receipt has no contract address")
        return str(address), receipt

    def transfer(self, to: str, value: int) -> TxReceipt:
        """Sends ``value`` wei to ``to``."""
        signer = self._signer()
        tx: TxParams = {
            "from": signer.address,
            "to": Web3.to_checksum_address(to),
            "value": Wei(value),
            "gas": 21_000,
            "nonce": self.w3.eth.get_transaction_count(signer.address, "pending"),
            "chainId": self.chain_id,
        }
        fees = self._fee_fields()
        tx.update(fees)  # type: ignore[typeddict-item]
        return self._send_raw(tx)

    def _fee_fields(self) -> dict[str, int]:
        base = int(self.w3.eth.get_block("latest").get("baseFeePerGas", 0) or 0)
        tip = int(self.w3.eth.max_priority_fee)
        return {"maxFeePerGas": 2 * base + tip, "maxPriorityFeePerGas": tip}

    def _send_raw(self, tx: TxParams) -> TxReceipt:
        signed = self._signer().sign_transaction(tx)  # type: ignore[arg-type]
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        try:
            receipt = self.w3.eth.wait_for_transaction_receipt(
                tx_hash, timeout=self.receipt_timeout, poll_latency=0.05
            )
        except TimeExhausted as exc:
            raise TransactionTimeoutError(
                f"transaction 0x{bytes(tx_hash).hex()} not mined in {self.receipt_timeout} s"
            ) from exc
        if receipt["status"] != 1:
            raise self._failure_of(tx, receipt)
        return receipt

    def _failure_of(self, tx: TxParams, receipt: TxReceipt) -> OpzkError:
        replay: TxParams = {k: v for k, v in tx.items() if k in ("from", "to", "data", "value")}  # type: ignore[assignment]
        try:
            self.w3.eth.call(replay, block_identifier=receipt["blockNumber"])
        except ContractLogicError as exc:
            return translate_revert(exc)
        except Exception as exc:  # any replay failure still means the tx failed
            return TransactionFailedError(f"transaction failed; replay raised {exc!r}")
        return TransactionFailedError(
            f"transaction 0x{bytes(receipt['transactionHash']).hex()} failed (out of gas?)"
        )
