"""
The deployments file: where a deployment's contracts live, read by node and challenger.

Introduction
------------
``opzk deploy`` writes one JSON file per deployment: the chain id, the RPC URL it was made through,
the deployer, the block of the first deployment, the preset and its parameters, each contract's
address and ABI, and ``abisHash`` (sha256 of the ABIs, :func:`hash_abis`). A reader checks the
format version and that the ABIs it carries still hash to ``abisHash``, so a hand-edited or
truncated file is refused rather than half-used.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from protocol.errors import OpzkError
from protocol.params import MarketParams

from . import paths

FORMAT_VERSION = 1
"""Version of the file layout; bumped on any incompatible change."""

CONTRACT_NAMES = (
    "StakeManager",
    "ModelRegistry",
    "InferenceMarket",
    "FraudProofGame",
    "DataAvailabilityGame",
    "ProofDemandGame",
    "SumKzgVerifier",
    "SumKzgStackVerifier",
)
"""Every contract of a deployment, in deployment order (``SumKzgVerifier``: the on-chain verifier
of SumKZG-ML proofs, docs/proof-system.md, named as the verifier of one-layer sensitive partitions;
``SumKzgStackVerifier``: the verifier of two-layer ones, docs/proof-system-stack.md, built on the
former)."""


class DeploymentsFileError(OpzkError):
    """The deployments file is missing, malformed or inconsistent."""


def hash_abis(abis: dict[str, Any]) -> str:
    """sha256 over the canonical JSON of the ABIs sorted by contract name (hex, no 0x)."""
    canonical = json.dumps(
        {name: abis[name] for name in sorted(abis)}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def default_path(chain_id: int) -> Path:
    """
    ``deployments/local/<id>.json`` on Anvil's chain id, else ``deployments/<id>.json``.

    The local directory is ignored by git: an Anvil chain lives only as long as its process.
    """
    from .anvil import ANVIL_CHAIN_ID

    base = paths.repo_root() / "deployments"
    return (
        base / "local" / f"{chain_id}.json"
        if chain_id == ANVIL_CHAIN_ID
        else base / f"{chain_id}.json"
    )


@dataclass(frozen=True)
class Deployment:
    """A deployment as recorded in its file."""

    chain_id: int
    rpc_url: str
    deployer: str
    start_block: int
    preset: str
    params: MarketParams
    addresses: dict[str, str]
    abis: dict[str, list[dict[str, Any]]]

    @property
    def abis_hash(self) -> str:
        """:func:`hash_abis` of this deployment's ABIs."""
        return hash_abis(self.abis)

    def address(self, name: str) -> str:
        """The address of contract ``name``."""
        if name not in self.addresses:
            raise DeploymentsFileError(f"the deployment has no contract named {name!r}")
        return self.addresses[name]

    def to_json(self) -> dict[str, Any]:
        """The file's JSON content."""
        return {
            "format": FORMAT_VERSION,
            "chainId": self.chain_id,
            "rpcUrl": self.rpc_url,
            "deployer": self.deployer,
            "startBlock": self.start_block,
            "preset": self.preset,
            "params": self.params.as_json(),
            "abisHash": self.abis_hash,
            "contracts": self.addresses,
            "abis": self.abis,
        }

    def save(self, path: Path) -> None:
        """Writes the file atomically (a reader never sees half a file)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        tmp.replace(path)


def load_deployment(path: Path) -> Deployment:
    """
    Reads and checks a deployments file.

    Raises :class:`DeploymentsFileError` if the file is missing, not JSON, of another format
    version, lacks a contract, or its ABIs do not hash to its ``abisHash``.
    """
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise DeploymentsFileError(
            f"no deployments file at {path}; run `opzk deploy` first (or pass --deployments)"
        ) from exc
    except json.JSONDecodeError as exc:
        raise DeploymentsFileError(f"{path} is not valid JSON: {exc}") from exc
    try:
        if data["format"] != FORMAT_VERSION:
            raise DeploymentsFileError(
                f"{path} has format {data['format']}, this version reads {FORMAT_VERSION}"
            )
        deployment = Deployment(
            chain_id=int(data["chainId"]),
            rpc_url=str(data["rpcUrl"]),
            deployer=str(data["deployer"]),
            start_block=int(data["startBlock"]),
            preset=str(data["preset"]),
            params=MarketParams.from_json(data["params"]),
            addresses={str(k): str(v) for k, v in data["contracts"].items()},
            abis=dict(data["abis"]),
        )
        recorded_hash = str(data["abisHash"])
    except (KeyError, TypeError, ValueError) as exc:
        raise DeploymentsFileError(f"{path} is malformed: {exc!r}") from exc
    missing = [name for name in CONTRACT_NAMES if name not in deployment.addresses]
    if missing:
        raise DeploymentsFileError(
            f"{path} lacks contracts {missing} (written by an older `opzk deploy`? deploy again)"
        )
    if deployment.abis_hash != recorded_hash:
        raise DeploymentsFileError(f"{path}: the ABIs do not match abisHash (edited by hand?)")
    return deployment
