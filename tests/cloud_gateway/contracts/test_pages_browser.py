"""The contract pages in chromium at 390 px: the preview form keeps its input, nothing
overflows sideways (wide tables scroll inside their box)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloud_gateway.billing.pricing import Buyer
from cloud_gateway.billing.rendering.view import Party
from cloud_gateway.billing.service import Customer, OrderLine
from cloud_gateway.http.keys import BILLING
from tests.support.browser import chromium_context
from tests.support.gateway import gateway_harness
from tunnel.clock import SystemClock

_OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.mark.browser
async def test_preview_and_contract_pages_at_390_px(tmp_path: Path) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db_url, SystemClock()) as gw, chromium_context() as ctx:
        anna = await gw.create_account("anna")
        customer = Customer(
            account_id=anna.id, party=Party(name="Anna"), buyer=Buyer(business=False, country="DE")
        )
        placed = await gw.gateway.runner.app[BILLING].place_order(
            customer, [OrderLine(product="satellite-uplink", plan="monthly")], key="o"
        )
        page = await ctx.new_page()
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.goto(gw.url + "portal/contracts/preview")
        await page.fill("#preview-form input[name=start]", "2026-03-01")
        await page.fill("#preview-form input[name=paid_months]", "3")
        await page.fill("#preview-form input[name=terminate]", "2026-05-11")
        await page.check("#preview-form input[value=at_once]")
        await page.click("#preview-form button[type=submit]")
        await page.wait_for_selector("#preview-balance")
        assert (await page.inner_text("#preview-balance")).replace("\xa0", " ") == "270,86 €"
        assert await page.input_value("#preview-form input[name=terminate]") == "2026-05-11"
        assert await page.evaluate(_OVERFLOW) == 0
        await page.fill("#preview-form input[name=paid_months]", "1")
        await page.click("#preview-form button[type=submit]")
        await page.wait_for_selector("#preview-error")
        assert await page.input_value("#preview-form input[name=paid_months]") == "1"

        await page.goto(gw.url + "login")
        await page.fill("input[name=login]", "anna")
        await page.fill("input[name=password]", "Sonnig!2026")
        await page.click("button[type=submit]")
        await page.wait_for_url("**/portal")
        [contract_id] = placed["contract_ids"]
        await page.goto(gw.url + f"portal/contracts/{contract_id}")
        assert await page.inner_text("#reservations") == "Eingang Bestellformular"
        assert "2.151,52" in await page.inner_text("#documents")
        assert await page.evaluate(_OVERFLOW) == 0
