"""Checkout latency through the PSP simulator: 50 concurrent buyers, "Jetzt kaufen" to order page.

Each buyer has an account and its own HTTP client (keep-alive, as a browser: its connection to
the gateway is open from showing the payment page, untimed); all start together. One buyer's
time runs from placing the order (the checkout's ``place_order`` and ``PaymentPort.start`` with
the card method, as the shop's "Jetzt kaufen" calls them), over paying on the simulator's
hosted page, to the gateway's return route answering with the redirect to the order page.
The gateway is the real one (TLS, SQLite or PostgreSQL, its services from the composition
root); ``bench/shop.py`` reports :func:`checkout_p99_ms` as ``checkout_p99_ms`` (goal: at
most 150 ms).
"""

from __future__ import annotations

import asyncio
import math
import socket
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.ingest import empty_database
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.billing.catalogue import BookingType, PaymentMedium
from cloud_gateway.billing.pricing import Buyer
from cloud_gateway.billing.rendering.view import Party
from cloud_gateway.billing.service import Customer, OrderLine
from cloud_gateway.config import (
    DatabaseConfig,
    GatewayConfig,
    HttpConfig,
    PaymentsConfig,
    PlantsConfig,
)
from cloud_gateway.http.keys import BILLING, PAYMENTS
from cloud_gateway.server import start_gateway
from simulator.psp import PspSimulator
from tunnel.clock import SystemClock

__all__ = ["checkout_p99_ms"]

_LINE = OrderLine(product="hub-remote", plan="1m", booking=BookingType.SINGLE)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def p99(samples: list[float]) -> float:
    """The 99th percentile by nearest rank."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


async def checkout_p99_ms(buyers: int = 50, *, backend: str = "sqlite") -> float:
    """p99 in milliseconds of ``buyers`` concurrent card checkouts (see the module docstring).

    ``backend``: the gateway's database, ``sqlite`` (the default deployment) or ``postgresql``.
    """
    clock = SystemClock()
    with tempfile.TemporaryDirectory(prefix="bench-shop-") as tmp:
        folder = Path(tmp)
        port = _free_port()
        async with (
            PspSimulator(retry_delays=(0.05,)) as psp,
            empty_database(backend) as url,
        ):
            config = GatewayConfig(
                state_dir=folder,
                http=HttpConfig(port=port, public_host="127.0.0.1"),
                database=DatabaseConfig(url=url),
                plants=PlantsConfig(demo_activation_key=True),  # the public demo key
                payments=PaymentsConfig(
                    gateway_url=f"https://127.0.0.1:{port}",
                    psp_url=psp.url,
                    psp_api_key=psp.api_key,
                    psp_secret=psp.secret,
                ),
            )
            gateway = await start_gateway(config, clock)
            try:
                app = gateway.runner.app
                customers = []
                for n in range(buyers):
                    account = await gateway.store.repo(AccountRepository).create(
                        username=f"buyer{n}", email=f"buyer{n}@example.org",
                        password_hash="-", created_at=clock.now(),
                    )  # fmt: skip
                    customers.append(
                        Customer(
                            account_id=account.id,
                            party=Party(
                                name=f"Buyer {n}",
                                street="Weg 1",
                                postcode="26789",
                                city="Leer",
                                customer_number=f"K{account.id:06d}",
                            ),
                            buyer=Buyer(business=False, country="DE"),
                        )
                    )

                async def buy(customer: Customer, http: aiohttp.ClientSession) -> float:
                    started = time.perf_counter()
                    key = f"bench:{customer.account_id}"
                    placed = await app[BILLING].place_order(customer, [_LINE], key=key)
                    order_id = placed["order_id"]
                    begun = await app[PAYMENTS].start(
                        order_id=order_id, account_id=customer.account_id,
                        method=PaymentMedium.CARD, return_url=f"/shop/orders/{order_id}",
                        cancel_url="/shop/cart", key=key,
                    )  # fmt: skip
                    if begun.redirect_url is None:
                        raise AssertionError("no hosted page")
                    async with http.post(
                        begun.redirect_url, data={"method": "card"}, allow_redirects=False
                    ) as paid:
                        back = paid.headers["Location"]
                    async with http.get(back, allow_redirects=False) as page:
                        target = page.headers.get("Location", "")
                    if not target.startswith(f"/shop/orders/{order_id}?payment="):
                        raise AssertionError(f"unexpected redirect {target!r}")
                    return (time.perf_counter() - started) * 1000

                # each buyer is a browser: its own keep-alive connections, the one to the
                # gateway already open (it has just shown the payment page); untimed
                browsers = [
                    aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=False))
                    for _ in customers
                ]
                try:
                    for http in browsers:
                        async with http.get(f"https://127.0.0.1:{port}/shop/products") as shown:
                            await shown.read()
                    samples = await asyncio.gather(
                        *(buy(c, http) for c, http in zip(customers, browsers, strict=True))
                    )
                finally:
                    for http in browsers:
                        await http.close()
                await psp.drain()
            finally:
                await gateway.stop()
    return p99(list(samples))


if __name__ == "__main__":
    for name in ("sqlite", "postgresql"):
        p99_ms = asyncio.run(checkout_p99_ms(backend=name))
        print(f"checkout p99 ({name}): {p99_ms:.1f} ms")
