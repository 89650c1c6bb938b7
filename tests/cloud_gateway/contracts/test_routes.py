"""The service contracts over HTTPS on the real gateway: the customer orders through the API
(the simulated provider pre-checks), the back office confirms and pays back, the customer
sees the contract, its months, documents and journal as JSON and as a page."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from cloud_gateway.accounts.customer_rules import CustomerKind, VatState
from cloud_gateway.accounts.model import Role
from cloud_gateway.accounts.repository_customers import CustomerData, CustomerRepository
from cloud_gateway.billing.periods import local_midnight
from cloud_gateway.config import ContractsConfig, GatewayConfig
from cloud_gateway.http.keys import BILLING
from simulator.satellite import SatelliteSimulator
from tests.support.console import staff_login
from tests.support.gateway import GatewayHarness, gateway_harness
from tunnel.clock import ManualClock


class Browser:
    """A logged-in browser speaking JSON with the session's CSRF token."""

    def __init__(self, http: aiohttp.ClientSession, token: str) -> None:
        self.http, self.token = http, token

    async def call(
        self, method: str, path: str, body: Any = None, key: str | None = None
    ) -> tuple[int, Any]:
        headers = {"X-CSRF-Token": self.token}
        if key:
            headers["Idempotency-Key"] = key
        async with self.http.request(method, path, json=body, headers=headers) as resp:
            data = await resp.json() if resp.content_type == "application/json" else None
            return resp.status, data


async def _browser(gw: GatewayHarness, http: aiohttp.ClientSession, name: str) -> Browser:
    await gw.login(http, name)
    return Browser(http, await gw.form_token(http, "/plants/new"))


async def test_order_confirm_pay_view_and_refund_over_https(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    clock.set(local_midnight(date(2026, 3, 2)) + timedelta(hours=9))
    satellite = SatelliteSimulator()
    await satellite.start()
    config = GatewayConfig(contracts=ContractsConfig(provider_url=satellite.url))
    try:
        async with gateway_harness(tmp_path, db_url, clock, config) as gw:
            anna = await gw.create_account("anna")
            await gw.create_account("olga", role=Role.OPERATOR)
            data = CustomerData(
                account_id=anna.id, kind=CustomerKind.PRIVATE, name="Anna Janssen",
                street="Deichweg 3", postcode="26831", city="Bunde", country="DE",
                vat_id="", vat_state=VatState.NONE, updated_at=clock.now(),
            )  # fmt: skip
            await gw.gateway.store.repo(CustomerRepository).save(data)
            async with gw.client() as http, gw.client() as ops:
                customer = await _browser(gw, http, "anna")
                operator = Browser(ops, await staff_login(gw, ops, "olga", clock))
                await _scenario(gw, customer, operator, anna.id)
    finally:
        await satellite.stop()


async def _scenario(gw: GatewayHarness, customer: Browser, operator: Browser, anna: int) -> None:
    order = {"product": "satellite-uplink", "plan": "monthly"}
    # the provider refuses a site outside its coverage: a clear message, nothing ordered
    status, body = await customer.call(
        "POST", "/api/v1/billing/contracts?lang=en",
        {**order, "latitude": "-1.28", "longitude": "36.8"}, key="k1",
    )  # fmt: skip
    assert (status, body["error"], body["reason"]) == (422, "precheck_refused", "outside_coverage")
    assert "outside its coverage" in body["message"]
    status, body = await customer.call(
        "POST", "/api/v1/billing/contracts", {**order, "latitude": "91", "longitude": "7"}, "k2"
    )
    assert (status, body["fields"]) == (422, {"site": "error.invalid_coordinates"})
    assert "ungültig" in body["message"]
    site = {"latitude": "53.231", "longitude": "7.461"}
    status, body = await customer.call(
        "POST", "/api/v1/billing/contracts", {**order, **site, "wished_start": "2026-03-01"}, "k4"
    )
    assert (status, body["fields"]) == (422, {"wished_start": "error.wished_start_past"})
    assert body["message"] == "Der gewünschte Beginn liegt in der Vergangenheit."
    status, body = await customer.call(
        "POST", "/api/v1/billing/contracts", {"product": "hub-remote", "plan": "1m", **site}, "k5"
    )
    assert (status, body["message"]) == (409, "Dieses Produkt ist kein Servicevertrag.")
    status, placed = await customer.call(
        "POST", "/api/v1/billing/contracts",
        {**order, "latitude": "53.231", "longitude": "7.461"}, key="k3",
    )  # fmt: skip
    assert status == 201
    [contract_id] = placed["contract_ids"]
    status, view = await customer.call("GET", f"/api/v1/billing/contracts/{contract_id}")
    assert (status, view["state"], view["open_reservations"]) == (200, "pending", ["order_form"])
    assert view["service_number"] == placed["service_number"]
    [proforma] = view["documents"]
    assert (proforma["kind"], proforma["gross"], proforma["due_date"]) == (
        "proforma", "2151.52", None,
    )  # fmt: skip
    # only staff (operators, accountants) confirm reservations
    path = f"/api/v1/operator/billing/orders/{placed['order_id']}/reservations/order_form/confirm"
    assert (await customer.call("POST", path, {}))[0] == 403
    billing = gw.gateway.runner.app[BILLING]
    await billing.record_payment(anna, 215152, proforma["payment_reference"], key="bank-1")
    status, confirmed = await operator.call("POST", path, {})
    assert (status, confirmed["state"], confirmed["start"]) == (200, "active", "2026-03-02")
    assert (await operator.call("POST", path, {}))[1] == confirmed  # retried: same answer
    await billing.run()
    status, view = await customer.call("GET", f"/api/v1/billing/contracts/{contract_id}")
    assert (view["state"], view["start"], view["months"][0]["state"]) == (
        "active", "2026-03-02", "running",
    )  # fmt: skip
    assert [d["kind"] for d in view["documents"]] == ["proforma", "invoice"]
    assert [e["kind"] for e in view["journal"]] == ["payment", "charge"]
    status, listed = await customer.call("GET", "/api/v1/billing/contracts")
    assert [c["id"] for c in listed["contracts"]] == [contract_id]
    # the page: German first, money and dates in the user's locale
    async with customer.http.get(f"/portal/contracts/{contract_id}") as resp:
        page = await resp.text()
    assert resp.status == 200
    assert placed["service_number"] in page
    assert "02.03.2026" in page
    assert "2.151,52" in page
    async with customer.http.get(f"/portal/contracts/{contract_id}?lang=en") as resp:
        assert "Service contract" in await resp.text()
    # the supplier ends it at once; the back office pays the credit back (pain.001)
    status, ended = await operator.call(
        "POST", f"/api/v1/operator/contracts/{contract_id}/terminate", {"at_once": True}
    )
    assert (status, ended["ended_on"]) == (200, "2026-03-01")
    assert ended["credited"] == 215152 - 95200  # all three months back, the setup fee stays
    async with operator.http.post(
        f"/api/v1/operator/accounts/{anna}/refund",
        json={"iban": "DE89370400440532013000", "holder": "Anna Janssen"},
        headers={"X-CSRF-Token": operator.token, "Idempotency-Key": "r1"},
    ) as resp:
        assert (resp.status, resp.content_type) == (200, "application/xml")
        xml = await resp.read()
    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
    assert ET.fromstring(xml).findtext(".//p:CtrlSum", namespaces=ns) == "1199.52"
    status, account = await customer.call("GET", "/api/v1/billing/account")
    assert account["balance"] == "0.00"
    # the preview before ordering, as JSON (no login needed) and as a page
    async with aiohttp.ClientSession(
        base_url=gw.url, connector=aiohttp.TCPConnector(ssl=gw.ssl_context)
    ) as anonymous:
        async with anonymous.get(
            "/api/v1/billing/contracts/preview?start=2026-03-01&paid_months=3"
            "&terminate=2026-05-11&mode=at_once"
        ) as resp:
            preview = await resp.json()
        assert preview["documents"][-1]["gross"] == "270.86"
        async with anonymous.get("/portal/contracts/preview?start=2026-03-01") as resp:
            page = await resp.text()
        assert "28.02.2027" in page  # the service's last day, in German
        async with anonymous.get("/portal/contracts/preview?start=2026-03-01&paid_months=1") as r:
            assert "weniger als drei" in await r.text()  # a clear message, input kept
