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

import hashlib
import hmac
import html
import itertools
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from simulator.hosted import HostedService, html_page

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
class PspSimulator(HostedService):
    """A hosted payment page and its API (see the module docstring)."""

    api_key: str = "sim-psp-key"
    secret: str = "sim-psp-secret"  # noqa: S105 - the simulator's documented demo secret
    decline: bool = False
    """Decline every payment (as a bank refusing the card or the transfer)."""
    duplicates: int = 1
    """How often each notification is sent."""
    notifications: list[tuple[str, int | None]] = field(default_factory=list)
    """(checkout id, listener status) of every attempt."""
    _checkouts: dict[str, _Checkout] = field(default_factory=dict)
    _keys: dict[str, str] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def add_routes(self, router: web.UrlDispatcher) -> None:
        """The checkout API and the hosted page."""
        router.add_post("/api/v1/checkouts", self._create)
        router.add_get("/api/v1/checkouts/{id}", self._get)
        router.add_get("/pay/{id}", self._page)
        router.add_post("/pay/{id}", self._pay)

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
        return html_page("Bezahlen", body)

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
            self.background(self._send(checkout, event))

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
        def attempted(status: int | None) -> None:
            self.notifications.append((checkout.id, status))

        await self.post_until_answered(
            lambda: checkout.notify_url, json.dumps(event).encode(), self.signed, attempted
        )
