"""The demo's homeowner books a package in the browser, from the add-on's "Zugang buchen".

The add-on knows the gateway by address (``127.0.0.1``); its signed link is sent on to the
gateway's canonical host, where the homeowner's portal session lives (no second login), and
lands in the cart with the hub's package preselected; then Kaufen, Überweisung, Jetzt kaufen.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.e2e.demo_process import demo_process
from tests.support.browser import chromium_context

pytestmark = [pytest.mark.browser, pytest.mark.slow]


async def test_homeowner_books_access_from_the_addon(tmp_path: Path) -> None:
    async with (
        demo_process(tmp_path / "state", tmp_path / "demo.log") as demo,
        chromium_context() as ctx,
    ):
        urls, home = demo.facts["urls"], demo.facts["logins"]["homeowner"]
        portal = urls["portal"]
        page = await ctx.new_page()
        await page.goto(f"{portal}login")
        await page.fill("input[name=login]", home["username"])
        await page.fill("input[name=password]", home["password"])
        await page.click("button[type=submit]")
        await page.wait_for_url("**/portal")
        # the portal: the hub's package, its end, Zugang buchen, and the shop
        await expect(page.locator(".hub-package .book-access")).to_have_count(1)
        await expect(page.locator(".hub-package .package-until")).to_contain_text("bis")

        dashboard = await ctx.new_page()
        await dashboard.goto(urls["addon_dashboard"])
        await expect(dashboard.locator("#tunnel-state")).to_have_attribute(
            "data-state", "connected"
        )
        async with ctx.expect_page() as opened:
            await dashboard.click("#book")
        shop = await opened.value
        await shop.wait_for_load_state()
        assert shop.url.startswith(portal + "shop/hub?")  # the canonical host
        await expect(shop.locator("#credited-account")).to_have_text(home["username"])
        await shop.click("#continue")
        await shop.wait_for_url("**/shop/cart?hub=*")
        line = shop.locator(".cart-line")
        await expect(line).to_have_count(1)
        # the demo's paid package: Fernzugriff, 12 months, single booking
        assert await line.get_attribute("data-product") == "hub-remote"
        assert await line.get_attribute("data-plan") == "12m"
        await shop.click("#buy")
        await shop.check('input[name=method][value="bank_transfer"]')
        await shop.click("#buy-now")
        await shop.wait_for_url(re.compile(r".*/shop/orders/\d+$"))
        await expect(shop.locator("#order-status")).to_have_attribute(
            "data-status", "awaiting_payment"
        )
        await expect(shop.locator(".rf-reference")).to_contain_text("RF")
        await expect(shop.locator("img.girocode")).to_be_visible()
    assert demo.exit_code == 0
    assert "Traceback" not in demo.log_text()
