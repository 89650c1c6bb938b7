"""The shop in Debian's chromium: the whole booking journey, the English switch, 390 px."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Page

from cloud_gateway.billing.repository import BillingRepository
from tests.cloud_gateway.shop.shopping import (
    give_customer_data,
    issue_vouchers,
    pay_and_activate,
    validate,
)
from tests.support.browser import chromium_context
from tests.support.gateway import gateway_harness
from tests.support.hubs import enrol_hub
from tunnel.clock import ManualClock

pytestmark = pytest.mark.browser


async def _no_horizontal_scroll(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width} px wide"


async def _login(page: Page, base: str) -> None:
    await page.goto(base + "login")
    await page.fill("input[name=login]", "anna")
    await page.fill("input[name=password]", "Sonnig!2026")
    await page.click("button[type=submit]")
    await page.wait_for_url("**/portal")


async def test_booking_journey_by_bank_transfer(tmp_path: Path, clock: ManualClock) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db_url, clock) as gw, chromium_context() as ctx:
        anna = await gw.create_account("anna")
        await give_customer_data(gw, anna.id, "Anna Sonne")
        await issue_vouchers(gw)
        page = await ctx.new_page()
        await page.set_viewport_size({"width": 390, "height": 844})
        await _login(page, gw.url)

        # Produkte -> product page -> Komfort, 12 months, Abonnement -> cart
        await page.goto(gw.url + "shop/products")
        await _no_horizontal_scroll(page)
        await page.click('[data-product="hub-comfort"] a.button')
        await _no_horizontal_scroll(page)
        assert "Dauerauftrag" in await page.inner_text("#explain-subscription")
        assert "fünf Tage vor Ablauf" in await page.inner_text("#explain-single")
        await page.check('input[name=plan][value="12m"]')
        await page.check('input[name=booking][value="subscription"]')
        await page.click("#add-to-cart")
        await page.wait_for_url("**/shop/cart")
        # Weiter einkaufen -> Fernzugriff, 1 month, Einzelbuchung
        await page.click("#continue-shopping")
        await page.click('[data-product="hub-remote"] a.button')
        await page.check('input[name=plan][value="1m"]')
        await page.check('input[name=booking][value="single"]')
        await page.click("#add-to-cart")
        await page.wait_for_url("**/shop/cart")
        assert await page.locator(".cart-line").count() == 2
        assert await page.get_attribute("#cart-total", "data-cents") == str(5712 + 357)
        await _no_horizontal_scroll(page)

        # an expired voucher: a clear message, the code stays typed
        await page.fill("#voucher-input", "OLD")
        await page.click("#redeem")
        assert await page.inner_text("#cart-error") == "Dieser Gutschein ist abgelaufen."
        assert await page.input_value("#voucher-input") == "OLD"
        # Gutschein einlösen: 10 % on Komfort, the amount adjusted
        await page.fill("#voucher-input", "CCU10")
        await page.click("#redeem")
        await page.wait_for_selector("#cart-notice")
        assert await page.get_attribute("#cart-total", "data-cents") == str(5141 + 357)

        # Löschen + Aktualisierung removes Fernzugriff
        await page.check('.cart-line[data-product="hub-remote"] input[name=remove]')
        await page.click("#update")
        await page.wait_for_selector("#cart-updated")
        assert await page.locator(".cart-line").count() == 1
        assert await page.get_attribute("#cart-total", "data-cents") == "5141"

        # Kaufen -> Überweisung -> Jetzt kaufen -> the order page
        await page.click("#buy")
        await page.wait_for_url("**/shop/checkout")
        await _no_horizontal_scroll(page)
        await page.check('input[name=method][value="bank_transfer"]')
        form: dict[str, str | float | bool] = {"method": "bank_transfer"}
        for name in ("csrf_token", "key"):
            form[name] = await page.input_value(f"#pay-form input[name={name}]")
        await page.click("#buy-now")
        await page.wait_for_url(re.compile(r".*/shop/orders/\d+$"))
        order_url = page.url
        # the same form posted again (a double click, a retry): the same order, no second one
        again = await page.request.post(gw.url + "shop/checkout", form=form)
        assert again.url == order_url
        await _no_horizontal_scroll(page)
        assert await page.get_attribute("#order-status", "data-status") == "awaiting_payment"
        reference = await page.inner_text(".rf-reference")
        assert reference.startswith("RF")
        assert "51,41" in await page.inner_text(".transfer-text")
        girocode = await page.get_attribute("img.girocode", "src")
        assert girocode is not None
        assert girocode.startswith("data:image/svg+xml")
        assert await page.evaluate("document.querySelector('img.girocode').naturalWidth") > 0
        assert "PayPal" in await page.inner_text("#subscription-cancel")
        pdf_href = await page.get_attribute("#order-documents a.pdf", "href")
        assert pdf_href is not None
        pdf = await page.request.get(gw.url + pdf_href.lstrip("/"))
        assert pdf.status == 200
        assert (await pdf.body()).startswith(b"%PDF")

        # the money arrives: the order page shows the package and its end
        repo = gw.gateway.store.repo(BillingRepository)
        async with repo.transaction() as conn:
            (order,) = await repo.orders(conn, anna.id)  # exactly one order
        await pay_and_activate(gw, anna.id, order.id)
        await page.reload()
        assert await page.get_attribute("#order-status", "data-status") == "active"
        assert await page.inner_text("#order-total") == "51,41\xa0€"
        assert "aktiv bis einschließlich" in await page.inner_text(".package-end")

        # English switch
        await page.click("a[hreflang=en]")
        await page.wait_for_selector("html[lang=en]")
        assert "active up to and including" in await page.inner_text(".package-end")
        assert await page.inner_text("#order-total") == "€51.41"
        await page.goto(gw.url + "shop/cart")
        assert await page.inner_text("h1") == "Cart"
        assert await page.inner_text("#cart-empty") == "Your cart is empty."
        await page.goto(gw.url + "shop/orders")
        assert await page.locator(".order").count() == 1
        await _no_horizontal_scroll(page)
        await page.goto(gw.url + "portal")
        await _no_horizontal_scroll(page)
        assert await validate(gw.gateway.store) >= 1  # the pro-forma (the invoice: billing run)


async def test_zugang_buchen_from_the_hub_lands_in_the_cart(
    tmp_path: Path, clock: ManualClock
) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db_url, clock) as gw, chromium_context() as ctx:
        await gw.create_account("anna")
        hub = await enrol_hub(gw, tmp_path / "hub", "anna")
        page = await ctx.new_page()
        await page.set_viewport_size({"width": 390, "height": 844})
        await _login(page, gw.url)
        # the portal offers "Zugang buchen" for the hub (trial running)
        booking = page.locator(f'.hub-package[data-device="{hub.slug}"]')
        assert await booking.get_attribute("data-entitled") == "yes"
        assert "Testzeitraum" in await booking.inner_text()
        await _no_horizontal_scroll(page)
        # the add-on's signed link: logged in already, no second login
        await page.goto(gw.url + hub.link(gw).lstrip("/"))
        assert await page.inner_text("#credited-account") == "anna"
        await page.click("#continue")
        await page.wait_for_url("**/shop/cart?hub=*")
        line = page.locator(".cart-line")
        assert await line.count() == 1
        assert await line.get_attribute("data-product") == "hub-remote"
        assert await line.get_attribute("data-plan") == "12m"
        assert "Ferienhaus" in await page.inner_text("#cart-hub")
        await _no_horizontal_scroll(page)
