"""The buyers' process of the checkout benchmark: ``python -m bench._shop_buyers``.

It runs what is not the gateway: the payment providers' simulators (PSP and PayPal) and the
buyers' browsers, so that they do not share the gateway's event loop (or its core). Lines on
stdout and stdin (JSON):

1. it starts both simulators and prints ``{"paypal_url", "client_id", "client_secret",
   "webhook_id", "psp_url", "psp_api_key", "psp_secret"}``;
2. it reads ``{"gateway": URL, "buyers": [{"login", "password"[, "plant"]}, ...],
   "warmup": [...], "alone": bool, "provider": "psp"|"paypal"}``, points PayPal's webhook at
   the gateway; each warm-up buyer checks out alone, one after the other and untimed; each
   buyer logs in through the portal's form and, untimed, either orders its plant's licence
   and opens the order's payment page (``psp``) or puts ``hub-remote`` (1 month, single
   booking) into the cart and opens the payment page ("Kaufen", ``paypal``);
3. it prints ``{"ready": true}`` and waits for the next line (``{"go": true}``), then all
   buyers start together (``alone``: one after the other, each once the notifications of the
   one before were answered), each timed as a browser does (``STEPS``): ``psp``: POST
   "Jetzt bezahlen" by card, its 303 to the PSP's hosted page, that page, its
   "Jetzt bezahlen", the PSP's redirect to the gateway's return route, its 303 to the order
   page and the order page itself; ``paypal``: POST "Jetzt kaufen", PayPal's approval page,
   "Zahlung bestätigen", the gateway's return route (capture and booking), the order page;
   it prints ``{"samples": [ms, ...], "spans": {step: [ms, ...]}}`` once every notification
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
from simulator.psp import PspSimulator

__all__ = ["STEPS", "main"]

#: the timed steps of one checkout, in order, per provider
STEPS = {
    "paypal": ("jetzt_kaufen", "paypal_page", "paypal_approve", "return", "order_page"),
    "psp": ("jetzt_bezahlen", "psp_page", "psp_pay", "return", "order_page"),
}
_PAY_KEY = re.compile(r'name="pay_key" value="([^"]+)"')
_ORDER_KEY = re.compile(r'name="order_key" value="([^"]+)"')
_PSP_FORM = re.compile(r"(<form method='post'>)")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_KEY = re.compile(r'name="key" value="([^"]+)"')
_APPROVE = re.compile(r"action='(/checkoutnow/[^']+/approve)'")
_ORDER = re.compile(r"/shop/orders/(\d+)\?payment=")
_PRODUCT, _PLAN, _BOOKING = "hub-remote", "1m", "single"
#: the simulators' delays before delivering a webhook again
_RETRIES = (0.05, 0.2, 0.5, 1.0)


def _found(pattern: re.Pattern[str], page: str, what: str) -> str:
    match = pattern.search(page)
    if match is None:
        raise RuntimeError(f"no {what} on the page: {page[:300]!r}")
    return match.group(1)


class Buyer:
    """One browser: its own cookie jar and keep-alive connections."""

    def __init__(self, gateway: str, login: str, password: str, plant: int | None = None) -> None:
        self.gateway = gateway
        self.login = login
        self.password = password
        #: the plant whose licence this buyer pays by card (the PSP leg), else a hub package
        self.plant = plant
        self.pay_path = ""
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
        """Log in, fill the cart (or order the plant's licence), open the payment page
        (untimed)."""
        token = _found(_CSRF, await self._page("/login"), "csrf_token")
        login = {"csrf_token": token, "login": self.login, "password": self.password}
        async with self.http.post(self.url("/login"), data={**login, "next": "/shop"}) as resp:
            await resp.read()
        if self.plant is not None:
            await self._order_licence(self.plant)
            return
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

    async def _order_licence(self, plant: int) -> None:
        """ "Lizenz kaufen" for the plant (365 days, German contract), "Jetzt kostenpflichtig
        bestellen", then the order's payment page ("Jetzt bezahlen" by card comes next)."""
        query = f"/licences/buy?plant={plant}&term=365d&contract_language=de"
        page = await self._page(query)
        form = {
            "csrf_token": _found(_CSRF, page, "csrf_token"),
            "order_key": _found(_ORDER_KEY, page, "order key"),
            "term": "365d",
            "contract_language": "de",
            "plant": str(plant),
            "accept": "on",
        }
        async with self.http.post(
            self.url("/licences/order"), data=form, allow_redirects=False
        ) as resp:
            if resp.status != 303:
                raise RuntimeError(f"licence order of {self.login}: {resp.status}")
            self.pay_path = resp.headers["Location"]
        page = await self._page(self.pay_path)
        self.form = {
            "csrf_token": _found(_CSRF, page, "csrf_token"),
            "pay_key": _found(_PAY_KEY, page, "pay key"),
            "method": "card",
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
        if self.plant is not None:
            return await self._checkout_card()
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
        await self._back_to_order(back, spans)
        return (time.perf_counter() - started) * 1000, spans

    async def _back_to_order(self, back: str, spans: dict[str, float]) -> None:
        """The gateway's return route (``back``), its 303 and the order page with its number."""
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

    async def _checkout_card(self) -> tuple[float, dict[str, float]]:
        """ "Jetzt bezahlen" by card on the licence order's payment page, the PSP's hosted
        page and its "Jetzt bezahlen", the gateway's return route, the order page."""
        spans: dict[str, float] = {}
        started = time.perf_counter()
        psp_page = await self._redirect(
            "POST", self.url(self.pay_path), spans, "jetzt_bezahlen", data=self.form
        )
        began = time.perf_counter()
        async with self.http.get(psp_page) as resp:
            if resp.status != 200:
                raise RuntimeError(f"PSP page: {resp.status}")
            _found(_PSP_FORM, await resp.text(), "PSP form")
        spans["psp_page"] = (time.perf_counter() - began) * 1000
        card = {"method": "card", "card": "4242424242424242"}
        back = await self._redirect("POST", psp_page, spans, "psp_pay", data=card)
        await self._back_to_order(back, spans)
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
    async with (
        PayPalSimulator(retry_delays=_RETRIES) as paypal,
        PspSimulator(retry_delays=_RETRIES) as psp,
    ):
        paypal.webhook_id = "WH-BENCH"
        emit(
            paypal_url=paypal.url,
            client_id=paypal.client_id,
            client_secret=paypal.client_secret,
            webhook_id=paypal.webhook_id,
            psp_url=psp.url,
            psp_api_key=psp.api_key,
            psp_secret=psp.secret,
        )
        command = await _read_command()
        paypal.webhook_url = urljoin(command["gateway"], "/api/v1/payments/paypal/webhook")
        provider = command.get("provider", "paypal")

        async def drain() -> None:
            await paypal.drain()
            await psp.drain()

        def buyer(b: dict[str, Any]) -> Buyer:
            return Buyer(command["gateway"], b["login"], b["password"], b.get("plant"))

        buyers = [buyer(b) for b in command["buyers"]]
        warm = [buyer(b) for b in command["warmup"]]
        try:
            for one in warm:  # one after the other, untimed: a gateway that has served before
                await one.prepare()
                await one.checkout()
                await drain()
            for one in buyers:
                await one.prepare()
            emit(ready=True)
            await _read_command()  # "go"
            if command.get("alone"):  # one after the other: a buyer alone on the gateway
                done = []
                for one in buyers:
                    done.append(await one.checkout())
                    await drain()
            else:
                done = await asyncio.gather(*(b.checkout() for b in buyers))
                await drain()
        finally:
            for one in (*warm, *buyers):
                await one.http.close()
        emit(
            samples=[total for total, _spans in done],
            spans={step: [spans[step] for _total, spans in done] for step in STEPS[provider]},
            webhook_events=len(paypal.events) + len(psp.notifications),
        )
        await stdin_closed()


def main() -> None:
    """Run the node."""
    asyncio.run(run())


if __name__ == "__main__":
    main()
