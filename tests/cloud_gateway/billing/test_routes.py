"""The read-only billing API on the real gateway over TLS: own data only, amounts as strings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from cloud_gateway.billing.catalogue import load_catalogues
from cloud_gateway.billing.pricing import Buyer
from cloud_gateway.billing.rendering.view import Party
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.service import BillingService, Customer, OrderLine
from cloud_gateway.config import BillingConfig
from tests.support.einvoice import validate_pdf
from tests.support.gateway import gateway_harness
from tunnel.clock import ManualClock


async def _get(http: aiohttp.ClientSession, path: str) -> tuple[int, Any]:
    async with http.get(path) as resp:
        return resp.status, await resp.json()


async def test_orders_documents_and_balance(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        anna = await gw.create_account("anna")
        bert = await gw.create_account("bert")
        service = BillingService(
            gw.gateway.store.repo(BillingRepository), load_catalogues(), clock, BillingConfig()
        )
        customer = Customer(
            account_id=anna.id, party=Party(name="Anna"), buyer=Buyer(business=False, country="DE")
        )
        placed = await service.place_order(
            customer, [OrderLine(product="satellite-uplink", plan="monthly")], key="o"
        )
        await service.record_payment(anna.id, 300000, "RF98PR202600001", key="p")
        async with gw.client() as http:
            assert (await _get(http, "/api/v1/billing/account"))[0] == 401
            await gw.login(http, "anna")
            status, body = await _get(http, "/api/v1/billing/orders")
            assert status == 200
            [order] = body["orders"]
            assert (order["id"], order["state"], order["open_reservations"]) == (
                placed["order_id"], "paid", ["order_form"],
            )  # fmt: skip
            assert order["lines"][0]["product"] == "satellite-uplink"
            status, body = await _get(http, "/api/v1/billing/documents")
            [doc] = body["documents"]
            assert (doc["number"], doc["gross"], doc["tax"]) == (
                "PR-2026-00001",
                "2151.52",
                "343.52",
            )
            status, full = await _get(http, f"/api/v1/billing/documents/{doc['id']}")
            assert full["document"]["lines"][0]["name"] == "Vertragseinleitungsgebühr"
            assert full["document"]["seller_bank"]["iban"] == BillingConfig().iban
            assert full["sha256"] == doc["sha256"]
            async with http.get(f"/api/v1/billing/documents/{doc['id']}/pdf") as resp:
                assert resp.status == 200
                assert resp.content_type == "application/pdf"
                assert resp.headers["X-Document-SHA256"] == doc["sha256"]
                pdf = await resp.read()
            xml = validate_pdf(pdf)  # EN 16931: XSD and schematron
            assert b"PR-2026-00001" in xml
            status, account = await _get(http, "/api/v1/billing/account")
            assert (status, account["balance"]) == (200, "848.48")
            assert [e["kind"] for e in account["entries"]] == ["payment", "charge"]
        async with gw.client() as other:
            await gw.login(other, "bert")
            assert (await _get(other, f"/api/v1/billing/documents/{doc['id']}"))[0] == 404
            assert (await _get(other, f"/api/v1/billing/orders/{order['id']}"))[0] == 404
            async with other.get(f"/api/v1/billing/documents/{doc['id']}/pdf") as resp:
                assert resp.status == 404
            assert (await _get(other, "/api/v1/billing/account"))[1]["balance"] == "0.00"
        assert bert.id != anna.id
