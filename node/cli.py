"""
``opzk node``: run an inference node, deposit its stake, register its models.

- ``opzk node run --config FILE``: serve the API and run the batcher, watcher, responder and
  finalizer until SIGTERM/SIGINT. Refuses to start below the minimum stake.
- ``opzk node stake --amount ETH --config FILE``: deposit stake (the node never stakes by itself).
- ``opzk node register-model --config FILE``: register the configured models that the registry does
  not know yet (the node's account becomes their owner). A model with sensitive partitions is
  registered with the deployment's ``SumKzgVerifier`` (one-layer partitions) and
  ``SumKzgStackVerifier`` (two-layer partitions) after its commitments are proven well-formed,
  from the commitment sidecar next to the model file (:mod:`models.sensitive`).
  ``--sensitive-layer N`` first makes layer ``N`` of each configured model private: it writes the
  model with that layer as a sensitive partition and its secret commitment sidecar (mode 0600) under
  ``<data_dir>/models/`` (or ``--out DIR``), reusing them when they are already there, and prints
  the path to serve. ``--sensitive-layers A-B`` (``B = A + 1``) does the same for two consecutive
  layers as one two-layer partition (their intermediate activation hidden), registered with the
  deployment's ``SumKzgStackVerifier`` after both of its matrices are proven well-formed.
- ``opzk node info --config FILE``: address, stake, models and whether they are registered.

``python -m node …`` is the same as ``opzk node …``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

from protocol.errors import OpzkError

from .settings import CONFIG_ENV, NodeSettings, load_settings

if TYPE_CHECKING:
    from models.sensitive import PartitionCommitment
    from protocol.model import QuantizedModel

WEI_PER_ETH = 10**18


class AmountError(OpzkError):
    """An ETH amount that is not a positive number."""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the ``node`` sub-command and its own sub-commands."""
    p = subparsers.add_parser(
        "node",
        help="run an inference node, stake for it, register its models",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="node_command", required=True, metavar="NODE_COMMAND")

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument(
            "--config", type=Path, help=f"TOML or JSON settings file (default: ${CONFIG_ENV})"
        )
        q.add_argument("--rpc-url", help="JSON-RPC endpoint (overrides the settings)")
        q.add_argument("--deployments", type=Path, help="deployments file (overrides)")

    run_p = sub.add_parser("run", help="serve the API and commit results on-chain")
    common(run_p)
    run_p.add_argument("--host", help="listen address (overrides the settings)")
    run_p.add_argument("--port", type=int, help="listen port (overrides the settings)")
    run_p.set_defaults(run=run_command)

    stake_p = sub.add_parser("stake", help="deposit stake for the node's account")
    common(stake_p)
    stake_p.add_argument("--amount", required=True, help="ETH to deposit, e.g. 10 or 0.5")
    stake_p.set_defaults(run=stake_command)

    reg_p = sub.add_parser("register-model", help="register the configured models on-chain")
    common(reg_p)
    reg_p.add_argument(
        "--sensitive-layer",
        type=int,
        metavar="N",
        help="make layer N (1-based) of each model a private (sensitive) partition first",
    )
    reg_p.add_argument(
        "--sensitive-layers",
        metavar="A-B",
        help="make layers A and B = A+1 of each model one private two-layer partition first "
        "(e.g. 1-2)",
    )
    reg_p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="with --sensitive-layer(s): where the private model and its commitment sidecar go "
        "(default <data_dir>/models)",
    )
    reg_p.set_defaults(run=register_command)

    info_p = sub.add_parser("info", help="print the node's address, stake and models")
    common(info_p)
    info_p.set_defaults(run=info_command)


def settings_from(args: argparse.Namespace) -> NodeSettings:
    """Settings from ``--config`` (or ``$OPZK_NODE_CONFIG``), env and command-line overrides."""
    import os

    config = args.config or (Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None)
    overrides = {
        "rpc_url": getattr(args, "rpc_url", None),
        "deployments": getattr(args, "deployments", None),
        "host": getattr(args, "host", None),
        "port": getattr(args, "port", None),
    }
    return load_settings(config, **overrides)


def _config_hint(args: argparse.Namespace) -> str:
    return f"--config {args.config}" if args.config else "--config FILE"


def parse_eth(text: str) -> int:
    """``text`` ETH in wei; :class:`AmountError` unless a positive number with ≤ 18 decimals."""
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise AmountError(f"--amount {text!r} is not a number of ETH") from exc
    wei = amount * WEI_PER_ETH
    if not amount.is_finite() or amount <= 0 or wei != wei.to_integral_value():
        raise AmountError(f"--amount must be a positive number of ETH (≤ 18 decimals), not {text}")
    return int(wei)


def run_command(args: argparse.Namespace) -> int:
    """``opzk node run``."""
    from .service import NodeService, format_eth, run_node

    settings = settings_from(args)
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    service = NodeService.build(settings)
    stake = service.check_stake(_config_hint(args))
    log = logging.getLogger("node")
    log.info("node %s, active stake %s ETH", service.chain.address, format_eth(stake))
    for model_id in service.unregistered_models():
        log.warning(
            "model 0x%s is not registered on-chain (GET /healthz reports 503); register it with "
            "`opzk node register-model %s`",
            model_id.hex(),
            _config_hint(args),
        )
    if settings.serve_onchain:
        for model_id in service.ensure_serving():
            log.info("now serving on-chain requests of model 0x%s", model_id.hex())
    run_node(service)
    return 0


def _chain(args: argparse.Namespace) -> tuple[NodeSettings, object]:
    from .chainio import connect_node

    settings = settings_from(args)
    return settings, connect_node(settings.rpc_url, settings.key_hex, settings.deployments)


def stake_command(args: argparse.Namespace) -> int:
    """``opzk node stake``."""
    from .chainio import NodeChain
    from .service import format_eth

    wei = parse_eth(args.amount)
    _, chain = _chain(args)
    assert isinstance(chain, NodeChain)
    tx = chain.market.stake(wei)
    active = chain.active_stake()
    tx_hash = bytes(tx["transactionHash"]).hex()
    minimum = format_eth(chain.params.min_node_stake)
    print(
        f"staked {format_eth(wei)} ETH for {chain.address} (tx 0x{tx_hash}); "
        f"active stake {format_eth(active)} ETH, minimum {minimum} ETH"
    )
    return 0


def register_command(args: argparse.Namespace) -> int:
    """``opzk node register-model``."""
    from models.sensitive import load_sidecar, register_sensitive_model, sensitive_partitions

    from .chainio import NodeChain
    from .runtime import serve_model

    single = args.sensitive_layer
    stack = None if args.sensitive_layers is None else parse_layer_pair(args.sensitive_layers)
    if single is not None and stack is not None:
        raise SensitiveLayerError("give --sensitive-layer N or --sensitive-layers A-B, not both")
    if args.out is not None and single is None and stack is None:
        raise SensitiveLayerError("--out goes with --sensitive-layer N or --sensitive-layers A-B")
    settings, chain = _chain(args)
    assert isinstance(chain, NodeChain)
    for configured in settings.models:
        path, model = configured, serve_model(configured).model
        out = args.out if args.out is not None else settings.data_dir / "models"
        if single is not None:
            path, model = _private_variant(configured, model, single, out)
        elif stack is not None:
            path, model = _private_stack_variant(configured, model, stack[0], out)
        model_id = bytes(model.model_id())
        name = f"0x{model_id.hex()} ({path.name})"
        if chain.is_registered(model_id):
            print(f"model {name} is already registered")
            continue
        if sensitive_partitions(model):
            done = register_sensitive_model(chain.market, model, load_sidecar(path, model))
            stacked = {i for i, txs in (done.stack_commitment_txs or {}).items() if txs}
            proven = ", ".join(str(i) for i in sorted({*done.commitment_txs, *stacked}))
            verifiers = done.verifier
            if done.stack_verifier is not None:
                two = [i for i in sensitive_partitions(model) if _layers_of(model, i) == 2]
                one = [i for i in sensitive_partitions(model) if i not in two]
                verifiers = f"{done.stack_verifier} (two-layer partitions {two})"
                if one:
                    verifiers = f"{done.verifier} (one-layer {one}) and {verifiers}"
            print(
                f"registered model {name} as {chain.address}; sensitive partitions verified by "
                f"{verifiers} (commitments proven now: {proven or 'none (known)'})"
            )
            continue
        chain.market.register_model(model)
        print(f"registered model {name} as {chain.address}")
    return 0


class SensitiveLayerError(OpzkError):
    """``--sensitive-layer`` / ``--sensitive-layers`` cannot be applied to a configured model."""


def parse_layer_pair(text: str) -> tuple[int, int]:
    """
    ``"A-B"`` → ``(A, B)``: two consecutive layers (``B = A + 1``, ``A ≥ 1``).

    Raises
    ------
    SensitiveLayerError
        For anything else, saying what is accepted.
    """
    parts = text.split("-")
    try:
        first, last = (int(p) for p in parts) if len(parts) == 2 else (0, 0)
    except ValueError:
        first, last = 0, 0
    if first < 1 or last != first + 1:
        raise SensitiveLayerError(
            f"--sensitive-layers {text!r}: give two consecutive layers A-B with B = A + 1 (e.g. "
            "1-2): a sensitive partition of two layers is proven as one stack; use "
            "--sensitive-layer N for one layer"
        )
    return first, last


def _layers_of(model: QuantizedModel, partition: int) -> int:
    spec = model.partitions[partition]
    return spec.last_layer - spec.first_layer + 1


def _private_variant(
    path: Path, model: QuantizedModel, layer: int, out: Path
) -> tuple[Path, QuantizedModel]:
    """
    The model file to register with layer ``layer`` private: ``path`` itself when that layer is
    already a one-layer sensitive partition of it; else ``<out>/<stem>-sensitive-<layer>.opzkmodel``
    with its sidecar, reused when both exist (a new commitment would be a new model id), written
    otherwise.
    """
    from models.sensitive import make_sensitive, partition_of_layer
    from sumkzg import load_setup

    spec = model.partitions[partition_of_layer(model, layer)]
    if spec.sensitive:
        if spec.first_layer != spec.last_layer:
            raise SensitiveLayerError(
                f"{path}: layer {layer} is inside the sensitive partition of layers "
                f"{spec.first_layer}..{spec.last_layer} (use --sensitive-layers "
                f"{spec.first_layer}-{spec.last_layer} for a two-layer partition)"
            )
        return path, model
    target = out / f"{path.stem}-sensitive-{layer}{path.suffix or '.opzkmodel'}"

    def make() -> tuple[QuantizedModel, PartitionCommitment]:
        return make_sensitive(model, layer, load_setup())

    return _reuse_or_write(path, model, target, f"layer {layer}", make)


def _private_stack_variant(
    path: Path, model: QuantizedModel, first: int, out: Path
) -> tuple[Path, QuantizedModel]:
    """
    The model file to register with layers ``first`` and ``first + 1`` one private two-layer
    partition: ``path`` itself when they already are; else
    ``<out>/<stem>-sensitive-<first>-<first + 1>.opzkmodel`` with its sidecar, reused when both
    exist, written otherwise (:func:`models.sensitive.make_sensitive_stack`).
    """
    from models.sensitive import make_sensitive_stack, partition_of_layer
    from sumkzg import load_setup

    last = first + 1
    spec = model.partitions[partition_of_layer(model, first)]
    if spec.sensitive:
        if (spec.first_layer, spec.last_layer) != (first, last):
            raise SensitiveLayerError(
                f"{path}: layer {first} is already in the sensitive partition of layers "
                f"{spec.first_layer}..{spec.last_layer}"
            )
        return path, model
    target = out / f"{path.stem}-sensitive-{first}-{last}{path.suffix or '.opzkmodel'}"

    def make() -> tuple[QuantizedModel, PartitionCommitment]:
        return make_sensitive_stack(model, first, load_setup())

    return _reuse_or_write(path, model, target, f"layers {first}-{last}", make)


def _reuse_or_write(
    path: Path,
    model: QuantizedModel,
    target: Path,
    what: str,
    make: Callable[[], tuple[QuantizedModel, PartitionCommitment]],
) -> tuple[Path, QuantizedModel]:
    """
    ``target`` and its model when it exists and is ``model``'s weights (its sidecar must load);
    else the private model ``make()`` returns, written to ``target`` (mode 0600) with its sidecar.
    """
    import numpy as np

    from models.sensitive import load_sidecar, sidecar_path, write_sidecar
    from models.store import load_model, save_model

    if target.is_file():
        existing = load_model(target)
        same = len(existing.layers) == len(model.layers) and all(
            np.array_equal(a.weights, b.weights) and np.array_equal(a.biases, b.biases)
            for a, b in zip(existing.layers, model.layers, strict=True)
        )
        if not same:
            raise SensitiveLayerError(
                f"{target} exists but is not {path} with {what} private; move it away"
            )
        load_sidecar(target, existing)
        print(f"using the private model {target} (sidecar {sidecar_path(target)})")
        return target, existing
    private, commitment = make()
    target.parent.mkdir(parents=True, exist_ok=True)
    sidecar = write_sidecar(target, private, commitment)
    save_model(private, target)
    os.chmod(target, 0o600)  # it holds the private layers' weights
    print(
        f"wrote {target} ({what} private) and its commitment sidecar {sidecar}: keep both "
        f'secret and backed up; serve the model with models = ["{target}"]'
    )
    return target, private


def info_command(args: argparse.Namespace) -> int:
    """``opzk node info``."""
    from .chainio import NodeChain
    from .runtime import serve_model
    from .service import format_eth

    settings, chain = _chain(args)
    assert isinstance(chain, NodeChain)
    print(f"node        {chain.address} on chain {chain.client.chain_id} ({settings.rpc_url})")
    print(
        f"stake       {format_eth(chain.active_stake())} ETH active "
        f"(minimum {format_eth(chain.params.min_node_stake)} ETH)"
    )
    for path in settings.models:
        served = serve_model(path)
        state = "registered" if chain.is_registered(served.model_id) else "NOT registered"
        print(f"model       0x{served.model_id.hex()} {path} [{state}]")
    print(f"database    {settings.resolved_database_url}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m node …``: the same as ``opzk node …``."""
    from opzk.cli import main as opzk_main

    return opzk_main(["node", *(sys.argv[1:] if argv is None else argv)])
