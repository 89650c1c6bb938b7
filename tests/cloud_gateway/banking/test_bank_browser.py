"""In Debian's chromium: a pro-forma of the shop is paid by bank transfer via an imported camt.053.

The homeowner books a package by "Überweisung" and reads the RF reference and the amount off
the order page, as for a banking app; the simulated bank's statement carries the transfer with
the reference typed in the remittance text (spaced); an operator uploads it; the order page
then shows the order as paid, and the pro-forma without its GiroCode.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from cloud_gateway.accounts.model import Role
from simulator.bank import Booking, Movement, statement_xml
from tests.cloud_gateway.shop.shopping import give_customer_data, validate
from tests.support.browser import chromium_context
from tests.support.console import staff_login
from tests.support.gateway import gateway_harness
from tunnel.clock import ManualClock

pytestmark = pytest.mark.browser


async def test_a_shop_pro_forma_is_paid_by_an_uploaded_statement(
    tmp_path: Path, clock: ManualClock
) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db_url, clock) as gw, chromium_context() as ctx:
        anna = await gw.create_account("anna")
        await gw.create_account("olga", role=Role.OPERATOR)
        await give_customer_data(gw, anna.id, "Anna Sonne")
        page = await ctx.new_page()
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.goto(gw.url + "login")
        await page.fill("input[name=login]", "anna")
        await page.fill("input[name=password]", "Sonnig!2026")
        await page.click("button[type=submit]")
        await page.wait_for_url("**/portal")
        await page.goto(gw.url + "shop/products")
        await page.click('[data-product="hub-remote"] a.button')
        await page.check('input[name=plan][value="12m"]')
        await page.check('input[name=booking][value="single"]')
        await page.click("#add-to-cart")
        await page.wait_for_url("**/shop/cart")
        await page.click("#buy")
        await page.wait_for_url("**/shop/checkout")
        await page.check('input[name=method][value="bank_transfer"]')
        await page.click("#buy-now")
        await page.wait_for_url(re.compile(r".*/shop/orders/\d+$"))
        assert await page.get_attribute("#order-status", "data-status") == "awaiting_payment"
        reference = (await page.inner_text(".rf-reference")).replace(" ", "")
        cents = int(await page.get_attribute("#order-total", "data-cents") or "0")
        assert reference.startswith("RF")
        assert cents == 2975
        assert await page.locator("img.girocode").count() == 1

        spaced = " ".join(reference[i : i + 4] for i in range(0, len(reference), 4))
        transfer = Movement(amount=cents, name="SONNE, ANNA", text=f"Fernzugriff {spaced}")
        statement = statement_xml(
            "08", [Booking(movements=(transfer,), reference="T-1", booked=date(2026, 2, 12))]
        )
        async with gw.client() as http:
            csrf = await staff_login(gw, http, "olga", clock)
            async with http.post(
                "/api/v1/operator/bank/statements",
                data=statement,
                headers={"Content-Type": "application/xml", "X-CSRF-Token": csrf},
            ) as resp:
                assert resp.status == 200
                assert (await resp.json())["matched"] == 1

        await page.reload()
        # paid without reservations: the payment activated the package at once
        assert await page.get_attribute("#order-status", "data-status") == "active"
        assert await page.locator("img.girocode").count() == 0  # nothing left to pay
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
        assert await validate(gw.gateway.store) >= 1
