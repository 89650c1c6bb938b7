"""``inverter-agent``: polls inverters and pushes readings through the tunnel."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from inverter_agent.agent import Agent
from inverter_agent.config import load_agent_config
from tunnel.cliutil import (
    add_common_arguments,
    prepare_tunnel_end,
    run_async_command,
    run_guarded,
    setup_logging,
)
from tunnel.clock import SystemClock

__all__ = ["main"]

_LOGGER = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(
        prog="inverter-agent",
        description="Reads PV inverters over Modbus RTU/TCP (SunSpec) and sends the readings "
        "to the cloud gateway.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="run the agent")
    add_common_arguments(run)
    check = sub.add_parser("check-config", help="validate the configuration file and exit")
    add_common_arguments(check)
    return parser


async def _run(args: argparse.Namespace, stop: asyncio.Event) -> int:
    config = load_agent_config(args.config)
    config.state_dir.mkdir(parents=True, exist_ok=True)
    await Agent(config, clock=SystemClock()).run(stop)
    _LOGGER.info("inverter-agent stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``inverter-agent``."""
    args = build_parser().parse_args(argv)
    setup_logging(args.log_level)

    def run() -> int:
        if args.command == "check-config":
            load_agent_config(args.config)
            print("inverter-agent: configuration ok")
            return 0
        # Before the loop opens the tunnel's TLS connection (tunnel/tls_buffers.py, heap.py).
        prepare_tunnel_end()
        return run_async_command(lambda stop: _run(args, stop))

    return run_guarded("inverter-agent", run)


if __name__ == "__main__":
    sys.exit(main())
