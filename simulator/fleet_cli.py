"""Registers ``simulator fleet`` (see :mod:`simulator.fleet`)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from tunnel.cliutil import EXIT_CONFIG, add_common_arguments

__all__ = ["register"]


async def _run(args: argparse.Namespace, stop: asyncio.Event) -> int:
    if not args.claim_none and (args.account is None or args.password is None):
        print(  # noqa: T201 - a usage error of a command-line tool
            "simulator fleet: give --account and --password to claim the devices, or --claim-none",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    # The fleet pulls in the product daemons: imported only when it runs.
    from simulator.fleet import DeviceKind, FleetOptions, run_fleet  # noqa: PLC0415

    options = FleetOptions(
        gateway_url=args.gateway,
        ca_file=args.ca,
        count=args.count,
        kind=DeviceKind(args.kind),
        state_dir=args.state_dir.resolve(),
        account=None if args.claim_none else args.account,
        password=None if args.claim_none else args.password,
        ramp_s=args.ramp,
    )
    return await run_fleet(options, stop, print_json=args.print_json)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def register(subparsers: Any) -> None:
    """Add the ``fleet`` subcommand to ``simulator``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "fleet",
        help="run N devices (CCU add-ons or inverter agents) against a gateway",
        description="Start N devices (the real add-on or agent code against simulated "
        "hardware) against a gateway for load and storm tests, with a progress display.",
    )
    add_common_arguments(parser)
    parser.set_defaults(log_level="WARNING")  # keeps the progress line readable
    parser.add_argument("--gateway", required=True, metavar="URL", help="gateway base URL")
    parser.add_argument("--ca", type=Path, metavar="FILE", help="CA file to verify the gateway")
    parser.add_argument("--count", type=_positive, default=10, help="devices (default: 10)")
    parser.add_argument(
        "--kind", choices=["ccu", "agent"], default="ccu", help="CCU add-ons or inverter agents"
    )
    parser.add_argument("--account", metavar="LOGIN", help="portal login that claims the codes")
    parser.add_argument("--password", metavar="PW", help="password of --account")
    parser.add_argument(
        "--claim-none", action="store_true", help="claim nothing, only show the pairing codes"
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path("state/fleet"),
        help="one state folder per device below this (kept: a second run reuses identities)",
    )
    parser.add_argument(
        "--ramp", type=float, default=0.0, metavar="S", help="spread the starts over S seconds"
    )
    parser.add_argument(
        "--print-json", action="store_true", help="print one JSON summary line at the end"
    )
    parser.set_defaults(handler=_run)
