# A command-line front end prints to the terminal:
# ruff: noqa: T201
"""``simulator inverters`` and ``simulator inverter-labels``: SunSpec inverters from the shell.

``simulator inverters --modbus-tcp 127.0.0.1:0 --count 3 --model 103 --seed 1 --print-json``
serves three inverters as unit ids 1..3 and prints one JSON line::

    {"transport": "tcp", "host": "127.0.0.1", "port": 40123, "model": 103,
     "inverters": [{"unit_id": 1, "serial": "...", "activation_code": "XXXXX-XXXXX", ...}]}

With ``--rtu pty`` (or a device path) it serves Modbus RTU instead and the JSON carries
``"transport": "rtu"`` and ``"path"``, the device a client opens.

``--config FILE`` reads the same settings from TOML (:class:`InvertersConfig`, example in
``docs/config/simulator-inverters.toml``); options given on the command line win.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from simulator.inverter import (
    DEMO_MANUFACTURER_KEY,
    PTY,
    Clock,
    InverterBus,
    InverterModel,
    RtuInverterServer,
    SerialLine,
    ShiftedClock,
    Site,
    SystemClock,
    TcpInverterServer,
    UsbBurst,
)
from simulator.inverter.faults import apply_faults, parse_fault
from simulator.inverter.rtu import Parity
from tunnel.cliutil import add_common_arguments
from tunnel.errors import ConfigError
from tunnel.tomlconfig import load_config

__all__ = ["InvertersConfig", "build_config", "register"]


@dataclass(frozen=True, slots=True, kw_only=True)
class InvertersConfig:
    """What ``simulator inverters`` serves (``--config`` TOML; command-line options win)."""

    modbus_tcp: str = "127.0.0.1:502"
    """``HOST:PORT`` of the Modbus TCP server (port 0: any free port); unused with ``rtu``."""
    rtu: str | None = None
    """Serve Modbus RTU on this serial device, or ``"pty"`` for a fresh pseudo-terminal."""
    count: int = 1
    """Inverters on the bus, unit ids 1..count."""
    seed: int = 1
    """Seed for serials and ratings."""
    manufacturer_key: str = DEMO_MANUFACTURER_KEY.decode()
    """Key of the activation codes."""
    model: int = 103
    """SunSpec inverter model: 103 (integer + scale factors) or 113 (float)."""
    baud: int = 9600
    """RTU baud rate."""
    parity: str = "E"
    """RTU parity: N, E or O."""
    stopbits: int = 1
    """RTU stop bits: 1 or 2."""
    usb_burst: bool = False
    """Deliver RTU replies in bursts, like a USB adapter."""
    lat: float = 52.52
    """Latitude of the site in degrees."""
    lon: float = 13.40
    """Longitude of the site in degrees."""
    tilt: float = 30.0
    """Panel tilt in degrees."""
    azimuth: float = 180.0
    """Panel azimuth in degrees (180: south)."""
    start: str | None = None
    """Simulated start instant (ISO 8601 with a zone); unset: now."""
    faults: tuple[str, ...] = ()
    """Faults, ``UNIT:KIND[=V]``: offline, loss=PCT, stuck, unknown-type, pending[=absent|wrong]."""


#: command-line option (argparse dest) -> configuration field, where the names differ
_OPTION_FIELD = {"fault": "faults"}
_MODELS = (103, 113)
_PARITIES = ("N", "E", "O")
_STOPBITS = (1, 2)


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"expected HOST:PORT, not {text!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def _instant(text: str) -> datetime:
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"expected an ISO 8601 instant, not {text!r}") from None
    if instant.tzinfo is None:
        raise ValueError(f"{text!r} needs a time zone, e.g. +00:00")
    return instant


def _option(parse: Any) -> Any:
    """An argparse ``type`` that checks like the configuration does but returns the text."""

    def check(text: str) -> str:
        try:
            parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return text

    check.__name__ = parse.__name__.lstrip("_")
    return check


def _problems(config: InvertersConfig) -> dict[str, str]:
    """Configuration key -> what is wrong with it."""
    problems: dict[str, str] = {}
    checks: list[tuple[str, Any, Any]] = [
        ("modbus_tcp", config.modbus_tcp, _host_port),
        ("start", config.start, _instant),
    ]
    for key, value, parse in checks:
        if value is not None:
            try:
                parse(value)
            except ValueError as exc:
                problems[key] = str(exc)
    for index, fault in enumerate(config.faults):
        try:
            parse_fault(fault)
        except ValueError as exc:
            problems[f"faults[{index}]"] = str(exc)
    choices: list[tuple[str, object, tuple[object, ...]]] = [
        ("model", config.model, _MODELS),
        ("parity", config.parity, _PARITIES),
        ("stopbits", config.stopbits, _STOPBITS),
    ]
    for key, value, allowed in choices:
        if value not in allowed:
            problems[key] = f"expected one of {', '.join(map(str, allowed))}, got {value!r}"
    if config.count < 1:
        problems["count"] = f"must be at least 1, got {config.count}"
    return problems


def load_inverters_config(path: Path) -> InvertersConfig:
    """Read and check ``path``; a bad value is a :class:`ConfigError` naming its key."""
    config = load_config(path, InvertersConfig)
    problems = _problems(config)
    if problems:
        key, problem = next(iter(problems.items()))
        raise ConfigError(str(path), key, problem)
    return config


def build_config(args: argparse.Namespace, base: InvertersConfig | None = None) -> InvertersConfig:
    """``base`` (from ``--config`` or the defaults) with the options given on the command line."""
    names = {field.name for field in fields(InvertersConfig)}
    changes: dict[str, Any] = {}
    for option, value in vars(args).items():
        field = _OPTION_FIELD.get(option, option)
        if field in names and value not in (None, []):
            changes[field] = tuple(value) if field == "faults" else value
    return replace(base or InvertersConfig(), **changes)


async def _inverters(args: argparse.Namespace, stop: asyncio.Event) -> int:
    base = load_inverters_config(args.config) if args.config else None
    config = build_config(args, base)
    clock: Clock = ShiftedClock(_instant(config.start)) if config.start else SystemClock()
    site = Site(latitude=config.lat, longitude=config.lon, tilt=config.tilt, azimuth=config.azimuth)
    model = InverterModel(config.model)
    try:
        bus = InverterBus.generate(
            config.count, seed=config.seed, clock=clock, model=model, site=site
        )
        apply_faults(bus, [parse_fault(fault) for fault in config.faults])
    except ValueError as exc:
        print(f"simulator inverters: {exc}", file=sys.stderr)
        return 2
    server: TcpInverterServer | RtuInverterServer
    if config.rtu:
        parity = cast(Parity, config.parity)  # checked by _problems or argparse's choices
        line = SerialLine(baud=config.baud, parity=parity, stopbits=config.stopbits)
        burst = UsbBurst() if config.usb_burst else None
        server = RtuInverterServer(bus, config.rtu, line, burst=burst)
    else:
        host, port = _host_port(config.modbus_tcp)
        server = TcpInverterServer(bus, host, port)
    context: AbstractAsyncContextManager[Any] = server
    async with context:
        facts: dict[str, Any]
        if isinstance(server, TcpInverterServer):
            facts = {"transport": "tcp", "host": server.host, "port": server.port}
        else:
            line = server.line
            facts = {"transport": "rtu", "path": server.path, "baud": line.baud}
            facts |= {"parity": line.parity, "stopbits": line.stopbits}
        facts |= {"model": int(model), "inverters": bus.describe(config.manufacturer_key.encode())}
        if args.print_json:
            print(json.dumps(facts), flush=True)
        else:
            where = facts.get("path") or f"{facts['host']}:{facts['port']}"
            print(f"{len(bus)} SunSpec inverters (model {int(model)}) on {where}", flush=True)
            for inv in facts["inverters"]:
                print(f"  unit {inv['unit_id']:3d}  {inv['serial']}  {inv['activation_code']}")
            sys.stdout.flush()
        await stop.wait()
    return 0


def _add_fleet_arguments(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """``--count``, ``--seed``, ``--manufacturer-key``; without defaults for ``--config``."""
    base = InvertersConfig()
    parser.add_argument(
        "--count", type=int, default=base.count if defaults else None, help="inverters, units 1..N"
    )
    parser.add_argument(
        "--seed", type=int, default=base.seed if defaults else None, help="seed of serials"
    )
    parser.add_argument(
        "--manufacturer-key",
        default=base.manufacturer_key if defaults else None,
        help="key of the activation codes (default: the demo key)",
    )


async def _labels(args: argparse.Namespace, stop: asyncio.Event) -> int:
    del stop
    bus = InverterBus.generate(args.count, seed=args.seed, clock=SystemClock())
    for inv in bus.describe(args.manufacturer_key.encode()):
        if args.json:
            print(json.dumps(inv))
        else:
            print(f"{inv['manufacturer']}  {inv['model']}")
            print(f"  S/N {inv['serial']}   Activation code {inv['activation_code']}")
    return 0


def register(subparsers: Any) -> None:
    """Add ``inverters`` and ``inverter-labels`` to the ``simulator`` command."""
    serve = subparsers.add_parser(
        "inverters",
        help="serve simulated SunSpec inverters",
        description="Serve simulated SunSpec inverters over Modbus TCP or RTU. Every option "
        "can also come from --config (TOML, docs/config/simulator-inverters.toml); "
        "options given here win.",
    )
    add_common_arguments(serve)
    where = serve.add_mutually_exclusive_group()
    where.add_argument(
        "--modbus-tcp",
        type=_option(_host_port),
        metavar="HOST:PORT",
        help="Modbus TCP (port 0: any; default 127.0.0.1:502)",
    )
    where.add_argument("--rtu", metavar="PATH", help=f"Modbus RTU on a device, or {PTY!r}")
    _add_fleet_arguments(serve, defaults=False)
    serve.add_argument("--model", type=int, choices=_MODELS, help="103: int, 113: float")
    serve.add_argument("--baud", type=int, help="RTU baud rate (default: 9600)")
    serve.add_argument("--parity", choices=_PARITIES, help="RTU parity (default: E)")
    serve.add_argument("--stopbits", type=int, choices=_STOPBITS, help="RTU stop bits")
    serve.add_argument(
        "--usb-burst", action="store_true", default=None, help="deliver like a USB adapter"
    )
    serve.add_argument("--lat", type=float, help="latitude in degrees (default: 52.52)")
    serve.add_argument("--lon", type=float, help="longitude in degrees (default: 13.40)")
    serve.add_argument("--tilt", type=float, help="panel tilt in degrees (default: 30)")
    serve.add_argument("--azimuth", type=float, help="panel azimuth (default 180: south)")
    serve.add_argument("--start", type=_option(_instant), help="simulated start instant (ISO 8601)")
    serve.add_argument(
        "--fault",
        type=_option(parse_fault),
        action="append",
        metavar="UNIT:KIND[=V]",
        help="offline, loss=PCT, stuck, unknown-type, pending[=absent|wrong]",
    )
    serve.add_argument("--print-json", action="store_true", help="print one JSON line")
    serve.set_defaults(handler=_inverters)

    labels = subparsers.add_parser("inverter-labels", help="print serials and activation codes")
    add_common_arguments(labels)
    _add_fleet_arguments(labels, defaults=True)
    labels.add_argument("--json", action="store_true", help="one JSON object per inverter")
    labels.set_defaults(handler=_labels)
