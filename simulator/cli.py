"""``simulator``: simulated hardware, device fleets and the whole-system demo.

Each subcommand lives in its own module with a ``register(subparsers)`` function that adds
its parser and sets ``handler`` to an ``async (args, stop) -> int`` coroutine function.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from pathlib import Path

from tunnel.cliutil import add_common_arguments, run_async_command, run_guarded, setup_logging

__all__ = ["main"]

#: modules that register further subcommands (``register(subparsers)``)
SUBCOMMAND_MODULES: tuple[str, ...] = (
    "simulator.ccu_cli",
    "simulator.inverter_cli",
    "simulator.fleet_cli",
    "simulator.bank",
    "simulator.satellite",
    "simulator.payments_cli",
    "simulator.cluster",
)


async def _demo(args: argparse.Namespace, stop: asyncio.Event) -> int:
    from simulator.demo import run_demo  # noqa: PLC0415 - the demo pulls in product code

    return await run_demo(args.state_dir.resolve(), args.port, stop, print_json=args.print_json)


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(
        prog="simulator",
        description="Simulated CCU and SunSpec inverters, device fleets, and the demo.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = sub.add_parser("demo", help="run the whole system on this machine")
    add_common_arguments(demo)
    demo.add_argument("--state-dir", type=Path, default=Path("state/demo"), help="state folder")
    demo.add_argument("--port", type=int, default=8443, help="gateway HTTPS port (0: any)")
    demo.add_argument(
        "--print-json", action="store_true", help="print URLs and logins as one JSON object"
    )
    # the demo prints where to look; only warnings in between, unless asked for more
    demo.set_defaults(handler=_demo, log_level="WARNING")
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``simulator``."""
    args = build_parser().parse_args(argv)
    setup_logging(args.log_level)
    handler = args.handler

    def run() -> int:
        return run_async_command(lambda stop: handler(args, stop))

    return run_guarded("simulator", run)


if __name__ == "__main__":
    sys.exit(main())
