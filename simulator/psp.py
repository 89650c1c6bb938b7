"""A local payment service provider with a hosted payment page (card or online transfer).

It plays the role Heidelberger Payment plays in seed 002 and imports no product package:

- ``POST /api/v1/checkouts`` (``Authorization: Bearer <api key>``, ``Idempotency-Key``) with
  ``amount`` (cents), ``currency``, ``reference``, ``return_url`` and ``notify_url`` creates a
  checkout and answers the hosted page's address (``redirect_url``);
- the page ``/pay/{id}`` shows the amount, lets the buyer choose card or online transfer
  (the same total for every method, R-MON-12) and pay; a declined payment (the card
  ``4000 0000 0000 0002`` or :attr:`PspSimulator.decline`) says so; the buyer then goes to
  ``return_url?checkout=…&status=…``;
- every result is sent server to server to ``notify_url``: the JSON body signed with
  HMAC-SHA256 over ``"{timestamp}.{body}"`` (headers ``X-PSP-Timestamp``,
  ``X-PSP-Signature``), retried until answered with 2xx, ``duplicates`` times;
- ``GET /api/v1/checkouts/{id}`` tells the state.

``async with PspSimulator() as psp`` for tests, ``simulator psp`` for the demo.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import html
import itertools
import json
import logging
import secrets
import socket
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

__all__ = ["DECLINED_CARD", "PspSimulator", "sign_notification"]

_LOGGER = logging.getLogger(__name__)
#: the test card the page always declines
DECLINED_CARD = "4000000000000002"
_METHODS = {"card": "Kreditkarte", "online_transfer": "Online-Überweisung"}


def sign_notification(secret: str, timestamp: int, body: bytes) -> str:
    """The notification's signature: hex HMAC-SHA256 over ``"{timestamp}.{body}"``."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@dataclass
class _Checkout:
    id: str
    amount: int
    currency: str
    reference: str
    return_url: str
    notify_url: str
    status: str = "open"
    method: str | None = None


def _money(cents: int, currency: str) -> str:
    return f"{cents // 100},{cents % 100:02d} {currency}"


@dataclass
class PspSimulator:
    """A hosted payment page and its API (see the module docstring)."""

    api_key: str = "sim-psp-key"
    secret: str = "sim-psp-secret"  # noqa: S105 - the simulator's documented demo secret
    host: str = "127.0.0.1"
    port: int = 0
    decline: bool = False
    """Decline every payment (as a bank refusing the card or the transfer)."""
    duplicates: int = 1
    """How often each notification is sent."""
    retry_delays: tuple[float, ...] = (0.05, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
    notifications: list[tuple[str, int | None]] = field(default_factory=list)
    """(checkout id, listener status) of every attempt."""
    _checkouts: dict[str, _Checkout] = field(default_factory=dict)
    _keys: dict[str, str] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _runner: web.AppRunner | None = None
    _session: aiohttp.ClientSession | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def url(self) -> str:
        """The API and page base URL (``payments.psp_url`` of the gateway)."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Listen (port 0: a free port)."""
        app = web.Application()
        app.router.add_post("/api/v1/checkouts", self._create)
        app.router.add_get("/api/v1/checkouts/{id}", self._get)
        app.router.add_get("/pay/{id}", self._page)
        app.router.add_post("/pay/{id}", self._pay)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.create_server((self.host, self.port))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def stop(self) -> None:
        """Stop notifying and listening."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def drain(self) -> None:
        """Wait until every delivery so far was answered or given up (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        await self.stop()

    def _authorised(self, request: web.Request) -> bool:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given, f"Bearer {self.api_key}")

    def _json(self, c: _Checkout) -> dict[str, Any]:
        return {
            "id": c.id,
            "amount": c.amount,
            "currency": c.currency,
            "reference": c.reference,
            "status": c.status,
            "method": c.method,
            "redirect_url": f"{self.url}/pay/{c.id}",
        }

    async def _create(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"error": "unauthorised"}, status=401)
        key = request.headers.get("Idempotency-Key")
        if key and key in self._keys:
            return web.json_response(self._json(self._checkouts[self._keys[key]]))
        body = await request.json()
        amount = body.get("amount")
        if not isinstance(amount, int) or amount <= 0:
            return web.json_response({"error": "amount must be positive cents"}, status=422)
        checkout = _Checkout(
            id=f"chk_{next(self._ids):06d}{secrets.token_hex(4)}",
            amount=amount,
            currency=str(body.get("currency", "EUR")),
            reference=str(body.get("reference", "")),
            return_url=str(body["return_url"]),
            notify_url=str(body["notify_url"]),
        )
        self._checkouts[checkout.id] = checkout
        if key:
            self._keys[key] = checkout.id
        return web.json_response(self._json(checkout), status=201)

    async def _get(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"error": "unauthorised"}, status=401)
        checkout = self._checkouts.get(request.match_info["id"])
        if checkout is None:
            return web.json_response({"error": "not found"}, status=404)
        return web.json_response(self._json(checkout))

    async def _page(self, request: web.Request) -> web.Response:
        checkout = self._checkouts.get(request.match_info["id"])
        if checkout is None:
            raise web.HTTPNotFound(text="Unbekannte Zahlung")
        amount = html.escape(_money(checkout.amount, checkout.currency))
        options = "".join(
            f"<label><input type='radio' name='method' value='{k}'"
            f"{' checked' if k == 'card' else ''}> {v}</label><br>"
            for k, v in _METHODS.items()
        )
        body = (
            f"<h1>Bezahlen</h1><p>{html.escape(checkout.reference)}</p>"
            f"<p class='amount' id='amount'>{amount}</p>"
            f"<form method='post'>{options}"
            "<p><label>Kartennummer <input name='card' id='card' "
            "value='4242424242424242' inputmode='numeric'></label></p>"
            "<button type='submit' id='pay'>Jetzt bezahlen</button></form>"
        )
        return _page(body)

    async def _pay(self, request: web.Request) -> web.Response:
        checkout = self._checkouts.get(request.match_info["id"])
        if checkout is None:
            raise web.HTTPNotFound(text="Unbekannte Zahlung")
        form = await request.post()
        if checkout.status == "open":
            method = str(form.get("method", "card"))
            checkout.method = method if method in _METHODS else "card"
            card = str(form.get("card", "")).replace(" ", "")
            declined = self.decline or (checkout.method == "card" and card == DECLINED_CARD)
            checkout.status = "declined" if declined else "paid"
            self._notify(checkout)
        query = urlencode({"checkout": checkout.id, "status": checkout.status})
        sep = "&" if "?" in checkout.return_url else "?"
        raise web.HTTPFound(f"{checkout.return_url}{sep}{query}")

    def _notify(self, checkout: _Checkout) -> None:
        event = {
            "id": f"evt_{secrets.token_hex(8)}",
            "type": f"checkout.{checkout.status}",
            "created": int(time.time()),
            "checkout": self._json(checkout),
        }
        for _ in range(max(1, self.duplicates)):
            task = asyncio.get_running_loop().create_task(self._send(checkout, event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def resend(self, checkout_id: str) -> None:
        """Send the checkout's current result again (a redelivery)."""
        self._notify(self._checkouts[checkout_id])

    def signed(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        """The headers a notification with ``body`` carries."""
        stamp = int(time.time()) if timestamp is None else timestamp
        return {
            "Content-Type": "application/json",
            "X-PSP-Timestamp": str(stamp),
            "X-PSP-Signature": sign_notification(self.secret, stamp, body),
        }

    async def _send(self, checkout: _Checkout, event: dict[str, Any]) -> None:
        body = json.dumps(event).encode()
        for delay in (*self.retry_delays, None):
            status: int | None = None
            if self._session is not None:
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with self._session.post(
                        checkout.notify_url, data=body, headers=self.signed(body), ssl=False
                    ) as response:
                        status = response.status
            self.notifications.append((checkout.id, status))
            if status is not None and 200 <= status < 300:
                return
            if delay is None:
                _LOGGER.warning("notification for %s not delivered; giving up", checkout.id)
                return
            await asyncio.sleep(delay)


def _page(body: str) -> web.Response:
    text = (
        "<!doctype html><html lang='de'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<title>Bezahlen</title><style>body{font-family:sans-serif;max-width:28rem;"
        "margin:2rem auto;padding:0 1rem}button{font-size:1.1rem;padding:.6rem 1.2rem;"
        "width:100%}.amount{font-size:2rem;font-weight:bold}input[name=card]{width:100%}"
        f"</style></head><body>{body}</body></html>"
    )
    return web.Response(text=text, content_type="text/html")
