"""A simulated satellite broadband provider: the pre-check API of seed 004's service provider.

It imports no product package: the gateway sees it only through HTTP. ``POST /v1/precheck``
with ``{"service": "satellite-uplink", "latitude": "53.2", "longitude": "7.4"}`` (decimal
degrees, WGS 84, as strings or numbers) answers

- ``200 {"available": true, "reference": "SIM-PC-00000001", "beam": "EU-N-07"}`` inside the
  coverage (a box of latitudes and longitudes, by default Europe),
- ``200 {"available": false, "reason": "outside_coverage"}`` outside it,
- ``400 {"error": "invalid_coordinates"}`` for values that are no coordinates,
- ``503 {"error": "maintenance"}`` while :attr:`SatelliteSimulator.available` is false.

Knobs: :attr:`delay_s` answers slowly (still within a generous client timeout);
:attr:`hang` never answers (until the simulator stops), so the client's timeout fires.
Run it alone with ``simulator satellite --port 8470``.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from tunnel.cliutil import add_common_arguments

__all__ = ["Coverage", "SatelliteSimulator", "register"]


@dataclass(frozen=True, slots=True)
class Coverage:
    """The area the satellite's beams reach: a box of latitudes and longitudes."""

    south: Decimal = Decimal(34)
    north: Decimal = Decimal(72)
    west: Decimal = Decimal(-25)
    east: Decimal = Decimal(45)

    def covers(self, latitude: Decimal, longitude: Decimal) -> bool:
        return self.south <= latitude <= self.north and self.west <= longitude <= self.east

    def beam(self, latitude: Decimal, longitude: Decimal) -> str:
        """A beam name derived from the position (stable per 5 degree cell)."""
        row = "N" if latitude >= (self.south + self.north) / 2 else "S"
        cell = int((longitude - self.west) // 5) + 1
        return f"EU-{row}-{cell:02d}"


def _degrees(value: Any, limit: int) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() and -limit <= number <= limit else None


@dataclass
class SatelliteSimulator:
    """Start with :meth:`start` (port 0 picks a free port), stop with :meth:`stop`."""

    coverage: Coverage = field(default_factory=Coverage)
    """Where the service is available."""
    available: bool = True
    """Whether the provider answers at all (``False``: 503 maintenance)."""
    delay_s: float = 0.0
    """Seconds to wait before answering (a slow provider)."""
    hang: bool = False
    """Never answer (until :meth:`stop`): the client's timeout has to fire."""
    requests: int = 0
    """How many pre-checks arrived."""
    accepted: int = 0
    """How many were accepted (the number of the next reference)."""
    port: int = 0
    _runner: web.AppRunner | None = None
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        """Base URL to configure as ``contracts.provider_url``."""
        return f"http://127.0.0.1:{self.port}"

    async def _precheck(self, request: web.Request) -> web.Response:
        self.requests += 1
        if self.hang:
            await self._stopping.wait()
        if self.delay_s:
            await asyncio.sleep(self.delay_s)  # the simulated provider is slow
        if not self.available:
            return web.json_response({"error": "maintenance"}, status=503)
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return web.json_response({"error": "invalid_request"}, status=400)
        latitude = _degrees(body.get("latitude"), 90)
        longitude = _degrees(body.get("longitude"), 180)
        if latitude is None or longitude is None:
            return web.json_response({"error": "invalid_coordinates"}, status=400)
        if not self.coverage.covers(latitude, longitude):
            return web.json_response({"available": False, "reason": "outside_coverage"})
        self.accepted += 1
        return web.json_response(
            {
                "available": True,
                "reference": f"SIM-PC-{self.accepted:08d}",
                "beam": self.coverage.beam(latitude, longitude),
            }
        )

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on ``host``:``port``."""
        app = web.Application()
        app.router.add_post("/v1/precheck", self._precheck)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        sock = socket.create_server((host, port))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        """Stop listening; hanging requests end."""
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()


async def _serve(args: argparse.Namespace, stop: asyncio.Event) -> int:
    south, north, west, east = (Decimal(x) for x in args.coverage.split(","))
    simulator = SatelliteSimulator(
        coverage=Coverage(south=south, north=north, west=west, east=east),
        delay_s=args.delay_s,
        hang=args.hang,
        available=not args.maintenance,
    )
    await simulator.start(args.host, args.port)
    print(f"simulator satellite: {simulator.url}/v1/precheck", flush=True)  # noqa: T201 - a CLI
    try:
        await stop.wait()
    finally:
        await simulator.stop()
    return 0


def register(subparsers: Any) -> None:
    """Add ``satellite`` to the ``simulator`` command."""
    serve = subparsers.add_parser(
        "satellite",
        help="serve a simulated satellite provider's pre-check API",
        description="The service provider of seed 004: pre-checks site coordinates over HTTP.",
    )
    add_common_arguments(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to bind")
    serve.add_argument("--port", type=int, default=8470, help="TCP port (0: any)")
    serve.add_argument(
        "--coverage",
        default="34,72,-25,45",
        metavar="SOUTH,NORTH,WEST,EAST",
        help="covered box in decimal degrees (default: Europe)",
    )
    serve.add_argument("--delay-s", type=float, default=0.0, help="answer this many s late")
    serve.add_argument("--hang", action="store_true", help="never answer (clients time out)")
    serve.add_argument("--maintenance", action="store_true", help="answer 503 to everything")
    serve.set_defaults(handler=_serve)
