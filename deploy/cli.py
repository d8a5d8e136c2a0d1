"""
``opzk deploy``: deploy the marketplace to a local Anvil node or any RPC endpoint.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from opzk.chain import connect
from protocol.errors import OpzkError

from .anvil import ANVIL_CHAIN_ID, ANVIL_DEFAULT_KEYS, AnvilNode
from .deployer import deploy_marketplace, load_preset
from .deployments import Deployment, default_path

PRIVATE_KEY_ENV = "OPZK_PRIVATE_KEY"


class MissingKeyError(OpzkError):
    """No key was given for a chain that is not Anvil's."""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the ``deploy`` sub-command."""
    p = subparsers.add_parser(
        "deploy",
        help="deploy the marketplace contracts and write a deployments file",
        description=(
            "Compile and deploy StakeManager, ModelRegistry, InferenceMarket and the dispute "
            "games, "
            "wire their roles, and write a deployments file that node and challenger read. Without "
            "--rpc-url, starts a local Anvil node, deploys to it and keeps it running until "
            "interrupted."
        ),
    )
    p.add_argument("--rpc-url", help="JSON-RPC endpoint (default: start a local Anvil node)")
    p.add_argument(
        "--private-key",
        help=f"deployer key (default: ${PRIVATE_KEY_ENV}; on Anvil, its first development key)",
    )
    p.add_argument(
        "--preset", default="local", help="preset name (local, testnet) or path to a preset file"
    )
    p.add_argument(
        "--out", type=Path, help="deployments file (default: deployments/<chain id>.json)"
    )
    p.add_argument("--port", type=int, default=8545, help="port of the started Anvil node")
    p.add_argument(
        "--block-time", type=float, default=None, help="Anvil block time in s (default: automine)"
    )
    p.add_argument(
        "--exit", action="store_true", help="with a started Anvil node: stop it after deploying"
    )
    p.set_defaults(run=run)


def _key_for(chain_id: int, given: str | None) -> str:
    key = given or os.environ.get(PRIVATE_KEY_ENV)
    if key:
        return key
    if chain_id == ANVIL_CHAIN_ID:
        return ANVIL_DEFAULT_KEYS[0]
    raise MissingKeyError(
        f"no deployer key for chain id {chain_id}: pass --private-key or set {PRIVATE_KEY_ENV}"
    )


def deploy_to(rpc_url: str, private_key: str | None, preset_name: str, out: Path | None) -> Path:
    """Deploys to ``rpc_url`` and writes the deployments file; returns its path."""
    preset = load_preset(preset_name)
    probe = connect(rpc_url)
    client = connect(rpc_url, _key_for(probe.chain_id, private_key))
    deployment = deploy_marketplace(client, preset)
    path = out or default_path(client.chain_id)
    deployment.save(path)
    _print_summary(deployment, path)
    return path


def _print_summary(d: Deployment, path: Path) -> None:
    print(f"deployed to chain {d.chain_id} via {d.rpc_url} (preset {d.preset!r}, by {d.deployer})")
    for name, address in d.addresses.items():
        print(f"  {name:<22} {address}")
    print(f"deployments file: {path}")


def run(args: argparse.Namespace) -> int:
    """Runs ``opzk deploy``."""
    if args.rpc_url:
        deploy_to(args.rpc_url, args.private_key, args.preset, args.out)
        return 0
    with AnvilNode(port=args.port, block_time=args.block_time) as anvil:
        deploy_to(anvil.rpc_url, args.private_key, args.preset, args.out)
        if args.exit:
            return 0
        print(f"Anvil is running at {anvil.rpc_url}; press Ctrl-C to stop it.", flush=True)
        try:
            while anvil.is_running():
                time.sleep(0.5)
        except KeyboardInterrupt:
            print("stopping Anvil", file=sys.stderr)
    return 0
