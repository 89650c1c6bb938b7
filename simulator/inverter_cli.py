# A command-line front end prints to the terminal:
# ruff: noqa: T201
"""``simulator inverters`` and ``simulator inverter-labels``: SunSpec inverters from the shell.

``simulator inverters --modbus-tcp 127.0.0.1:0 --count 3 --model 103 --seed 1 --print-json``
serves three inverters as unit ids 1..3 and prints one JSON line::

    {"transport": "tcp", "host": "127.0.0.1", "port": 40123, "model": 103,
     "inverters": [{"unit_id": 1, "serial": "...", "activation_code": "XXXXX-XXXXX", ...}]}

With ``--rtu pty`` (or a device path) it serves Modbus RTU instead and the JSON carries
``"transport": "rtu"`` and ``"path"``, the device a client opens.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any

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
from simulator.inverter.faults import FaultSpec, apply_faults, parse_fault
from tunnel.cliutil import add_common_arguments

__all__ = ["register"]


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, not {text!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def _fault(text: str) -> FaultSpec:
    try:
        return parse_fault(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _instant(text: str) -> datetime:
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an ISO 8601 instant, not {text!r}") from None
    if instant.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a time zone, e.g. +00:00")
    return instant


def _add_fleet_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--count", type=int, default=1, help="inverters, unit ids 1..N")
    parser.add_argument("--seed", type=int, default=1, help="seed for serials and ratings")
    parser.add_argument(
        "--manufacturer-key",
        default=DEMO_MANUFACTURER_KEY.decode(),
        help="key of the activation codes (default: the demo key)",
    )


async def _inverters(args: argparse.Namespace, stop: asyncio.Event) -> int:
    clock: Clock = ShiftedClock(args.start) if args.start else SystemClock()
    site = Site(latitude=args.lat, longitude=args.lon, tilt=args.tilt, azimuth=args.azimuth)
    model = InverterModel(args.model)
    try:
        bus = InverterBus.generate(args.count, seed=args.seed, clock=clock, model=model, site=site)
        apply_faults(bus, args.fault)
    except ValueError as exc:
        print(f"simulator inverters: {exc}", file=sys.stderr)
        return 2
    server: TcpInverterServer | RtuInverterServer
    if args.rtu:
        line = SerialLine(baud=args.baud, parity=args.parity, stopbits=args.stopbits)
        burst = UsbBurst() if args.usb_burst else None
        server = RtuInverterServer(bus, args.rtu, line, burst=burst)
    else:
        host, port = args.modbus_tcp or ("127.0.0.1", 502)
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
        facts |= {"model": int(model), "inverters": bus.describe(args.manufacturer_key.encode())}
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
    serve = subparsers.add_parser("inverters", help="serve simulated SunSpec inverters")
    add_common_arguments(serve)
    where = serve.add_mutually_exclusive_group()
    where.add_argument(
        "--modbus-tcp", type=_host_port, metavar="HOST:PORT", help="Modbus TCP (port 0: any)"
    )
    where.add_argument("--rtu", metavar="PATH", help=f"Modbus RTU on a device, or {PTY!r}")
    _add_fleet_arguments(serve)
    serve.add_argument("--model", type=int, choices=[103, 113], default=103, help="int or float")
    serve.add_argument("--baud", type=int, default=9600, help="RTU baud rate")
    serve.add_argument("--parity", choices=["N", "E", "O"], default="E", help="RTU parity")
    serve.add_argument("--stopbits", type=int, choices=[1, 2], default=1, help="RTU stop bits")
    serve.add_argument("--usb-burst", action="store_true", help="deliver like a USB adapter")
    serve.add_argument("--lat", type=float, default=52.52, help="latitude in degrees")
    serve.add_argument("--lon", type=float, default=13.40, help="longitude in degrees")
    serve.add_argument("--tilt", type=float, default=30.0, help="panel tilt in degrees")
    serve.add_argument("--azimuth", type=float, default=180.0, help="panel azimuth (180: south)")
    serve.add_argument("--start", type=_instant, help="simulated start instant (ISO 8601)")
    serve.add_argument(
        "--fault",
        type=_fault,
        action="append",
        default=[],
        metavar="UNIT:KIND[=V]",
        help="offline, loss=PCT, stuck, unknown-type, pending[=absent|wrong]",
    )
    serve.add_argument("--print-json", action="store_true", help="print one JSON line")
    serve.set_defaults(handler=_inverters)

    labels = subparsers.add_parser("inverter-labels", help="print serials and activation codes")
    add_common_arguments(labels)
    _add_fleet_arguments(labels)
    labels.add_argument("--json", action="store_true", help="one JSON object per inverter")
    labels.set_defaults(handler=_labels)
