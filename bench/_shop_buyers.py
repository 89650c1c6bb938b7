"""The buyers' process of the checkout benchmark: ``python -m bench._shop_buyers``.

It runs what is not the gateway: the payment provider's simulator and the buyers' browsers,
so that they do not share the gateway's event loop (or its core). The shop sells hub packages
for PayPal or bank transfer only (``shop.cart.HUB_PACKAGE_MEDIA``, seed 000), so the provider
a buyer pays at after "Jetzt kaufen" is PayPal (:mod:`simulator.paypal`). Lines on stdout and
stdin (JSON):

1. it starts the PayPal simulator and prints ``{"paypal_url", "client_id", "client_secret",
   "webhook_id"}``;
2. it reads ``{"gateway": URL, "buyers": [{"login", "password"}, ...], "warmup": [...],
   "alone": bool}``, points PayPal's webhook at the gateway; each warm-up buyer checks out
   alone, one after the other and untimed (a gateway in service has served checkouts
   before); each buyer logs in through the portal's form, puts ``hub-remote`` (1 month,
   single booking) into the cart on the product page and opens the payment page ("Kaufen"),
   all untimed, one after the other;
3. it prints ``{"ready": true}`` and waits for the next line (``{"go": true}``), then all
   buyers start together (``alone``: one after the other, each once the webhooks of the one
   before were answered), each timed from POSTing the "Jetzt kaufen" form (CSRF token,
   checkout key, PayPal) as a browser does: the 303 to PayPal's approval page, that page,
   "Zahlung bestätigen" on it, PayPal's redirect to the gateway's return route (which
   captures and books the payment), its 303 to the order page and the order page itself;
   it prints ``{"samples": [ms, ...], "spans": {step: [ms, ...]}}`` once every webhook event
   was answered, then ends when stdin closes.

A buyer that does not reach its order page fails the run (the node exits with an error).
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from typing import Any
from urllib.parse import urljoin

import aiohttp

from bench._nodes import emit, stdin_closed
from simulator.paypal import PayPalSimulator

__all__ = ["STEPS", "main"]

#: the timed steps of one checkout, in order
STEPS = ("jetzt_kaufen", "paypal_page", "paypal_approve", "return", "order_page")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_KEY = re.compile(r'name="key" value="([^"]+)"')
_APPROVE = re.compile(r"action='(/checkoutnow/[^']+/approve)'")
_ORDER = re.compile(r"/shop/orders/(\d+)\?payment=")
_PRODUCT, _PLAN, _BOOKING = "hub-remote", "1m", "single"


def _found(pattern: re.Pattern[str], page: str, what: str) -> str:
    match = pattern.search(page)
    if match is None:
        raise RuntimeError(f"no {what} on the page: {page[:300]!r}")
    return match.group(1)


class Buyer:
    """One browser: its own cookie jar and keep-alive connections."""

    def __init__(self, gateway: str, login: str, password: str) -> None:
        self.gateway = gateway
        self.login = login
        self.password = password
        # unsafe: keep cookies of an IP address host (127.0.0.1); no certificate check
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=False),
            cookie_jar=aiohttp.CookieJar(unsafe=True),
        )
        self.form: dict[str, str] = {}

    def url(self, path: str) -> str:
        return urljoin(self.gateway, path)

    async def _page(self, path: str) -> str:
        async with self.http.get(self.url(path)) as resp:
            text = await resp.text()
            if resp.status != 200:
                raise RuntimeError(f"GET {path}: {resp.status}")
            return text

    async def prepare(self) -> None:
        """Log in, fill the cart, open the payment page (untimed)."""
        token = _found(_CSRF, await self._page("/login"), "csrf_token")
        login = {"csrf_token": token, "login": self.login, "password": self.password}
        async with self.http.post(self.url("/login"), data={**login, "next": "/shop"}) as resp:
            await resp.read()
        page = await self._page(f"/shop/products/{_PRODUCT}")
        line = {"product": _PRODUCT, "plan": _PLAN, "booking": _BOOKING}
        form = {"csrf_token": _found(_CSRF, page, "csrf_token"), **line}
        async with self.http.post(
            self.url("/shop/cart/add"), data=form, allow_redirects=False
        ) as resp:
            if resp.status != 303:
                raise RuntimeError(f"cart/add of {self.login}: {resp.status}")
        page = await self._page("/shop/checkout")
        self.form = {
            "csrf_token": _found(_CSRF, page, "csrf_token"),
            "key": _found(_KEY, page, "checkout key"),
            "method": "paypal",
        }

    async def _redirect(
        self, method: str, url: str, spans: dict[str, float], step: str, **kw: Any
    ) -> str:
        began = time.perf_counter()
        async with self.http.request(method, url, allow_redirects=False, **kw) as resp:
            body = await resp.text()
            location = resp.headers.get("Location", "")
            if resp.status not in (302, 303) or not location:
                problem = re.findall(r'class="[^"]*error[^"]*"[^>]*>([^<]*)', body)
                raise RuntimeError(f"{step} of {self.login}: {resp.status} {problem}")
        spans[step] = (time.perf_counter() - began) * 1000
        return urljoin(url, location)

    async def checkout(self) -> tuple[float, dict[str, float]]:
        """ "Jetzt kaufen" to the order page: total milliseconds and per step."""
        spans: dict[str, float] = {}
        started = time.perf_counter()
        pay_page = await self._redirect(
            "POST", self.url("/shop/checkout"), spans, "jetzt_kaufen", data=self.form
        )
        began = time.perf_counter()
        async with self.http.get(pay_page) as resp:
            if resp.status != 200:
                raise RuntimeError(f"PayPal page: {resp.status}")
            approve = urljoin(pay_page, _found(_APPROVE, await resp.text(), "approve form"))
        spans["paypal_page"] = (time.perf_counter() - began) * 1000
        back = await self._redirect("POST", approve, spans, "paypal_approve")
        order_page = await self._redirect("GET", back, spans, "return")
        shown = _ORDER.search(order_page)
        if shown is None:
            raise RuntimeError(f"unexpected redirect {order_page!r}")
        began = time.perf_counter()
        async with self.http.get(order_page, allow_redirects=False) as resp:
            text = await resp.text()
            if resp.status != 200 or f"A-{shown.group(1)}" not in text:
                raise RuntimeError(f"order page of {self.login}: {resp.status}")
        spans["order_page"] = (time.perf_counter() - began) * 1000
        return (time.perf_counter() - started) * 1000, spans


async def _read_command() -> dict[str, Any]:
    line = await asyncio.to_thread(sys.stdin.readline)
    if not line:
        raise SystemExit("stdin closed before the command")
    import json  # noqa: PLC0415 - only here

    command: dict[str, Any] = json.loads(line)
    return command


async def run() -> None:
    """The node (see the module docstring)."""
    async with PayPalSimulator(retry_delays=(0.05, 0.2, 0.5, 1.0)) as paypal:
        paypal.webhook_id = "WH-BENCH"
        emit(
            paypal_url=paypal.url,
            client_id=paypal.client_id,
            client_secret=paypal.client_secret,
            webhook_id=paypal.webhook_id,
        )
        command = await _read_command()
        paypal.webhook_url = urljoin(command["gateway"], "/api/v1/payments/paypal/webhook")
        buyers = [Buyer(command["gateway"], b["login"], b["password"]) for b in command["buyers"]]
        warm = [Buyer(command["gateway"], b["login"], b["password"]) for b in command["warmup"]]
        try:
            for buyer in warm:  # one after the other, untimed: a gateway that has served before
                await buyer.prepare()
                await buyer.checkout()
                await paypal.drain()
            for buyer in buyers:
                await buyer.prepare()
            emit(ready=True)
            await _read_command()  # "go"
            if command.get("alone"):  # one after the other: a buyer alone on the gateway
                done = []
                for buyer in buyers:
                    done.append(await buyer.checkout())
                    await paypal.drain()
            else:
                done = await asyncio.gather(*(b.checkout() for b in buyers))
                await paypal.drain()
        finally:
            for buyer in (*warm, *buyers):
                await buyer.http.close()
        emit(
            samples=[total for total, _spans in done],
            spans={step: [spans[step] for _total, spans in done] for step in STEPS},
            webhook_events=len(paypal.events),
        )
        await stdin_closed()


def main() -> None:
    """Run the node."""
    asyncio.run(run())


if __name__ == "__main__":
    main()
