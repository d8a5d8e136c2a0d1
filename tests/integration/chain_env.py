"""
The chain the integration tests run against: one Anvil node, one deployed marketplace, and a handle
per test that knows the roles, the contracts and a few helpers.

``tests/conftest.py`` builds a :class:`Session` once (start Anvil, compile, deploy, deploy the
ToggleVerifier test double, snapshot) and hands each test a :class:`ChainEnv`; after the test the
chain is reverted to the snapshot, so every test starts from the same freshly deployed state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.types import TxReceipt

from deploy.anvil import ANVIL_DEFAULT_KEYS, AnvilNode
from deploy.compiler import CompiledContract
from deploy.deployer import Preset
from deploy.deployments import Deployment
from opzk.chain import ChainClient, connect
from protocol.merkle import MerkleTree
from protocol.model import QuantizedModel
from protocol.params import BPS, MarketParams
from prover.fraud import batch_claim_ref, request_claim_ref
from tests.factories import Inference, receipts_tree, registration_args

ROLE_KEYS = {
    "deployer": 0,
    "node": 1,
    "challenger": 2,
    "client": 3,
    "challenger2": 4,
    "owner": 5,
}
"""Which of Anvil's dev keys plays which role."""

BURN_ADDRESS = "0x000000000000000000000000000000000000dEaD"
ZERO_ADDRESS = "0x" + "00" * 20


class SnapshotError(RuntimeError):
    """The chain could not be reverted to the base snapshot (the next test would see it dirty)."""


@dataclass
class Session:
    """What is built once per test session."""

    anvil: AnvilNode
    compiled: dict[str, CompiledContract]
    preset: Preset
    deployment: Deployment
    clients: dict[str, ChainClient]
    contracts: dict[str, Contract]
    toggle: Contract
    snapshot_id: str = ""
    base_block: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def take_snapshot(self) -> None:
        """Snapshot the current (base) state; the id is consumed by the next revert."""
        self.snapshot_id = str(self.anvil.rpc("evm_snapshot"))

    def revert(self) -> None:
        """Revert to the base snapshot and take a new one (a snapshot id works only once)."""
        if not self.anvil.rpc("evm_revert", self.snapshot_id):
            raise SnapshotError(f"evm_revert({self.snapshot_id}) failed")
        block = int(self.anvil.rpc("eth_blockNumber"), 16)
        if block != self.base_block:
            raise SnapshotError(f"reverted to block {block}, expected {self.base_block}")
        self.take_snapshot()


def role_client(rpc_url: str, role: str) -> ChainClient:
    """A signing client for ``role``."""
    return connect(rpc_url, ANVIL_DEFAULT_KEYS[ROLE_KEYS[role]])


class ChainEnv:
    """One test's view of the chain: role clients, contract handles and helpers."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.anvil = session.anvil
        self.compiled = session.compiled
        self.deployment = session.deployment
        self.params: MarketParams = session.preset.params
        c = session.contracts
        self.stakes = c["StakeManager"]
        self.registry = c["ModelRegistry"]
        self.market = c["InferenceMarket"]
        self.fraud = c["FraudProofGame"]
        self.da = c["DataAvailabilityGame"]
        self.pdg = c["ProofDemandGame"]
        self.verifier = c["SumKzgVerifier"]
        self.stack_verifier = c["SumKzgStackVerifier"]
        self.toggle = session.toggle
        cl = session.clients
        self.deployer = cl["deployer"]
        self.node = cl["node"]
        self.challenger = cl["challenger"]
        self.client = cl["client"]
        self.challenger2 = cl["challenger2"]
        self.owner = cl["owner"]

    # -- chain ----------------------------------------------------------------------------------

    @property
    def w3(self) -> Web3:
        return self.deployer.w3

    def rpc(self, method: str, *params: Any) -> Any:
        return self.anvil.rpc(method, *params)

    def now(self) -> int:
        """Timestamp of the latest block."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def advance(self, seconds: int) -> int:
        """
        Move the chain's clock forward by ``seconds`` (``evm_increaseTime``) and mine a block whose
        timestamp is exactly the latest one plus ``seconds``; returns it.

        Exact, not "at least": ``eth_estimateGas`` (which ChainClient.send runs first, and which is
        where a revert is caught) executes in the latest block's environment, so boundary checks
        ("one second before the deadline") must not depend on how much wall time has passed.
        """
        if seconds < 1:
            raise ValueError(f"advance by at least one second, not {seconds}")
        target = self.now() + seconds
        self.rpc("evm_increaseTime", seconds)
        self.rpc("evm_setNextBlockTimestamp", target)
        self.rpc("evm_mine")
        now = self.now()
        assert now == target, (now, target)
        return now

    def block_number(self) -> int:
        return int(self.w3.eth.block_number)

    def balance(self, address: str) -> int:
        return self.deployer.balance(address)

    def nonce(self, address: str) -> int:
        return int(self.w3.eth.get_transaction_count(Web3.to_checksum_address(address)))

    def call(self, fn: ContractFunction) -> Any:
        return self.deployer.call(fn)

    @staticmethod
    def gas_cost(receipt: TxReceipt) -> int:
        """Wei paid for a mined transaction."""
        return int(receipt["gasUsed"]) * int(receipt["effectiveGasPrice"])

    @staticmethod
    def events(contract: Contract, name: str, receipt: TxReceipt) -> list[dict[str, Any]]:
        """The decoded args of every ``name`` event ``contract`` emitted in ``receipt``."""
        event = getattr(contract.events, name)()
        topic = Web3.to_bytes(hexstr=event.topic)
        found = []
        for log in receipt["logs"]:
            if log["address"] != contract.address or not log["topics"]:
                continue
            if bytes(log["topics"][0]) != topic:
                continue
            found.append(dict(event.process_log(log)["args"]))
        return found

    # -- protocol helpers -----------------------------------------------------------------------

    def reward(self, amount: int | None = None) -> int:
        """The challenger's share of a slash of ``amount`` (default the preset's slash)."""
        slashed = self.params.slash_amount if amount is None else amount
        return slashed * self.params.challenger_reward_bps // BPS

    def register(
        self,
        model: QuantizedModel,
        *,
        verifiers: Sequence[str] | None = None,
        by: ChainClient | None = None,
    ) -> bytes:
        """Registers ``model``; returns its id as the contract reported it in the event."""
        sender = by or self.owner
        receipt = sender.send(
            self.registry.functions.registerModel(*registration_args(model, verifiers))
        )
        (event,) = self.events(self.registry, "ModelRegistered", receipt)
        return bytes(event["modelId"])

    def register_sensitive(self, model: QuantizedModel) -> bytes:
        """Registers a model whose sensitive partitions are verified by the ToggleVerifier."""
        verifiers = [self.toggle.address if p.sensitive else ZERO_ADDRESS for p in model.partitions]
        return self.register(model, verifiers=verifiers)

    def stake(self, who: ChainClient | None = None, amount: int | None = None) -> TxReceipt:
        """Stakes ``amount`` (default the minimum node stake) for ``who`` (default the node)."""
        sender = who or self.node
        value = self.params.min_node_stake if amount is None else amount
        return sender.send(self.stakes.functions.stake(), value=value)

    def stake_of(self, address: str) -> tuple[int, int, int]:
        active, pending, unlock_at = self.call(self.stakes.functions.stakeOf(address))
        return int(active), int(pending), int(unlock_at)

    def commit(
        self, inferences: Sequence[Inference], by: ChainClient | None = None
    ) -> tuple[int, MerkleTree, TxReceipt]:
        """Commits the inferences' receipts as one batch; returns (batch id, tree, tx receipt)."""
        sender = by or self.node
        tree = receipts_tree(inferences)
        receipt = sender.send(self.market.functions.commitBatch(tree.root, len(inferences)))
        (event,) = self.events(self.market, "BatchCommitted", receipt)
        return int(event["batchId"]), tree, receipt

    @staticmethod
    def batch_ref(
        batch_id: int, tree: MerkleTree, inferences: Sequence[Inference], index: int
    ) -> tuple[object, ...]:
        return batch_claim_ref(batch_id, tree, index, inferences[index].receipt)

    @staticmethod
    def request_ref(inference: Inference) -> tuple[object, ...]:
        return request_claim_ref(inference.receipt)

    def ledger(self, *addresses: str) -> dict[str, Any]:
        """
        Every balance and counter a dispute can move, for "nothing changed" checks: ETH balances of
        the given addresses, of the burn address and of the contracts, StakeManager stakes, credits
        and totals, market credits.
        """
        snapshot: dict[str, Any] = {}
        for address in (*addresses, BURN_ADDRESS, self.stakes.address, self.market.address):
            snapshot[f"eth:{address}"] = self.balance(address)
        for address in addresses:
            snapshot[f"stake:{address}"] = self.stake_of(address)
            snapshot[f"scredit:{address}"] = self.call(self.stakes.functions.credits(address))
            snapshot[f"mcredit:{address}"] = self.call(self.market.functions.credits(address))
            snapshot[f"bond:{address}"] = self.call(self.stakes.functions.bondsOf(address))
        for total in ("totalActiveStake", "totalPendingWithdrawals", "totalBonds", "totalCredits"):
            snapshot[f"stakes.{total}"] = self.call(getattr(self.stakes.functions, total)())
        for total in ("totalEscrow", "totalCredits", "batchCount", "requestCount"):
            snapshot[f"market.{total}"] = self.call(getattr(self.market.functions, total)())
        return snapshot
