"""A simulated VIES VAT number service (the EU's REST ``check-vat-number``), for tests and demos.

It imports no product package: the gateway sees it only through HTTP. Known numbers answer
valid with their registered name and address, other well-formed requests answer invalid, and
while :attr:`ViesSimulator.available` is false every request answers ``MS_UNAVAILABLE`` (as the
member state services do at night).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web

__all__ = ["Registration", "ViesSimulator"]


@dataclass(frozen=True, slots=True)
class Registration:
    """What a member state registered for a VAT number."""

    name: str
    address: str


@dataclass
class ViesSimulator:
    """Start with :meth:`start` (port 0 picks a free port), stop with :meth:`stop`."""

    registrations: dict[str, Registration] = field(default_factory=dict)
    """Known numbers, keyed by country code plus number (``DE147167387``)."""
    available: bool = True
    """Whether the member state answers."""
    requests: int = 0
    """How many checks arrived."""
    _runner: web.AppRunner | None = None
    port: int = 0

    @property
    def url(self) -> str:
        """Base URL to configure as ``vat.vies_url``."""
        return f"http://127.0.0.1:{self.port}"

    async def _check(self, request: web.Request) -> web.Response:
        self.requests += 1
        body = await request.json()
        country = str(body.get("countryCode", "")).upper()
        number = str(body.get("vatNumber", "")).upper()
        now = datetime.now(UTC).isoformat()
        if not self.available:
            return web.json_response(
                {"actionSucceed": False, "errorWrappers": [{"error": "MS_UNAVAILABLE"}]}
            )
        known = self.registrations.get(country + number)
        return web.json_response(
            {
                "countryCode": country,
                "vatNumber": number,
                "requestDate": now,
                "valid": known is not None,
                "requestIdentifier": f"SIM{self.requests:08d}",
                "name": known.name if known else "---",
                "address": known.address if known else "---",
            }
        )

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on ``host``:``port``."""
        app = web.Application()
        app.router.add_post("/check-vat-number", self._check)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.create_server((host, port))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
