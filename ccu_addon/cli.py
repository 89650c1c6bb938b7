"""``ccu-addon``: the daemon that runs on the CCU."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from ccu_addon.config import load_addon_config
from tunnel.cliutil import (
    add_common_arguments,
    prepare_tunnel_end,
    run_async_command,
    run_guarded,
    setup_logging,
)

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(
        prog="ccu-addon",
        description="CloudConnector add-on for HomeMatic CCU hubs: tunnel, dashboard, events.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="run the add-on daemon")
    add_common_arguments(run)
    run.add_argument(
        "--pid-file",
        type=Path,
        metavar="FILE",
        help="write the daemon's pid here once its dashboard listens (removed at exit)",
    )
    check = sub.add_parser("check-config", help="validate the configuration file and exit")
    add_common_arguments(check)
    return parser


EXIT_RESTART = 75
"""``ccu_addon.app.EXIT_RESTART``, repeated so that ``--help`` need not import the daemon."""


async def _run(args: argparse.Namespace, stop: asyncio.Event) -> int:
    from ccu_addon.app import run_addon  # noqa: PLC0415 - keeps --help fast

    config = load_addon_config(args.config)
    return await run_addon(config, stop, pid_file=args.pid_file, restart_after_enrolment=True)


def _restart() -> None:
    """Replace this process by a fresh daemon with the same command line (and pid).

    After the first enrolment: the new process finds the certificate and runs without ever
    importing ``cryptography`` (about 8 MB less RSS for the rest of its life). The event
    loop has ended and every socket is closed-on-exec, so nothing leaks into the new image.
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    # S606: exec of our own interpreter with our own, unchanged command line; no shell wanted.
    os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])  # noqa: S606


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``ccu-addon``."""
    args = build_parser().parse_args(argv)
    setup_logging(args.log_level)

    def run() -> int:
        if args.command == "check-config":
            load_addon_config(args.config)
            print("ccu-addon: configuration ok")
            return 0
        # Before the loop opens the tunnel's TLS connection (tunnel/tls_buffers.py, heap.py).
        prepare_tunnel_end()
        return run_async_command(lambda stop: _run(args, stop))

    status = run_guarded("ccu-addon", run)
    if status == EXIT_RESTART:
        _restart()
    return status


if __name__ == "__main__":
    sys.exit(main())
