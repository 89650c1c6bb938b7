"""Registers ``simulator fleet`` (see :mod:`simulator.fleet`).

``--config FILE`` reads the same settings from TOML (:class:`FleetConfig`, example in
``docs/config/simulator-fleet.toml``); options given on the command line win.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from tunnel.cliutil import EXIT_CONFIG, add_common_arguments
from tunnel.tomlconfig import load_config

__all__ = ["FleetConfig", "build_config", "register"]


class Kind(StrEnum):
    """What each simulated device runs."""

    CCU = "ccu"
    AGENT = "agent"


@dataclass(frozen=True, slots=True, kw_only=True)
class FleetConfig:
    """What ``simulator fleet`` runs (``--config`` TOML; command-line options win)."""

    gateway: str | None = None
    """Base URL of the gateway (``https://host:port/``); required here or as ``--gateway``."""
    ca: Path | None = None
    """CA file to verify the gateway with; unset: the system store."""
    count: int = 10
    """Devices to run."""
    kind: Kind = Kind.CCU
    """``ccu`` (CCU add-ons) or ``agent`` (inverter agents)."""
    account: str | None = None
    """Portal login that claims the pairing codes."""
    password: str | None = None
    """Password of ``account``."""
    claim_none: bool = False
    """Claim nothing, only show the pairing codes."""
    state_dir: Path = Path("state/fleet")
    """One state folder per device below this (kept: a second run reuses identities)."""
    ramp: float = 0.0
    """Spread the device starts over this many seconds."""

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"count must be at least 1, got {self.count}")
        if self.ramp < 0:
            raise ValueError(f"ramp must not be negative, got {self.ramp}")


def build_config(args: argparse.Namespace, base: FleetConfig | None = None) -> FleetConfig:
    """``base`` (from ``--config`` or the defaults) with the options given on the command line."""
    names = {field.name for field in fields(FleetConfig)}
    changes = {
        option: value
        for option, value in vars(args).items()
        if option in names and value is not None
    }
    return replace(base or FleetConfig(), **changes)


def _usage_error(message: str) -> int:
    print(f"simulator fleet: {message}", file=sys.stderr)  # noqa: T201 - a command-line tool
    return EXIT_CONFIG


async def _run(args: argparse.Namespace, stop: asyncio.Event) -> int:
    base = load_config(args.config, FleetConfig) if args.config else None
    config = build_config(args, base)
    if config.gateway is None:
        return _usage_error("give --gateway (or gateway in --config)")
    if not config.claim_none and (config.account is None or config.password is None):
        return _usage_error("give --account and --password to claim the devices, or --claim-none")
    # The fleet pulls in the product daemons: imported only when it runs.
    from simulator.fleet import DeviceKind, FleetOptions, run_fleet  # noqa: PLC0415

    options = FleetOptions(
        gateway_url=config.gateway,
        ca_file=config.ca,
        count=config.count,
        kind=DeviceKind(config.kind.value),
        state_dir=config.state_dir.resolve(),
        account=None if config.claim_none else config.account,
        password=None if config.claim_none else config.password,
        ramp_s=config.ramp,
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
        "hardware) against a gateway for load and storm tests, with a progress display. "
        "Every option can also come from --config (TOML, docs/config/simulator-fleet.toml); "
        "options given here win.",
    )
    add_common_arguments(parser)
    parser.set_defaults(log_level="WARNING")  # keeps the progress line readable
    parser.add_argument("--gateway", metavar="URL", help="gateway base URL")
    parser.add_argument("--ca", type=Path, metavar="FILE", help="CA file to verify the gateway")
    parser.add_argument("--count", type=_positive, help="devices (default: 10)")
    parser.add_argument(
        "--kind",
        type=Kind,
        choices=list(Kind),
        help="CCU add-ons or inverter agents (default: ccu)",
    )
    parser.add_argument("--account", metavar="LOGIN", help="portal login that claims the codes")
    parser.add_argument("--password", metavar="PW", help="password of --account")
    parser.add_argument(
        "--claim-none",
        action="store_true",
        default=None,
        help="claim nothing, only show the pairing codes",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        help="one state folder per device below this (default: state/fleet; kept: a second "
        "run reuses identities)",
    )
    parser.add_argument("--ramp", type=float, metavar="S", help="spread the starts over S seconds")
    parser.add_argument(
        "--print-json", action="store_true", help="print one JSON summary line at the end"
    )
    parser.set_defaults(handler=_run)
