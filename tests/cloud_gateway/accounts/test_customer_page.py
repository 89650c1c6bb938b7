"""The customer-data page: corrections keep what was typed, VAT state and country rules shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloud_gateway.accounts.repository_customers import CustomerData, CustomerRepository
from cloud_gateway.config import GatewayConfig, VatConfig
from simulator.vies import ViesSimulator
from tests.cloud_gateway.accounts.test_terms_and_customers import AEI
from tests.support.browser import chromium_context
from tests.support.gateway import gateway_harness
from tunnel.clock import ManualClock, SystemClock


async def test_business_with_umlauts_needs_a_spelling_then_vat_is_checked(
    tmp_path: Path, db_url: str, clock: ManualClock, vies: ViesSimulator
) -> None:
    config = GatewayConfig(vat=VatConfig(vies_url=vies.url, retry_minutes=30))
    async with gateway_harness(tmp_path, db_url, clock, config) as gw:
        anna = await gw.create_account("anna")
        async with gw.client() as http:
            await gw.login(http, "anna")
            async with http.get("/portal") as resp:
                assert 'href="/portal/customer"' in await resp.text()
            token = await gw.form_token(http, "/portal/customer")
            form = {
                "csrf_token": token,
                "kind": "business",
                "name": "AEI Pöwer GmbH",
                "street": AEI.street,
                "postcode": AEI.postcode,
                "city": "Mätzingen",
                "country": "de",
                "vat_id": AEI.vat_id,
            }
            async with http.post("/portal/customer", data=form) as resp:
                assert resp.status == 422
                html = await resp.text()
                assert 'id="customer-error"' in html
                assert 'name="name_corrected"' in html
                assert 'name="city_corrected"' in html
                assert 'name="street_corrected"' not in html  # the street was fine
                assert 'value="AEI Pöwer GmbH"' in html  # nothing typed is lost
            assert await gw.gateway.store.repo(CustomerRepository).get(anna.id) is None

            spelled = {**form, "name_corrected": AEI.name, "city_corrected": AEI.city}
            async with http.post("/portal/customer", data=spelled) as resp:
                assert resp.status == 200
                html = await resp.text()
                assert 'id="customer-saved"' in html
                assert 'data-state="valid"' in html
            stored = await gw.gateway.store.repo(CustomerRepository).get(anna.id)
            assert isinstance(stored, CustomerData)
            assert (stored.name, stored.name_corrected, stored.country) == (
                "AEI Pöwer GmbH",
                AEI.name,
                "DE",
            )
            assert vies.requests == 1

            private_abroad = {**form, "kind": "private", "name": "Anna", "city": "Wien"}
            private_abroad |= {"country": "AT", "vat_id": ""}
            async with http.post("/portal/customer", data=private_abroad) as resp:
                assert resp.status == 200
                assert 'data-eligibility="refused"' in await resp.text()

            async with http.post("/portal/customer", data={**form, "name": ""}) as resp:
                assert resp.status == 422
            async with http.post("/portal/customer", data={**form, "csrf_token": "x"}) as resp:
                assert resp.status == 403


@pytest.mark.browser
async def test_customer_fills_in_the_page_in_chromium(tmp_path: Path) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db_url, SystemClock()) as gw, chromium_context() as ctx:
        anna = await gw.create_account("anna")
        page = await ctx.new_page()
        await page.goto(gw.url + "login")
        await page.fill("input[name=login]", "anna")
        await page.fill("input[name=password]", "Sonnig!2026")
        await page.click("button[type=submit]")
        await page.wait_for_url("**/portal")
        await page.click("#nav-customer")
        await page.fill("#customer-form input[name=name]", "Anna Sonne")
        await page.fill("#customer-form input[name=street]", "Sonnenweg 1")
        await page.fill("#customer-form input[name=postcode]", "10115")
        await page.fill("#customer-form input[name=city]", "Berlin")
        await page.click("#customer-form button[type=submit]")
        await page.wait_for_selector("#customer-saved")
        assert await page.inner_text("#customer-saved") == "Kundendaten gespeichert."
        stored = await gw.gateway.store.repo(CustomerRepository).get(anna.id)
        assert stored is not None
        assert (stored.kind.value, stored.city, stored.country) == ("private", "Berlin", "DE")
