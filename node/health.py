"""
Health: is the chain reachable, the deployment loaded, and every served model registered?

Introduction
------------
:class:`ChainHealth` answers ``GET /healthz`` from the node's chain connection: the RPC endpoint
answers with the deployment's chain id, the deployment's contracts have code, and each served model
is registered in the deployment's ``ModelRegistry`` under the id the node computes from its model
file (the registry's id is a hash of headers and weight roots, so a registered id that equals the
node's means the same model). The API depends on the :class:`HealthProbe` protocol, so unit tests
can swap in a fake.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

from web3 import Web3

from .chainio import NodeChain
from .runtime import ModelRuntime


@dataclass(frozen=True)
class HealthCheck:
    """One check: passed or not, and why."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class HealthReport:
    """Every check; healthy when all passed."""

    checks: tuple[HealthCheck, ...]
    info: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


class HealthProbe(Protocol):
    """Something that can tell whether the node is healthy."""

    def report(self) -> HealthReport: ...


class ChainHealth:
    """Health from the live chain; results are cached for ``ttl`` seconds."""

    def __init__(self, chain: NodeChain, runtime: ModelRuntime, *, ttl: float = 2.0) -> None:
        self.chain = chain
        self.runtime = runtime
        self.ttl = ttl
        self._cached: tuple[float, HealthReport] | None = None

    def report(self) -> HealthReport:
        now = time.monotonic()
        if self._cached is not None and now - self._cached[0] < self.ttl:
            return self._cached[1]
        report = self._check()
        self._cached = (now, report)
        return report

    def _check(self) -> HealthReport:
        checks: list[HealthCheck] = []
        info = {
            "node": self.chain.address,
            "deployment_chain_id": str(self.chain.deployment.chain_id),
        }
        try:
            chain_id = self.chain.chain_id()
            head, _ = self.chain.head()
        except Exception as exc:
            checks.append(HealthCheck("chain", False, f"RPC {self.chain.client.rpc_url}: {exc}"))
            return HealthReport(tuple(checks), info)
        expected = self.chain.deployment.chain_id
        checks.append(
            HealthCheck(
                "chain",
                chain_id == expected,
                f"chain id {chain_id}, block {head}"
                + ("" if chain_id == expected else f"; the deployment is for chain id {expected}"),
            )
        )
        info["block"] = str(head)
        market = self.chain.deployment.address("InferenceMarket")
        try:
            has_code = bool(self.chain.w3.eth.get_code(Web3.to_checksum_address(market)))
        except Exception as exc:
            has_code = False
            market = f"{market} ({exc})"
        checks.append(
            HealthCheck(
                "deployment",
                has_code,
                f"InferenceMarket at {market}" + ("" if has_code else " has no code"),
            )
        )
        for model_id in self.runtime.models:
            name = f"model 0x{model_id.hex()}"
            try:
                registered = self.chain.is_registered(model_id)
                detail = "registered" if registered else "not registered in ModelRegistry"
            except Exception as exc:
                registered, detail = False, f"registry check failed: {exc}"
            checks.append(HealthCheck(name, registered, detail))
        return HealthReport(tuple(checks), info)
