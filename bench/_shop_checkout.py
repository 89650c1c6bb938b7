"""Checkout latency: 50 concurrent buyers, "Jetzt bezahlen" / "Jetzt kaufen" to the order page.

Two processes, as in production the browsers, the payment providers and the gateway do not
share a CPU: this one runs the real gateway (TLS, SQLite or PostgreSQL, its services from the
composition root); the buyers' node (``bench/_shop_buyers.py``) runs the providers'
simulators and one browser per buyer (own cookie jar, keep-alive connections).

Two legs (``provider``):

- ``psp`` (the issue's "checkout through the PSP simulator", ``checkout_p99_ms``): each buyer
  is an installer with a plant (one inverter of unknown power, priced at 20 kW). Untimed, it
  logs in, orders the plant's licence ("Lizenz kaufen", 365 days, "Jetzt kostenpflichtig
  bestellen") and opens the order's payment page. Timed: POSTing "Jetzt bezahlen" by card
  (CSRF token, pay key), the PSP's hosted page, its "Jetzt bezahlen" (the PSP sends its signed
  notification to the gateway and the buyer back), the gateway's return route, the order
  page it lands on;
- ``paypal`` (hub packages are paid by PayPal or bank transfer, seed 000): untimed, each buyer
  logs in, puts a package into the cart and opens the payment page. Timed: POSTing
  "Jetzt kaufen" (CSRF token, checkout key, PayPal), PayPal's approval page and
  "Zahlung bestätigen", the gateway's return route (capture and booking), the order page.

Before the timed part, ``warmup`` other buyers check out one after the other (a gateway in
service has served checkouts before). After every notification or webhook was answered, each
order must be active with its payment booked once and one invoice (else the run fails).
``bench/shop.py`` reports the p99 of the ``psp`` leg as ``checkout_p99_ms`` (goal: at most
150 ms).
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import math
import os
import socket
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bench._loop import run_gateway
from bench._proc import Node, node
from bench.ingest import empty_database
from cloud_gateway.accounts.customer_rules import CustomerKind
from cloud_gateway.accounts.passwords import PasswordHasher
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.accounts.repository_customers import CustomerData, CustomerRepository
from cloud_gateway.billing.journal import EntryKind
from cloud_gateway.billing.rendering.view import DocumentKind
from cloud_gateway.billing.schema import billing_documents, billing_journal, billing_orders
from cloud_gateway.billing.states import OrderState
from cloud_gateway.config import (
    DatabaseConfig,
    GatewayConfig,
    HttpConfig,
    PaymentsConfig,
    PlantsConfig,
)
from cloud_gateway.payments.model import PaymentState
from cloud_gateway.payments.schema import payments
from cloud_gateway.plants.model import PlantFields
from cloud_gateway.plants.repository import PlantRepository
from cloud_gateway.plants.repository_inverters import InverterRepository
from cloud_gateway.server import start_gateway
from tunnel.clock import SystemClock

__all__ = ["CheckoutRun", "checkout_p99_ms", "checkout_run", "p99"]

#: untimed checkouts before the timed ones (see :func:`checkout_run`)
WARMUP = 2
#: the bench buyers' throwaway password
_PASSWORD = "Sonnig!2026"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def p99(samples: list[float]) -> float:
    """The 99th percentile by nearest rank."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def p50(samples: list[float]) -> float:
    """The median by nearest rank."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.5 * len(ordered)) - 1)]


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckoutRun:
    """One run's measurements (milliseconds)."""

    #: each buyer's time from "Jetzt kaufen" to the order page
    samples: list[float]
    #: each step's times (``bench._shop_buyers.STEPS``)
    spans: dict[str, list[float]]
    #: CPU seconds of the gateway's process (its loop and driver threads) while timed
    gateway_cpu_s: float
    #: SQL statements the gateway sent to its database while timed
    statements: int = 0
    #: connections the gateway checked out of its pool while timed
    checkouts: int = 0

    @property
    def p99_ms(self) -> float:
        return p99(self.samples)

    def summary(self) -> dict[str, Any]:
        """p50/p99 of the whole and of each step."""
        steps = {k: [round(p50(v), 1), round(p99(v), 1)] for k, v in self.spans.items()}
        return {
            "p50_ms": round(p50(self.samples), 1),
            "p99_ms": round(self.p99_ms, 1),
            "gateway_cpu_ms_per_checkout": round(1000 * self.gateway_cpu_s / len(self.samples), 1),
            "statements_per_checkout": round(self.statements / len(self.samples), 1),
            "pool_checkouts_per_checkout": round(self.checkouts / len(self.samples), 1),
            "steps_p50_p99_ms": steps,
        }


async def _event(buyers_node: Node) -> dict[str, Any]:
    """The node's next line, read without blocking the gateway's loop."""
    return await asyncio.to_thread(buyers_node.event)


async def _verify(gateway_store: Any, buyers: int) -> None:
    """Every order active, every attempt paid, every payment booked once, one invoice each."""
    async with gateway_store.engine.connect() as conn:
        states = (await conn.execute(sa.select(billing_orders.c.state))).scalars().all()
        paid = (await conn.execute(sa.select(payments.c.state))).scalars().all()
        booked = await conn.scalar(
            sa.select(sa.func.count()).where(billing_journal.c.kind == EntryKind.PAYMENT.value)
        )
        invoices = await conn.scalar(
            sa.select(sa.func.count()).where(billing_documents.c.kind == DocumentKind.INVOICE.value)
        )
    active = sum(1 for s in states if s == OrderState.ACTIVE.value)
    if (len(states), active, len(paid), booked, invoices) != (buyers,) * 5 or any(
        s != PaymentState.PAID.value for s in paid
    ):
        raise AssertionError(
            f"{buyers} buyers: orders {states!r}, payments {paid!r}, "
            f"{booked} payments booked, {invoices} invoices"
        )


async def checkout_run(
    buyers: int = 50,
    *,
    backend: str = "sqlite",
    warmup: int = WARMUP,
    alone: bool = False,
    provider: str = "psp",
) -> CheckoutRun:
    """``buyers`` concurrent checkouts (see the module docstring).

    ``backend``: the gateway's database, ``sqlite`` (the default deployment) or ``postgresql``;
    ``warmup``: checkouts by other buyers, one after the other and untimed, before the timed
    ones (a gateway in service has served checkouts before: its first one also pays for
    lazy imports, template compilation, SQLAlchemy's statement cache and new pool
    connections); ``alone``: the buyers check out one after the other instead of all at once
    (what one buyer alone on the gateway waits); ``provider``: ``psp`` (a monitoring licence
    for the buyer's plant, paid by card on the PSP's hosted page) or ``paypal`` (a hub
    package paid by PayPal).
    """
    if provider not in ("psp", "paypal"):
        raise ValueError(f"unknown provider {provider!r}")
    clock = SystemClock()
    with (
        tempfile.TemporaryDirectory(prefix="bench-shop-") as tmp,
        node("bench._shop_buyers", extra=_profile_args()) as buyers_node,
    ):
        folder = Path(tmp)
        port = _free_port()
        paypal = await _event(buyers_node)
        async with empty_database(backend) as url:
            config = GatewayConfig(
                state_dir=folder,
                http=HttpConfig(port=port, public_host="127.0.0.1"),
                database=DatabaseConfig(url=url),
                plants=PlantsConfig(demo_activation_key=True),  # the public demo key
                payments=PaymentsConfig(
                    gateway_url=f"https://127.0.0.1:{port}",
                    paypal_api_url=paypal["paypal_url"],
                    paypal_client_id=paypal["client_id"],
                    paypal_client_secret=paypal["client_secret"],
                    paypal_webhook_id=paypal["webhook_id"],
                    psp_url=paypal["psp_url"],
                    psp_api_key=paypal["psp_api_key"],
                    psp_secret=paypal["psp_secret"],
                ),
            )
            gateway = await start_gateway(config, clock)
            try:
                hashed = await asyncio.to_thread(PasswordHasher().hash, _PASSWORD)
                logins = []
                for n in range(buyers + warmup):
                    account = await gateway.store.repo(AccountRepository).create(
                        username=f"buyer{n}", email=f"buyer{n}@example.org",
                        password_hash=hashed, created_at=clock.now(),
                    )  # fmt: skip
                    await gateway.store.repo(CustomerRepository).save(
                        CustomerData(
                            account_id=account.id,
                            kind=CustomerKind.PRIVATE,
                            name=f"Buyer {n}",
                            street="Weg 1",
                            postcode="26789",
                            city="Leer",
                            country="DE",
                            updated_at=clock.now(),
                        )
                    )
                    login: dict[str, Any] = {"login": f"buyer{n}", "password": _PASSWORD}
                    if provider == "psp":
                        login["plant"] = await _plant(gateway.store, account.id, clock.now())
                    logins.append(login)
                buyers_node.send(
                    {
                        "gateway": gateway.url,
                        "buyers": logins[warmup:],
                        "warmup": logins[:warmup],
                        "alone": alone,
                        "provider": provider,
                    }
                )
                await _event(buyers_node)  # logged in, carts filled: ready
                with _profiled(f"gateway-{backend}"), _counted(gateway.store.engine) as counter:
                    cpu = time.process_time()
                    buyers_node.send({"go": True})
                    result = await _event(buyers_node)
                    cpu = time.process_time() - cpu
                await _verify(gateway.store, buyers + warmup)
            finally:
                await gateway.stop()
    return CheckoutRun(
        samples=list(result["samples"]),
        spans=dict(result["spans"]),
        gateway_cpu_s=cpu,
        statements=counter[0],
        checkouts=counter[1],
    )


async def _plant(store: Any, account_id: int, now: datetime) -> int:
    """A plant with one inverter of unknown power (priced at 20 kW): the licence to buy."""
    plant = await store.repo(PlantRepository).create(account_id, PlantFields(name="Dach"), now)
    await store.repo(InverterRepository).add(
        plant_id=plant.id, account_id=account_id, serial=f"BENCH{plant.id:06d}", name="", now=now
    )
    return int(plant.id)


@contextlib.contextmanager
def _counted(engine: AsyncEngine) -> Iterator[list[int]]:
    """The SQL statements ``engine`` executes and the connections it checks out of its pool
    inside the block (``[statements, checkouts]``)."""
    counter = [0, 0]

    def count(*_: object) -> None:
        counter[0] += 1

    def checkout(*_: object) -> None:
        counter[1] += 1

    sa.event.listen(engine.sync_engine, "before_cursor_execute", count)
    sa.event.listen(engine.sync_engine.pool, "checkout", checkout)
    try:
        yield counter
    finally:
        sa.event.remove(engine.sync_engine, "before_cursor_execute", count)
        sa.event.remove(engine.sync_engine.pool, "checkout", checkout)


@contextlib.contextmanager
def _profiled(name: str) -> Iterator[None]:
    """``BENCH_PROFILE=DIR``: this process (the gateway's loop) under cProfile while the
    checkouts run, stats to ``DIR/NAME.prof``; the main thread's CPU time, not wall time
    (see ``bench/_cpu_profile.py``)."""
    directory = os.environ.get("BENCH_PROFILE")
    if not directory:
        yield
        return
    profiler = cProfile.Profile(time.thread_time)
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        profiler.dump_stats(str(Path(directory) / f"{name}.prof"))


def _profile_args() -> list[str]:
    """``BENCH_PROFILE=DIR``: the buyers' node under cProfile too (``DIR/buyers.prof``)."""
    directory = os.environ.get("BENCH_PROFILE")
    return ["-m", "cProfile", "-o", str(Path(directory) / "buyers.prof")] if directory else []


async def checkout_p99_ms(buyers: int = 50, *, backend: str = "sqlite") -> float:
    """p99 in milliseconds of ``buyers`` concurrent card checkouts (see the module docstring)."""
    return (await checkout_run(buyers, backend=backend)).p99_ms


if __name__ == "__main__":
    import json
    import sys

    # python -m bench._shop_checkout [N] [sqlite] [postgresql] [psp] [paypal] [warmup=K] [alone]
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    options = sys.argv[2:]
    warm = [int(a.removeprefix("warmup=")) for a in options if a.startswith("warmup=")]
    one_by_one = "alone" in options
    providers = [a for a in options if a in ("psp", "paypal")] or ["psp"]
    for name in [a for a in options if a in ("sqlite", "postgresql")] or ["sqlite", "postgresql"]:
        for via in providers:
            run = run_gateway(
                checkout_run(
                    count, backend=name, warmup=warm[-1] if warm else WARMUP, alone=one_by_one,
                    provider=via,
                )
            )  # fmt: skip
            line = {"backend": name, "provider": via, "buyers": count, "alone": one_by_one}
            print(json.dumps({**line, **run.summary()}), flush=True)
