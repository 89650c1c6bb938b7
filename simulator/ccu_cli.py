"""Registers ``simulator ccu``; lives outside ``simulator/ccu/`` as it uses the CLI plumbing.

The simulated CCU itself (``simulator.ccu``) imports no product package; only this glue
reuses ``--config``/``--log-level`` handling and the TOML loader of ``tunnel``.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from simulator.ccu import cli as ccu_cli
from simulator.ccu.config import CcuConfig
from tunnel.cliutil import add_common_arguments
from tunnel.tomlconfig import load_config

__all__ = ["register"]


async def _run(args: argparse.Namespace, stop: asyncio.Event) -> int:
    base = load_config(args.config, CcuConfig) if args.config else None
    return await ccu_cli.run(args, stop, base)


def register(subparsers: Any) -> None:
    """Add the ``ccu`` subcommand to ``simulator``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "ccu", help="run a simulated HomeMatic CCU (WebUI, JSON-RPC, XML-RPC)"
    )
    add_common_arguments(parser)
    ccu_cli.add_arguments(parser)
    parser.set_defaults(handler=_run)
