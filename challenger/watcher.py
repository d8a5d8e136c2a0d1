"""
Follows the marketplace's events from a persisted cursor into the challenger state.

Introduction
------------
:class:`Watcher` reads the events of ``InferenceMarket`` (batch commits, on-chain requests and
their fulfilments, slashes), ``DataAvailabilityGame`` and ``ProofDemandGame`` in block ranges of
at most ``max_range`` blocks, from the block after the cursor up to the chain head, applies each
range to :class:`~challenger.state.ChallengerState` in one transaction and then moves the cursor
to the range's last block. A crash between the two
re-reads the range on restart, which is harmless: every state write is keyed by an on-chain
identity, so applying the same events twice changes nothing (tested). An RPC error is retried with
exponential backoff (``backoff_s · 2^k``, at most ``max_retries`` times, each wait at most
``max_backoff_s``); after that the poll gives up until the next tick, leaving the cursor where it
was.

:class:`EventSource` is the chain side (:class:`Web3EventSource` over ``eth_getLogs``); tests
drive the watcher with a fake one.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from web3 import Web3
from web3.contract import Contract

from .state import DATA, PROOF, ChallengerState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChainEvent:
    """One decoded log: event name, position, arguments, and its block's timestamp."""

    name: str
    block: int
    log_index: int
    args: Mapping[str, Any]
    timestamp: int = 0
    tx_hash: str = ""


class EventSource(Protocol):
    """The chain as the watcher sees it."""

    def head(self) -> int:
        """The latest block number."""
        ...

    def events(self, from_block: int, to_block: int) -> Sequence[ChainEvent]:
        """Every marketplace event in ``[from_block, to_block]`` in chain order."""
        ...


WATCHED = {
    "InferenceMarket": ("BatchCommitted", "InferenceRequested", "RequestFulfilled", "ClaimSlashed"),
    "DataAvailabilityGame": ("DataChallenged", "DataPublished", "DataChallengeTimedOut"),
    "ProofDemandGame": (
        "ProofDemanded",
        "ProofAccepted",
        "ProofRejected",
        "ProofDemandTimedOut",
    ),
}
"""The events the challenger follows, per contract."""

TIMED = frozenset({"BatchCommitted", "RequestFulfilled"})
"""Events whose block timestamp starts a claim's challenge window."""


class Web3EventSource:
    """:class:`EventSource` over one ``eth_getLogs`` per range on the deployment's contracts."""

    def __init__(self, w3: Web3, contracts: Mapping[str, Contract]) -> None:
        self.w3 = w3
        self._by_topic: dict[tuple[str, bytes], tuple[str, Any]] = {}
        for cname, names in WATCHED.items():
            contract = contracts[cname]
            for name in names:
                event = getattr(contract.events, name)()
                topic = Web3.to_bytes(hexstr=event.topic)
                self._by_topic[(contract.address.lower(), topic)] = (name, event)
        self._addresses = [contracts[c].address for c in WATCHED]
        self._timestamps: dict[int, int] = {}

    def head(self) -> int:
        return int(self.w3.eth.block_number)

    def _timestamp(self, block: int) -> int:
        if block not in self._timestamps:
            if len(self._timestamps) > 4096:
                self._timestamps.clear()
            self._timestamps[block] = int(self.w3.eth.get_block(block)["timestamp"])
        return self._timestamps[block]

    def events(self, from_block: int, to_block: int) -> list[ChainEvent]:
        logs = self.w3.eth.get_logs(
            {"address": self._addresses, "fromBlock": from_block, "toBlock": to_block}
        )
        out: list[ChainEvent] = []
        for entry in logs:
            if not entry["topics"]:
                continue
            found = self._by_topic.get((str(entry["address"]).lower(), bytes(entry["topics"][0])))
            if found is None:
                continue
            name, event = found
            decoded = event.process_log(entry)
            block = int(entry["blockNumber"])
            out.append(
                ChainEvent(
                    name=name,
                    block=block,
                    log_index=int(entry["logIndex"]),
                    args=dict(decoded["args"]),
                    timestamp=self._timestamp(block) if name in TIMED else 0,
                    tx_hash="0x" + bytes(entry["transactionHash"]).hex(),
                )
            )
        out.sort(key=lambda e: (e.block, e.log_index))
        return out


def apply_event(state: ChallengerState, event: ChainEvent, challenge_window: int) -> None:
    """
    Records one event in ``state``.

    Must hold: idempotent — applying an event a second time leaves the state unchanged.
    """
    a = event.args
    if event.name == "BatchCommitted":
        state.add_batch(
            int(a["batchId"]),
            str(a["node"]),
            bytes(a["root"]),
            int(a["count"]),
            event.timestamp,
            event.block,
        )
    elif event.name == "InferenceRequested":
        state.add_request(
            int(a["requestId"]),
            bytes(a["modelId"]),
            str(a["node"]),
            str(a["client"]),
            bytes(a["input"]),
            event.block,
        )
    elif event.name == "RequestFulfilled":
        state.add_fulfilment(
            int(a["requestId"]),
            str(a["node"]),
            bytes(a["outputHash"]),
            bytes(a["traceRoot"]),
            bytes(a["output"]),
            event.timestamp,
            event.block,
        )
    elif event.name == "ClaimSlashed":
        state.mark_slashed(bytes(a["claimKey"]), event.block)
    elif event.name == "DataChallenged":
        state.add_dispute(
            DATA,
            int(a["challengeId"]),
            bytes(a["claimKey"]),
            int(a["index"]),
            str(a["challenger"]),
            int(a["deadline"]),
        )
    elif event.name == "DataPublished":
        state.add_dispute(DATA, int(a["challengeId"]), bytes(a["claimKey"]), int(a["index"]), "", 0)
        state.close_dispute(DATA, int(a["challengeId"]))
        state.add_published(bytes(a["claimKey"]), int(a["index"]), bytes(a["vector"]))
    elif event.name == "DataChallengeTimedOut":
        state.close_dispute(DATA, int(a["challengeId"]))
    elif event.name == "ProofDemanded":
        state.add_dispute(
            PROOF,
            int(a["demandId"]),
            bytes(a["claimKey"]),
            int(a["partitionIndex"]),
            str(a["challenger"]),
            int(a["deadline"]),
        )
    elif event.name in ("ProofAccepted", "ProofRejected", "ProofDemandTimedOut"):
        state.close_dispute(PROOF, int(a["demandId"]))


@dataclass
class Watcher:
    """
    Moves ``state``'s cursor forward over ``source``'s events.

    ``start_block`` is where an empty state starts (the deployment's block). ``sleep`` is injected
    so tests do not wait.
    """

    source: EventSource
    state: ChallengerState
    challenge_window: int
    start_block: int = 0
    max_range: int = 2_000
    max_retries: int = 5
    backoff_s: float = 0.5
    max_backoff_s: float = 8.0
    sleep: Callable[[float], None] = field(default=time.sleep)

    def _retrying(self, what: str, fn: Callable[[], Any]) -> Any:
        delay = self.backoff_s
        for attempt in range(self.max_retries + 1):
            try:
                return fn()
            except Exception as exc:  # RPC errors come in many types
                if attempt == self.max_retries:
                    raise
                log.warning("watcher: %s failed (%s); retrying in %.2f s", what, exc, delay)
                self.state.bump("rpc_retries")
                self.sleep(delay)
                delay = min(delay * 2, self.max_backoff_s)
        raise AssertionError("unreachable")

    def poll(self) -> int:
        """
        Processes every range from the cursor to the head; returns the number of events applied.

        Raises the last RPC error when retries are exhausted (the cursor stays at the last range
        fully applied).
        """
        head = int(self._retrying("eth_blockNumber", self.source.head))
        cursor = self.state.cursor()
        start = self.start_block if cursor is None else cursor + 1
        applied = 0
        while start <= head:
            end = min(head, start + self.max_range - 1)
            events = self._retrying(
                f"logs {start}..{end}", functools.partial(self.source.events, start, end)
            )
            with self.state.transaction():
                for event in events:
                    apply_event(self.state, event, self.challenge_window)
                self.state.set_cursor(end)
            applied += len(events)
            start = end + 1
        return applied
