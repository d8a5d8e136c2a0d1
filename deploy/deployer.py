"""
Deploying the marketplace: compile, deploy in dependency order, wire roles, record.

Introduction
------------
:func:`deploy_marketplace` runs the whole sequence against any RPC endpoint:

1. refuse Anvil's well-known development keys on any chain other than Anvil's (31337);
2. compile (:func:`deploy.compiler.compile_contracts`, cached);
3. refuse an account that cannot pay for the deployment, saying how much it needs;
4. deploy ``StakeManager``, ``ModelRegistry``, ``InferenceMarket`` and the three dispute games, each
   built from the preset's :class:`~protocol.params.MarketParams`, then the proof verifier
   ``SumKzgVerifier`` (:data:`PROOF_VERIFIER`, no constructor arguments: its setup is pinned in
   its code), which model owners name as the verifier of their one-layer sensitive partitions, and
   ``SumKzgStackVerifier`` (:data:`STACK_VERIFIER`, built on that ``SumKzgVerifier``: it accepts
   a two-layer partition whose two matrices ``P`` and ``V`` the base verifier recorded), named as
   the verifier of two-layer sensitive partitions (docs/proof-system-stack.md);
5. give the dispute games their roles in ``StakeManager`` (slash, bonds) and ``InferenceMarket``
   (open, close and convict claims): each wiring call can be made once, by the deployer;
6. return the :class:`~deploy.deployments.Deployment` (the caller saves it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opzk.chain import ChainClient
from protocol.errors import OpzkError
from protocol.params import MarketParams, validate_params

from . import paths
from .anvil import ANVIL_CHAIN_ID, ANVIL_DEFAULT_KEYS
from .compiler import CompiledContract, compile_contracts
from .deployments import CONTRACT_NAMES, Deployment

DEPLOY_GAS_BUDGET = 21_000_000
"""Upper bound on the gas of a whole deployment (a test checks the real figure stays below it):
about 17.5M with both verifiers, and still below it were ``SumKzgStackVerifier`` to reach the
EIP-170 code-size limit."""

DISPUTE_GAMES = ("FraudProofGame", "DataAvailabilityGame", "ProofDemandGame")

PROOF_VERIFIER = "SumKzgVerifier"
"""The deployed :class:`IProofVerifier` of one-layer sensitive partitions (docs/proof-system.md),
and the registry of every weight commitment's well-formedness proof."""

STACK_VERIFIER = "SumKzgStackVerifier"
"""The deployed :class:`IProofVerifier` of two-layer sensitive partitions
(docs/proof-system-stack.md), constructed with :data:`PROOF_VERIFIER`'s address."""

MAX_CODE_SIZE = 24_576
"""EIP-170: the largest runtime code a contract may have on Ethereum mainnet and most L2s."""


class WellKnownKeyError(OpzkError):
    """One of Anvil's public development keys was offered for a chain other than Anvil's."""


class UnderfundedKeyError(OpzkError):
    """The deploying account cannot pay for the deployment."""


class PresetError(OpzkError):
    """A preset file is missing or malformed."""


class CodeSizeError(OpzkError):
    """A contract's runtime code is over the EIP-170 limit (:data:`MAX_CODE_SIZE`)."""


@dataclass(frozen=True)
class Preset:
    """A named set of market parameters (``deploy/presets/<name>.json``)."""

    name: str
    description: str
    params: MarketParams


def presets_dir() -> Path:
    """Directory of the shipped presets."""
    return paths.repo_root() / "deploy" / "presets"


def load_preset(name_or_path: str) -> Preset:
    """
    Loads a shipped preset by name (``local``, ``testnet``) or any preset file by path, and
    validates it with :func:`protocol.params.validate_params`.
    """
    path = Path(name_or_path)
    if not path.suffix:
        path = presets_dir() / f"{name_or_path}.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError as exc:
        shipped = sorted(p.stem for p in presets_dir().glob("*.json"))
        raise PresetError(f"no preset {name_or_path!r}; shipped presets: {shipped}") from exc
    except json.JSONDecodeError as exc:
        raise PresetError(f"preset {path} is not valid JSON: {exc}") from exc
    if "params" not in data:
        raise PresetError(f"preset {path} has no 'params' object")
    params = MarketParams.from_json(data["params"])
    validate_params(params)
    return Preset(name=path.stem, description=str(data.get("description", "")), params=params)


def check_key_allowed(client: ChainClient) -> None:
    """Raises :class:`WellKnownKeyError` if a public Anvil key is used off Anvil's chain id."""
    if client.account is None or client.chain_id == ANVIL_CHAIN_ID:
        return
    if client.account.key.hex().removeprefix("0x") in {
        k.removeprefix("0x") for k in ANVIL_DEFAULT_KEYS
    }:
        raise WellKnownKeyError(
            f"refusing to use Anvil's public development key {client.account.address} on chain id "
            f"{client.chain_id}: anyone can spend from it. Pass your own key with --private-key "
            "or OPZK_PRIVATE_KEY."
        )


def check_funds(client: ChainClient) -> None:
    """Raises :class:`UnderfundedKeyError` if the deployer cannot pay DEPLOY_GAS_BUDGET gas."""
    block = client.w3.eth.get_block("latest")
    base_fee = int(block.get("baseFeePerGas", 0) or 0)
    gas_price = 2 * base_fee + int(client.w3.eth.max_priority_fee)
    needed = DEPLOY_GAS_BUDGET * gas_price
    have = client.balance(client.address)
    if have < needed:
        raise UnderfundedKeyError(
            f"account {client.address} has {have / 1e18:.6f} ETH; deploying needs about "
            f"{needed / 1e18:.6f} ETH ({DEPLOY_GAS_BUDGET:,} gas at {gas_price / 1e9:.3f} gwei)"
        )


def check_code_sizes(contracts: dict[str, CompiledContract]) -> None:
    """
    Refuses a build in which a contract of the deployment has runtime code over the EIP-170 limit.

    Raises
    ------
    CodeSizeError
        Naming the contract, its size and the limit.
    """
    for name in CONTRACT_NAMES:
        size = len(contracts[name].deployed_bytecode.removeprefix("0x")) // 2
        if size > MAX_CODE_SIZE:
            raise CodeSizeError(
                f"{name} has {size:,} bytes of runtime code, over the EIP-170 limit of "
                f"{MAX_CODE_SIZE:,}: chains that enforce it would refuse the deployment"
            )


def deploy_marketplace(
    client: ChainClient,
    preset: Preset,
    *,
    compiled: dict[str, CompiledContract] | None = None,
) -> Deployment:
    """
    Deploys and wires every contract of the marketplace with ``preset``; returns the record.

    Raises :class:`WellKnownKeyError`, :class:`UnderfundedKeyError`, :class:`CodeSizeError`
    (before anything is sent), or the :mod:`protocol.errors` exception of a reverted step (nothing
    after it is sent).
    """
    check_key_allowed(client)
    check_funds(client)
    contracts = compiled if compiled is not None else compile_contracts()
    check_code_sizes(contracts)
    params = preset.params.as_abi_tuple()
    start_block = int(client.w3.eth.block_number) + 1
    addresses: dict[str, str] = {}

    def deploy(name: str, *args: Any) -> str:
        c = contracts[name]
        address, _ = client.deploy(c.abi, c.bytecode, *args)
        addresses[name] = address
        return address

    stakes = deploy("StakeManager", params)
    registry = deploy("ModelRegistry")
    market = deploy("InferenceMarket", registry, stakes, params)
    games = [deploy(name, market, params) for name in DISPUTE_GAMES]
    verifier = deploy(PROOF_VERIFIER)
    deploy(STACK_VERIFIER, verifier)

    stake_manager = client.contract(stakes, contracts["StakeManager"].abi)
    client.send(stake_manager.functions.wireDisputeGames(games))
    inference_market = client.contract(market, contracts["InferenceMarket"].abi)
    client.send(inference_market.functions.wireDisputeGames(games))

    return Deployment(
        chain_id=client.chain_id,
        rpc_url=client.rpc_url,
        deployer=client.address,
        start_block=start_block,
        preset=preset.name,
        params=preset.params,
        addresses={name: addresses[name] for name in CONTRACT_NAMES},
        abis={name: list(contracts[name].abi) for name in CONTRACT_NAMES},
    )
