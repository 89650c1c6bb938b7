"""A payment rig: the payments routes on loopback, the billing core on each backend, and the
PayPal and PSP simulators speaking their real protocols to it."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp import web

from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.billing.catalogue import BookingType, load_catalogues
from cloud_gateway.billing.pricing import Buyer
from cloud_gateway.billing.rendering.view import Party
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.service import BillingService, Customer, OrderLine
from cloud_gateway.config import BillingConfig, PaymentsConfig
from cloud_gateway.entitlements.service import EntitlementService
from cloud_gateway.entitlements.windows import WindowKind
from cloud_gateway.http.errors import domain_errors
from cloud_gateway.http.keys import OPENAPI, PAYMENTS
from cloud_gateway.http.openapi import OpenApi
from cloud_gateway.notify.outbox import Outbox
from cloud_gateway.notify.repository import OutboxRepository
from cloud_gateway.payments import routes
from cloud_gateway.payments.model import Provider
from cloud_gateway.payments.providers import PaymentProvider
from cloud_gateway.payments.providers.paypal import PayPalProvider
from cloud_gateway.payments.providers.psp import PspProvider
from cloud_gateway.payments.service import PaymentService
from cloud_gateway.store import Store
from simulator.paypal import PayPalSimulator
from simulator.psp import PspSimulator
from tests.cloud_gateway.billing import conftest as billing_fixtures
from tunnel.clock import ManualClock

#: every document made here passes the EN 16931 validation (the billing tests' fixture)
checked_store = billing_fixtures.checked_store


@dataclass
class Rig:
    """Everything a payment test touches."""

    url: str
    store: Store
    clock: ManualClock
    billing: BillingService
    entitlements: EntitlementService
    payments: PaymentService
    paypal: PayPalSimulator
    psp: PspSimulator
    customer: Customer

    async def place(
        self, booking: BookingType = BookingType.SINGLE, *, key: str = "order-1"
    ) -> int:
        line = OrderLine(product="hub-remote", plan="1m", booking=booking)
        placed = await self.billing.place_order(self.customer, [line], key=key)
        return int(placed["order_id"])

    async def count(self, table: str, where: str = "") -> int:
        query = f"SELECT COUNT(*) FROM {table} {where}"
        async with self.store.engine.connect() as conn:
            return int((await conn.execute(sa.text(query))).scalar_one())

    async def packages(self) -> int:
        windows = await self.entitlements.account_windows(self.customer.account_id)
        return sum(1 for w in windows if w.kind is WindowKind.PACKAGE)

    async def order_state(self, order_id: int) -> str:
        return (await self.billing.order_state(order_id)).value

    async def exactly_once(self) -> None:
        """One payment booked, one invoice, one window, one mail: the activation happened once."""
        assert await self.count("billing_journal", "WHERE kind = 'payment'") == 1
        assert await self.count("billing_documents", "WHERE kind = 'invoice'") == 1
        assert await self.packages() == 1
        assert await self.count("notification_outbox", "WHERE template = 'order_paid'") == 1

    async def approve(self, redirect_url: str) -> str:
        """The buyer opens PayPal's page, clicks "Zahlung bestätigen"; the gateway's answer."""
        async with aiohttp.ClientSession() as http:
            async with http.get(redirect_url) as page:
                text = await page.text()
            assert "Zahlung bestätigen" in text or "Zustimmen" in text
            action = text.split("action='", 1)[1].split("'", 1)[0]
            async with http.post(self.paypal.url + action, allow_redirects=False) as back:
                gateway = back.headers["Location"]
            async with http.get(gateway, allow_redirects=False) as done:
                return done.headers.get("Location", "")


@pytest.fixture
async def rig(checked_store: Store) -> AsyncIterator[Rig]:
    """The rig; every document it made passes EN 16931 afterwards (``checked_store``)."""
    store = checked_store
    clock = ManualClock(datetime.now(UTC))
    account = await store.repo(AccountRepository).create(
        username="janssen", email="janssen@example.org", password_hash="h", created_at=clock.now()
    )
    customer = Customer(
        account_id=account.id,
        party=Party(
            name="Hof Janssen", street="Deichweg 3", postcode="26831", city="Bunde",
            customer_number=f"K{account.id:06d}",
        ),
        buyer=Buyer(business=False, country="DE"),
    )  # fmt: skip
    entitlements = EntitlementService(store, clock)
    billing = BillingService(
        store.repo(BillingRepository), load_catalogues(), clock, BillingConfig(),
        entitlements=entitlements, outbox=Outbox(store.repo(OutboxRepository)),
    )  # fmt: skip
    sock = socket.create_server(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    async with PayPalSimulator() as paypal, PspSimulator() as psp:
        webhook_id = paypal.register_webhook(f"{url}/api/v1/payments/paypal/webhook")
        config = PaymentsConfig(
            gateway_url=url,
            paypal_api_url=paypal.url,
            paypal_client_id=paypal.client_id,
            paypal_client_secret=paypal.client_secret,
            paypal_webhook_id=webhook_id,
            psp_url=psp.url,
            psp_api_key=psp.api_key,
            psp_secret=psp.secret,
        )
        paypal_provider = PayPalProvider(config)
        providers: dict[Provider, PaymentProvider] = {
            Provider.PAYPAL: paypal_provider,
            Provider.PAYPAL_SUBSCRIPTION: paypal_provider,
            Provider.PSP: PspProvider(config, clock),
        }
        service = PaymentService(
            store, billing, clock, config, providers=providers, gateway_url=url
        )
        app = web.Application(middlewares=[domain_errors])
        app[OPENAPI] = OpenApi("test", "1")
        app[PAYMENTS] = service
        routes.setup(app)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        try:
            yield Rig(
                url=url, store=store, clock=clock, billing=billing, entitlements=entitlements,
                payments=service, paypal=paypal, psp=psp, customer=customer,
            )  # fmt: skip
            await paypal.drain()
            await psp.drain()
        finally:
            await runner.cleanup()
            await service.close()
