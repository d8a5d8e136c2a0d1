"""
``opzk challenger``: run a challenger bot.

``opzk challenger run --config challenger.toml`` loads
:class:`~challenger.config.ChallengerSettings` (config file, then ``OPZK_CHALLENGER_*``
environment variables), refuses to start when the PoSP condition fails for the deployment's
preset, and runs the jobs until interrupted.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the ``challenger`` sub-command."""
    p = subparsers.add_parser(
        "challenger",
        help="run a challenger bot that re-executes sampled claims and disputes wrong ones",
        description=(
            "Follow the marketplace's events, sample claims with a secret-keyed rule, fetch and "
            "re-execute their traces, and send fraud proofs, data-availability challenges and "
            "credit withdrawals."
        ),
    )
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    run = sub.add_parser("run", help="run the challenger until interrupted")
    run.add_argument("--config", type=Path, help="TOML or JSON settings file")
    run.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    run.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from .config import load_settings
    from .service import build_challenger, run_service

    logging.basicConfig(
        level=getattr(logging, str(args.log_level).upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    settings = load_settings(args.config)
    challenger = build_challenger(settings)
    run_service(challenger, settings.poll_interval)
    return 0
