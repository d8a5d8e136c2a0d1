"""
The ``opzk`` command: one entry point for every user-facing job.

Each sub-command lives with the package it drives and registers itself with ``add_parser``; this
module only dispatches, and turns expected errors into a one-line message and a non-zero exit.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from protocol.errors import OpzkError
from protocol.exceptions import ProtocolError

EXIT_ERROR = 1


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every sub-command."""
    from challenger import cli as challenger_cli
    from deploy import cli as deploy_cli
    from node import cli as node_cli

    from . import demo

    parser = argparse.ArgumentParser(
        prog="opzk",
        description="opzk: an optimistic zkML verification marketplace on an EVM chain.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    deploy_cli.add_parser(subparsers)
    challenger_cli.add_parser(subparsers)
    demo.add_parser(subparsers)
    node_cli.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    from deploy.compiler import CompilationError

    try:
        code: int = args.run(args)
    except (OpzkError, ProtocolError, CompilationError, OSError) as exc:
        print(f"opzk {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
