"""The licence pages: renewal from day -40, refusals, the app's list, and (Chromium at 390 px)
buying licences for two plants in one order with the total shown before the checkbox."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import BrowserContext, Page

from cloud_gateway.accounts.customer_rules import CustomerKind, VatState
from cloud_gateway.accounts.model import Account
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.http.keys import ENTITLEMENTS, LICENCES
from cloud_gateway.i18n import Language
from cloud_gateway.licences.quote import LicenceTerm
from cloud_gateway.licences.texts import day as format_day
from cloud_gateway.localdays import local_date, local_midnight
from cloud_gateway.notify.repository import OutboxRepository
from cloud_gateway.plants.model import Plant, PlantFields
from cloud_gateway.plants.repository import PlantRepository
from cloud_gateway.plants.repository_inverters import InverterRepository
from tests.cloud_gateway.billing.conftest import validate_documents
from tests.cloud_gateway.licences.conftest import save_customer, set_nameplate
from tests.support.browser import chromium_context
from tests.support.gateway import GatewayHarness, gateway_harness
from tunnel.clock import ManualClock


async def customer(gw: GatewayHarness, account: Account, **data: Any) -> None:
    await save_customer(gw.gateway.store, account.id, gw.clock.now(), **data)


async def plant(gw: GatewayHarness, owner: Account, name: str, watts: list[int]) -> Plant:
    store = gw.gateway.store
    created = await store.repo(PlantRepository).create(
        owner.id, PlantFields(name=name), gw.clock.now()
    )
    for n, w in enumerate(watts):
        serial = f"{name[:3].upper()}{created.id:03d}{n:04d}"
        await store.repo(InverterRepository).add(
            plant_id=created.id, account_id=owner.id, serial=serial, name="", now=gw.clock.now()
        )
        await set_nameplate(store, owner.id, serial, w, gw.clock.now())
    return created


async def phone_login(ctx: BrowserContext, base: str, login: str = "anna") -> Page:
    """A 390 px wide page, logged in at ``base`` (the portal)."""
    page = await ctx.new_page()
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto(base + "login")
    await page.fill("input[name=login]", login)
    await page.fill("input[name=password]", "Sonnig!2026")
    await page.click("button[type=submit]")
    await page.wait_for_url("**/portal")
    return page


async def quote_many(page: Page, base: str, first: Plant, second: Plant) -> None:
    """From ``first``'s plant page, "Mehrere Lizenzen kaufen" for both, 365 days, German."""
    await page.goto(f"{base}plants/{first.id}")
    await page.click("#plant-buy-licence")
    await page.wait_for_url(f"**/plants/{first.id}/licence")
    await page.click("#buy-many")  # "Mehrere Lizenzen kaufen"
    await page.wait_for_url("**/licences/buy")
    await page.check(f"input[name=plant][value='{first.id}']")
    await page.check(f"input[name=plant][value='{second.id}']")
    await page.check("input[name=term][value='365d']")
    await page.check("input[name=contract_language][value='de']")
    await page.click("#calculate")


async def only_order_contracts(
    gw: GatewayHarness, owner: Account
) -> tuple[int, list[tuple[int | None, int | None]]]:
    """The id of ``owner``'s one order and its contracts as sorted (plant id, power in W)."""
    billing = gw.gateway.store.repo(BillingRepository)
    async with billing.transaction() as conn:
        (placed,) = await billing.orders(conn, owner.id)
        contracts = await billing.contracts(conn, order_id=placed.id)
    return placed.id, sorted((c.plant_id, c.power_w) for c in contracts)


async def licence_ending(gw: GatewayHarness, owner: Account, created: Plant, days: int) -> None:
    """A 365-day licence whose access ends ``days`` local days from today (at midnight)."""
    today = local_date(gw.clock.now())
    start = local_midnight(today + timedelta(days=days - 365))
    await gw.gateway.runner.app[ENTITLEMENTS].buy_licence(
        plant_id=created.id, account_id=owner.id, paid_at=start, days=365,
        licensed_power_w=10_000, source="operator:test", idempotency_key=f"t:{created.id}",
    )  # fmt: skip


async def test_renewal_from_day_minus_40_refusals_and_the_app_list(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw, gw.client() as http:
        anna = await gw.create_account("anna")
        await customer(
            gw, anna, kind=CustomerKind.BUSINESS, country="AT", vat_id="ATU12345678",
            vat_state=VatState.PENDING,
        )  # fmt: skip
        # activated now; 41 days later their trials are over and only licences count
        day40 = await plant(gw, anna, "Vierzig", [8000])
        day41 = await plant(gw, anna, "Einundvierzig", [8000])
        ohne = await plant(gw, anna, "Ohne", [8000])
        await gw.login(http, "anna")
        async with http.get(f"/plants/{ohne.id}") as resp:  # in its trial: kind and end shown
            trial = await resp.text()
        trial_end = format_day(Language.DE, local_date(clock.now()) + timedelta(days=40))
        assert 'data-kind="trial"' in trial
        # 40 days from an activation during the day: the 41st local day is the last
        assert f"Testphase bis einschließlich {trial_end} (noch 41 Tage)" in trial
        assert 'id="plant-trial-ends"' not in trial
        async with http.get(f"/plants/{ohne.id}?lang=en") as resp:
            assert "Trial until " in await resp.text()
        clock.advance(timedelta(days=1))  # 40 days left: the end is announced with the offer
        await gw.login(http, "anna")
        async with http.get(f"/plants/{ohne.id}?lang=de") as resp:
            trial = await resp.text()
        assert 'id="plant-trial-ends"' in trial  # buying is offered, not "renewing"
        assert 'id="plant-buy-licence"' in trial
        assert 'id="plant-renew-licence"' not in trial
        clock.advance(timedelta(days=40))
        await licence_ending(gw, anna, day40, 40)
        await licence_ending(gw, anna, day41, 41)
        await gw.login(http, "anna")

        async with http.get(f"/plants/{day40.id}/licence") as resp:
            on = await resp.text()
        async with http.get(f"/plants/{day41.id}/licence") as resp:
            before = await resp.text()
        assert 'id="renew"' in on
        assert "Lizenz erneuern" in on
        assert 'id="licence-ends-soon"' in on
        assert "(noch 40 Tage)" in on
        assert 'id="renew"' not in before
        assert "(noch 41 Tage)" in before  # the end is announced all the same
        async with http.get("/plants") as resp:  # the list shows each plant's last day
            listing = await resp.text()
        assert listing.count('data-licence-end=""') == 1  # "Ohne": no licence, a buy link
        assert "Lizenz kaufen" in listing
        last_day = local_date(clock.now()) + timedelta(days=39)
        assert f'data-licence-end="{format_day(Language.DE, last_day, "medium")}"' in listing
        async with http.get(f"/plants/{day40.id}") as resp:  # the plant page announces it too
            detail = await resp.text()
        assert 'id="plant-renew-licence"' in detail
        assert 'data-kind="licence"' in detail
        assert "Lizenz bis einschließlich" in detail
        assert "(noch 40 Tage)" in detail
        async with http.get(f"/plants/{day41.id}?lang=en") as resp:
            detail = await resp.text()
        assert 'id="plant-renew-licence"' not in detail
        assert "(41 days left)" in detail
        async with http.get(f"/plants/{day41.id}?lang=de") as resp:  # back to German
            assert "(noch 41 Tage)" in await resp.text()

        # Gebühren vorab erfragen: 8,000 W + 5,000 W > the 10,000 W licensed; nothing changes
        async with http.get(f"/plants/{day40.id}/licence/preview?added=5000") as resp:
            preview = await resp.text()
        assert 'data-exceeds="yes"' in preview
        assert 'data-new-watts="13000"' in preview
        assert 'id="quote-total" data-cents="10591"' in preview  # 89.00 + 19 %
        # the list price 58.31 (no order behind this licence) * 40 / 365 days = 6.39
        assert 'id="quote-credit" data-cents="639"' in preview
        async with http.get(f"/plants/{day40.id}/licence/preview?added=5kW") as resp:
            assert resp.status == 422
            wrong = await resp.text()
        assert "Bitte geben Sie die Nennleistung in ganzen Watt an" in wrong
        assert 'value="5kW"' in wrong  # the input is kept
        assert (
            await gw.gateway.runner.app[ENTITLEMENTS].plant_decision(day40.id, clock.now())
        ).entitled

        async with http.get(f"/api/v1/plants/{day40.id}/licence") as resp:  # the same as JSON
            body = await resp.json()
        assert (body["entitled"], body["days_left"], body["renew_offered"]) == (True, 40, True)
        assert body["power_w"] == 8000
        assert body["prices"]["365d"]["gross"] == "58.31"
        assert body["prices"]["730d"]["gross"] == "105.91"
        path = f"/api/v1/plants/{day40.id}/licence/preview?added=5000&term=365d"
        async with http.get(path) as resp:
            body = await resp.json()
        assert (body["new_w"], body["exceeds"], body["credit"], body["due"]) == (
            13000, True, "6.39", "99.52",
        )  # fmt: skip
        async with http.get(f"/api/v1/plants/{day40.id}/licence/preview?added=x") as resp:
            assert resp.status == 400

        async with http.get("/api/v1/plants") as resp:  # the app: licensed plants only
            listed = [p["name"] for p in (await resp.json())["plants"]]
        assert listed == ["Vierzig", "Einundvierzig"]

        # the VAT ID is still being checked: no order form, and a posted order is refused
        async with http.get(f"/licences/buy?plant={day40.id}&term=365d") as resp:
            page = await resp.text()
        assert 'data-reason="vat_unresolved"' in page
        assert "Ihre USt-IdNr. wird noch geprüft" in page
        assert 'id="order-form"' not in page
        assert 'id="quote-total"' in page  # the price is shown all the same
        token = await gw.form_token(http, f"/plants/{day40.id}/licence")
        form = {
            "csrf_token": token, "order_key": "k" * 20, "term": "365d",
            "contract_language": "de", "plant": str(day40.id), "accept": "on",
        }  # fmt: skip
        async with http.post("/licences/order", data=form, allow_redirects=False) as resp:
            assert resp.status == 403
            assert "Ihre USt-IdNr. wird noch geprüft" in await resp.text()
        async with http.get("/licences/buy?lang=en") as resp:
            assert "Your VAT ID is still being checked" in await resp.text()
        billing = gw.gateway.store.repo(BillingRepository)
        async with billing.transaction() as conn:
            assert await billing.orders(conn, anna.id) == []

        # an inverter of unknown type joins: 28,000 W > 10,000 W licensed; the page says why
        await gw.gateway.store.repo(InverterRepository).add(
            plant_id=day40.id, account_id=anna.id, serial="NEW0001", name="", now=clock.now()
        )
        await gw.gateway.runner.app[LICENCES].check_power(day40.id)
        async with http.get(f"/plants/{day40.id}/licence?lang=de") as resp:
            ended = await resp.text()
        assert 'id="licence-power-ended"' in ended
        assert "(28.000\u00a0W) überschreitet die lizenzierte Leistung" in ended
        assert 'id="buy"' in ended


@pytest.mark.browser
async def test_buy_licences_for_two_plants_in_one_order(tmp_path: Path, clock: ManualClock) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        anna = await gw.create_account("anna")
        await customer(gw, anna)
        scheune = await plant(gw, anna, "Scheune", [4000, 6000])  # 10,000 W: 49.00
        halle = await plant(gw, anna, "Halle", [26_000])  # 26,000 W: 89.00
        async with chromium_context() as ctx:
            page = await phone_login(ctx, gw.url)
            await quote_many(page, gw.url, scheune, halle)
            total = page.locator("#quote-total")
            assert await total.text_content() == "164,22\xa0€"  # (49 + 89) * 1.19
            # the total comes before the terms checkbox and the order button
            order = await page.evaluate(
                """() => {
                    const t = document.querySelector('#quote-total');
                    const a = document.querySelector('#accept');
                    const b = document.querySelector('#place-order');
                    return [t.compareDocumentPosition(a), a.compareDocumentPosition(b)];
                }"""
            )
            assert order == [4, 4]  # DOCUMENT_POSITION_FOLLOWING
            assert await page.evaluate("document.documentElement.scrollWidth") <= 390
            await page.click("#place-order")  # without the checkbox: refused, choice kept
            await page.wait_for_selector("#buy-error")
            assert "Bitte bestätigen Sie die Vertragsbedingungen" in (
                await page.text_content("#buy-error") or ""
            )
            assert await page.is_checked(f"input[name=plant][value='{halle.id}']")
            assert await total.text_content() == "164,22\xa0€"
            await page.check("#accept")
            await page.click("#place-order")
            await page.wait_for_url("**/licences/orders/*/pay")
            assert await page.text_content("#pay-total") == "164,22\xa0€"
            order_id = int(await page.get_attribute("#ordered", "data-order") or 0)
            await page.check("input[name=method][value='bank_transfer']")
            await page.click("#pay")
            await page.wait_for_url(f"**/shop/orders/{order_id}")
            # the shop's order page: the same total, both licences, how to transfer the money
            assert await page.text_content("#order-total") == "164,22\xa0€"
            licences = page.locator(".order-package[data-product='plant-monitoring']")
            assert await licences.count() == 2
            assert await page.locator(".transfer .rf-reference").count() == 2

        store = gw.gateway.store
        assert await only_order_contracts(gw, anna) == (
            order_id,
            [(scheune.id, 10_000), (halle.id, 26_000)],
        )
        outbox = await store.repo(OutboxRepository).list_recent()
        (mail,) = [m for m in outbox if m.template == "licence_order"]
        assert mail.recipient == "anna@example.org"
        assert await validate_documents(store) == 2  # the two pro-formas pass EN 16931


async def test_another_accounts_plant_and_order_are_not_found(
    tmp_path: Path, clock: ManualClock
) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db_url, clock) as gw, gw.client() as http:
        anna = await gw.create_account("anna")
        await gw.create_account("bert")
        await customer(gw, anna)
        scheune = await plant(gw, anna, "Scheune", [4000])
        placed = await gw.gateway.runner.app[LICENCES].order(
            account_id=anna.id, plant_ids=[scheune.id], term=LicenceTerm.DAYS_365,
            language=Language.DE, key="anna-1",
        )  # fmt: skip
        await gw.login(http, "bert")
        for path in (
            f"/plants/{scheune.id}/licence",
            f"/plants/{scheune.id}/licence/preview?added=1000",
            f"/licences/orders/{placed.order_id}/pay",
            f"/api/v1/plants/{scheune.id}/licence",
        ):
            async with http.get(path) as resp:
                assert resp.status == 404, path
        async with http.get(f"/licences/buy?plant={scheune.id}&term=365d") as resp:
            page = await resp.text()
        assert "Scheune" not in page  # not offered, not priced
        assert 'id="quote-total"' not in page
        assert await validate_documents(gw.gateway.store) == 1
