"""Closing an account (R-POR-6): password confirmed, personal data erased, devices revoked and
their tunnels closed within 5 s, contracts ended, invoices kept (EN 16931), a confirmation mail.

Real parts: the gateway over TLS on the database of each backend, a device enrolled through the
pairing flow holding a real tunnel, the billing service's documents, aiosmtpd for the mail.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

from cloud_gateway.accounts.customer_rules import CustomerKind
from cloud_gateway.accounts.customers import CustomerInput
from cloud_gateway.accounts.model import Role
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.accounts.repository_customers import CustomerRepository
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.states import ContractState
from cloud_gateway.config import GatewayConfig, SmtpConfig
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.http.keys import CUSTOMERS, TUNNELS
from cloud_gateway.plants.model import PlantFields
from cloud_gateway.plants.repository import PlantRepository
from cloud_gateway.portal.bank import check_bank_details
from cloud_gateway.portal.repository import PortalRepository
from simulator.demo_billing import ensure_demo_money
from tests.cloud_gateway.portal.support import (
    accept_terms,
    checked_documents,
    logged_in,
    text_of,
)
from tests.support.gateway import gateway_harness
from tests.support.smtp import RecordingSmtp
from tests.support.tunnel_device import TestDevice, enrol_device, open_tunnel
from tunnel.clock import SystemClock


async def test_closing_an_account_erases_it_closes_tunnels_and_keeps_invoices(
    tmp_path: Path, db_url: str
) -> None:
    smtp = RecordingSmtp()
    await smtp.start()
    clock = SystemClock()
    config = GatewayConfig(smtp=SmtpConfig(host=smtp.host, port=smtp.port, poll_interval_s=0.5))
    try:
        async with gateway_harness(tmp_path, db_url, clock, config) as gw:
            anna = await gw.create_account("anna")
            ivo = await gw.create_account("ivo", role=Role.INSTALLER)
            await accept_terms(gw, anna.id)
            store = gw.gateway.store
            app = gw.gateway.runner.app
            entered = CustomerInput(kind=CustomerKind.PRIVATE, name="Anna Alt",
                                    street="Weg 1", postcode="10117", city="Berlin",
                                    country="DE")  # fmt: skip
            assert (await app[CUSTOMERS].save(anna.id, entered)).saved is not None
            bank = check_bank_details("Anna Alt", "DE02120300000000202051")
            await store.repo(PortalRepository).save_bank(anna.id, bank, clock.now())
            plant = await store.repo(PlantRepository).create(
                anna.id, PlantFields(name="Dach"), clock.now()
            )
            await store.repo(CustomerRepository).delegate(anna.id, ivo.id, plant.id, clock.now())
            money = await ensure_demo_money(gw.gateway, anna)
            documents_before = await checked_documents(store)
            assert money.invoice in documents_before

            device = TestDevice(tmp_path / "device", gw.gateway.tls.ca_cert or Path())
            slug = await enrol_device(gw, device, "anna")
            tunnel = await open_tunnel(gw.url, device.client_ssl())
            device_id = (await store.repo(DeviceRepository).get_by_slug(slug)).id
            assert app[TUNNELS].get(device_id) is not None

            async with logged_in(gw, "anna") as browser:
                wrong = {"csrf_token": browser.token, "password": "falsch"}
                async with browser.http.post("/portal/account/delete", data=wrong) as resp:
                    html = await resp.text()
                assert resp.status == 403
                assert "Das Passwort ist falsch" in text_of(html)
                assert (await store.repo(AccountRepository).get(anna.id)).username == "anna"
                assert not tunnel.task.done()

                right = {"csrf_token": browser.token, "password": "Sonnig!2026"}
                started = time.monotonic()
                async with browser.http.post("/portal/account/delete", data=right) as resp:
                    html = await resp.text()
                assert resp.status == 200
                assert "Ihr Konto wurde gelöscht" in text_of(html)
                assert 'id="logged-in-as"' not in html
                await tunnel.closed(timeout=5.0)
                assert time.monotonic() - started < 5.0
                async with browser.http.get("/portal") as resp:
                    assert resp.url.path == "/login"  # the session is gone
            await tunnel.stop()

            # personal data gone
            account = await store.repo(AccountRepository).get(anna.id)
            assert account.username == f"geloescht-{anna.id}"
            assert "anna" not in account.email
            assert await store.repo(AccountRepository).find_by_login("anna") is None
            assert await store.repo(CustomerRepository).get(anna.id) is None
            assert await store.repo(PortalRepository).bank(anna.id) is None
            assert await store.repo(PlantRepository).list_for_account(anna.id) == []
            assert await store.repo(CustomerRepository).delegations(owner_account_id=anna.id) == []
            hub = await store.repo(DeviceRepository).get_by_slug(slug)
            assert hub.account_id is None
            assert hub.disabled
            assert await store.repo(PortalRepository).closed_at(anna.id) is not None
            async with gw.client() as http:
                assert (await gw.login(http, "anna")).status == 401

            # the device cannot come back: its certificate is revoked
            try:
                again = await open_tunnel(gw.url, device.client_ssl())
            except Exception:  # noqa: BLE001 - refused at TLS or with REFUSE: either is a refusal
                pass
            else:
                await again.closed(timeout=5.0)
                await again.stop()

            # the running subscription ended at its period's end through the billing service
            repo = store.repo(BillingRepository)
            async with repo.transaction() as conn:
                contracts = [c for c in await repo.contracts(conn) if c.account_id == anna.id]
            assert ContractState.ENDED in {c.state for c in contracts}
            assert ContractState.ACTIVE not in {c.state for c in contracts}

            # invoices kept, and still valid e-invoices
            assert await checked_documents(store) == documents_before

            # the confirmation mail went to the old address
            mails = await smtp.wait_for(1, timeout=10.0)
            closed = [m for m in mails if "gelöscht" in str(m["Subject"])]
            assert closed
            assert closed[0]["To"] == "anna@example.org"
            body = closed[0].get_body()
            assert body is not None
            text = body.get_content()
            assert f"31.12.{date.today().year + 8}" in text
    finally:
        await smtp.stop()
