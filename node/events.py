"""
The chain events a node follows, decoded into frozen dataclasses.

Introduction
------------
:class:`EventDecoder` knows the topics of every event of ``InferenceMarket`` and the dispute games
that can concern a node's claims, and turns raw logs (``eth_getLogs``) into the dataclasses below,
in chain order. Deciding what an event means for the node's receipts is :mod:`node.watcher`'s job.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from web3 import Web3
from web3.contract import Contract
from web3.types import LogReceipt


@dataclass(frozen=True)
class ChainEvent:
    """Where an event was emitted."""

    block: int
    log_index: int
    tx_hash: bytes
    address: str


@dataclass(frozen=True)
class BatchCommitted(ChainEvent):
    batch_id: int
    node: str
    root: bytes
    count: int


@dataclass(frozen=True)
class BatchFinalized(ChainEvent):
    batch_id: int


@dataclass(frozen=True)
class DisputeOpened(ChainEvent):
    claim_key: bytes
    source: int
    container_id: int
    game: str


@dataclass(frozen=True)
class DisputeClosed(ChainEvent):
    claim_key: bytes
    source: int
    container_id: int
    game: str
    fraud: bool


@dataclass(frozen=True)
class ClaimSlashed(ChainEvent):
    claim_key: bytes
    source: int
    container_id: int
    node: str


@dataclass(frozen=True)
class InferenceRequested(ChainEvent):
    request_id: int
    model_id: bytes
    node: str
    client: str
    fee: int
    deadline: int
    input: bytes


@dataclass(frozen=True)
class RequestFulfilled(ChainEvent):
    request_id: int
    node: str
    trace_root: bytes


@dataclass(frozen=True)
class RequestFinalized(ChainEvent):
    request_id: int
    node: str
    fee: int


@dataclass(frozen=True)
class RequestRefunded(ChainEvent):
    request_id: int
    client: str
    fee: int


@dataclass(frozen=True)
class DataChallenged(ChainEvent):
    challenge_id: int
    claim_key: bytes
    node: str
    challenger: str
    index: int
    deadline: int


@dataclass(frozen=True)
class DataPublished(ChainEvent):
    challenge_id: int
    claim_key: bytes
    index: int


@dataclass(frozen=True)
class DataChallengeTimedOut(ChainEvent):
    challenge_id: int
    claim_key: bytes
    slashed: int


@dataclass(frozen=True)
class FraudProven(ChainEvent):
    claim_key: bytes
    node: str
    challenger: str
    layer: int
    slashed: int


@dataclass(frozen=True)
class ProofDemanded(ChainEvent):
    demand_id: int
    claim_key: bytes
    node: str
    challenger: str
    partition_index: int
    deadline: int


@dataclass(frozen=True)
class ProofResolved(ChainEvent):
    """``ProofAccepted``, ``ProofRejected`` or ``ProofDemandTimedOut``."""

    kind: str
    demand_id: int
    claim_key: bytes
    slashed: int


FOLLOWED = {
    "InferenceMarket": (
        "BatchCommitted", "BatchFinalized", "DisputeOpened", "DisputeClosed", "ClaimSlashed",
        "InferenceRequested", "RequestFulfilled", "RequestFinalized", "RequestRefunded",
    ),
    "DataAvailabilityGame": ("DataChallenged", "DataPublished", "DataChallengeTimedOut"),
    "FraudProofGame": ("FraudProven",),
    "ProofDemandGame": (
        "ProofDemanded", "ProofAccepted", "ProofRejected", "ProofDemandTimedOut",
    ),
}  # fmt: skip
"""Contract name → events the node follows."""


def _where(log: Any) -> dict[str, Any]:
    return {
        "block": int(log["blockNumber"]),
        "log_index": int(log["logIndex"]),
        "tx_hash": bytes(log["transactionHash"]),
        "address": str(log["address"]),
    }


def _build(name: str, args: dict[str, Any], where: dict[str, Any]) -> ChainEvent | None:
    a = args
    if name == "BatchCommitted":
        return BatchCommitted(
            **where, batch_id=int(a["batchId"]), node=str(a["node"]), root=bytes(a["root"]),
            count=int(a["count"]),
        )  # fmt: skip
    if name == "BatchFinalized":
        return BatchFinalized(**where, batch_id=int(a["batchId"]))
    if name == "InferenceRequested":
        return InferenceRequested(
            **where, request_id=int(a["requestId"]), model_id=bytes(a["modelId"]),
            node=str(a["node"]), client=str(a["client"]), fee=int(a["fee"]),
            deadline=int(a["deadline"]), input=bytes(a["input"]),
        )  # fmt: skip
    if name == "RequestFulfilled":
        return RequestFulfilled(
            **where, request_id=int(a["requestId"]), node=str(a["node"]),
            trace_root=bytes(a["traceRoot"]),
        )  # fmt: skip
    if name == "RequestFinalized":
        return RequestFinalized(
            **where, request_id=int(a["requestId"]), node=str(a["node"]), fee=int(a["fee"])
        )
    if name == "RequestRefunded":
        return RequestRefunded(
            **where, request_id=int(a["requestId"]), client=str(a["client"]), fee=int(a["fee"])
        )
    if name == "DisputeOpened":
        return DisputeOpened(
            **where, claim_key=bytes(a["claimKey"]), source=int(a["source"]),
            container_id=int(a["containerId"]), game=str(a["game"]),
        )  # fmt: skip
    if name == "DisputeClosed":
        return DisputeClosed(
            **where, claim_key=bytes(a["claimKey"]), source=int(a["source"]),
            container_id=int(a["containerId"]), game=str(a["game"]), fraud=bool(a["fraud"]),
        )  # fmt: skip
    if name == "ClaimSlashed":
        return ClaimSlashed(
            **where, claim_key=bytes(a["claimKey"]), source=int(a["source"]),
            container_id=int(a["containerId"]), node=str(a["node"]),
        )  # fmt: skip
    if name == "DataChallenged":
        return DataChallenged(
            **where, challenge_id=int(a["challengeId"]), claim_key=bytes(a["claimKey"]),
            node=str(a["node"]), challenger=str(a["challenger"]), index=int(a["index"]),
            deadline=int(a["deadline"]),
        )  # fmt: skip
    if name == "DataPublished":
        return DataPublished(
            **where, challenge_id=int(a["challengeId"]), claim_key=bytes(a["claimKey"]),
            index=int(a["index"]),
        )  # fmt: skip
    if name == "DataChallengeTimedOut":
        return DataChallengeTimedOut(
            **where, challenge_id=int(a["challengeId"]), claim_key=bytes(a["claimKey"]),
            slashed=int(a["slashed"]),
        )  # fmt: skip
    if name == "FraudProven":
        return FraudProven(
            **where, claim_key=bytes(a["claimKey"]), node=str(a["node"]),
            challenger=str(a["challenger"]), layer=int(a["layer"]), slashed=int(a["slashed"]),
        )  # fmt: skip
    if name == "ProofDemanded":
        return ProofDemanded(
            **where, demand_id=int(a["demandId"]), claim_key=bytes(a["claimKey"]),
            node=str(a["node"]), challenger=str(a["challenger"]),
            partition_index=int(a["partitionIndex"]), deadline=int(a["deadline"]),
        )  # fmt: skip
    if name in ("ProofAccepted", "ProofRejected", "ProofDemandTimedOut"):
        return ProofResolved(
            **where, kind=name, demand_id=int(a["demandId"]), claim_key=bytes(a["claimKey"]),
            slashed=int(a.get("slashed", 0)),
        )  # fmt: skip
    return None


class EventDecoder:
    """Decodes the followed events of a deployment's contracts."""

    def __init__(self, contracts: dict[str, Contract]) -> None:
        self._by_topic: dict[tuple[str, bytes], tuple[Contract, str]] = {}
        self.addresses: list[str] = []
        for contract_name, names in FOLLOWED.items():
            contract = contracts[contract_name]
            self.addresses.append(contract.address)
            for name in names:
                topic = Web3.to_bytes(hexstr=getattr(contract.events, name)().topic)
                self._by_topic[(contract.address.lower(), topic)] = (contract, name)

    def topic(self, contract: Contract, name: str) -> bytes:
        """The topic0 of event ``name`` of ``contract``."""
        return Web3.to_bytes(hexstr=getattr(contract.events, name)().topic)

    def decode(self, logs: Iterable[LogReceipt]) -> list[ChainEvent]:
        """The followed events among ``logs``, in chain order."""
        out: list[ChainEvent] = []
        for log in logs:
            if not log["topics"]:
                continue
            key = (str(log["address"]).lower(), bytes(log["topics"][0]))
            found = self._by_topic.get(key)
            if found is None:
                continue
            contract, name = found
            decoded = getattr(contract.events, name)().process_log(log)
            event = _build(name, dict(decoded["args"]), _where(log))
            if event is not None:
                out.append(event)
        out.sort(key=lambda e: (e.block, e.log_index))
        return out
