"""Overview, invoices and products in Debian's chromium: an open pro-forma is marked and goes
to the shop's order page to pay; after payment the invoice is there, the product is active and
its subscription is cancelled to its period end; devices and plants show their state."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from cloud_gateway.accounts.repository_customers import CustomerRepository
from cloud_gateway.billing.catalogue import BookingType
from cloud_gateway.billing.service import OrderLine, customer_from_data
from cloud_gateway.devices.model import DeviceKind
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.plants.model import PlantFields
from cloud_gateway.plants.repository import PlantRepository
from cloud_gateway.plants.repository_inverters import InverterRepository
from tests.cloud_gateway.shop.shopping import (
    billing_of,
    give_customer_data,
    pay_and_activate,
    validate,
)
from tests.cloud_gateway.support.browsing import log_in, no_horizontal_scroll
from tests.support.browser import chromium_context
from tests.support.gateway import gateway_harness
from tunnel.clock import ManualClock

pytestmark = pytest.mark.browser


async def test_invoices_pay_and_products_cancel(tmp_path: Path, clock: ManualClock) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db_url, clock) as gw, chromium_context() as ctx:
        anna = await gw.create_account("anna")
        await give_customer_data(gw, anna.id, "Anna Sonne")
        store, now = gw.gateway.store, clock.now()
        await store.repo(DeviceRepository).create(
            slug="ccu-anna", kind=DeviceKind.CCU, created_at=clock.now(), account_id=anna.id
        )
        barn = await store.repo(PlantRepository).create(anna.id, PlantFields(name="Scheune"), now)
        await store.repo(PlantRepository).create(anna.id, PlantFields(name="Dach"), now)
        await store.repo(InverterRepository).add(
            plant_id=barn.id, account_id=anna.id, serial="WR-0815", name="Süd", now=now
        )
        data = await store.repo(CustomerRepository).get(anna.id)
        assert data is not None
        placed = await billing_of(gw).place_order(
            customer_from_data(data),
            [OrderLine(product="hub-remote", plan="1m", booking=BookingType.SUBSCRIPTION)],
            key="portal-order",
        )
        order_id = placed["order_id"]
        page = await ctx.new_page()
        await log_in(page, gw.url, "anna")

        # overview: the open pro-forma, the hub with "Fernzugriff öffnen", no plant yet
        assert await page.locator("#current-invoices li.open").count() == 1
        assert await page.get_attribute("tr[data-device=ccu-anna] a.remote-open", "href") == (
            "/remote/ccu-anna/open"
        )
        assert await page.locator(".hub-package[data-device=ccu-anna] a.book-access").count() == 1
        # plants: the trial with its last day in German format, "Lizenz kaufen/erneuern"
        trial = page.locator(f"li.plant[data-plant='{barn.id}']")
        assert await trial.get_attribute("data-entitled") == "yes"
        assert re.fullmatch(
            r"Testphase bis \d\d\.\d\d\.\d{4}", await trial.locator(".plant-state").inner_text()
        )
        assert await trial.locator("a.licence-buy").inner_text() == "Lizenz kaufen/erneuern"
        # the licence shop of main's licences area (merged beside this branch)
        assert await trial.locator("a.licence-buy").get_attribute("href") == (
            f"/licences/buy?plant={barn.id}"
        )
        roof = page.locator("li.plant[data-entitled=no]")
        assert await roof.locator(".plant-state").inner_text() == "keine Lizenz"
        await no_horizontal_scroll(page)
        # the repair form offers the inverter from the plant list
        await page.goto(gw.url + "portal/repairs")
        labels = await page.locator("select[name=inverter_id] option").all_inner_texts()
        assert "Scheune · Süd (WR-0815)" in labels
        await page.goto(gw.url + "portal")

        # invoices: the pro-forma is open; its PDF opens; "bezahlen" leads to the order page
        await page.click("nav a[href='/portal/invoices']")
        await page.wait_for_url("**/portal/invoices")
        row = page.locator("tr.document.open")
        assert await row.get_attribute("data-kind") == "proforma"
        number = await row.get_attribute("data-number")
        href = await row.locator("a.pdf").get_attribute("href")
        async with page.expect_response(f"**{href}") as pdf_info:
            await page.evaluate(f"fetch('{href}')")
        pdf = await pdf_info.value
        assert pdf.headers["content-type"] == "application/pdf"
        assert "0,00" in await page.inner_text("#balance")
        await row.locator("a.pay").click()
        await page.wait_for_url(f"**/shop/orders/{order_id}")
        await no_horizontal_scroll(page)

        # the money arrives: nothing open, an invoice; the product is active and cancellable
        await pay_and_activate(gw, anna.id, order_id)
        await billing_of(gw).run()
        await page.goto(gw.url + "portal/invoices")
        first = page.locator(f"tr.document[data-number='{number}']")
        assert "open" not in (await first.get_attribute("class") or "")
        assert await page.locator("tr.document[data-kind=invoice]").count() == 1
        await page.goto(gw.url + "portal/products")
        await no_horizontal_scroll(page)
        product = page.locator("section.product")
        assert await product.get_attribute("data-state") == "active"
        # the paid pro-forma, the first invoice and the next period's offer
        assert await product.locator("li a").count() == 3
        page.once("dialog", lambda dialog: dialog.accept())
        await product.locator("button.cancel-contract").click()
        await page.wait_for_selector("#products-notice")
        assert "endet zum Ende der bezahlten Laufzeit" in await page.inner_text("#products-notice")
        assert await product.get_attribute("data-state") == "ended"
        assert await product.locator(".ended-on").count() == 1
        assert await product.locator("button.cancel-contract").count() == 0

        # English with English formats
        await page.goto(gw.url + "portal/invoices?lang=en")
        assert "Invoices and payments" in await page.inner_text("h1")
        assert "€0.00" in await page.inner_text("#balance")
        assert await validate(store) == 3

        # 15 days on, the trial's end is 25 days away: a notice on the overview
        clock.advance(timedelta(days=15))
        await log_in(page, gw.url, "anna")  # the session has expired meanwhile
        await page.goto(gw.url + "portal?lang=de")
        notices = await page.locator("#notices li.notice").all_inner_texts()
        assert any(n.startswith("Die Überwachung von „Scheune“ endet am ") for n in notices), (
            page.url,
            notices,
        )
