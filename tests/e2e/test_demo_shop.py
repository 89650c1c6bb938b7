"""The demo's homeowner books a package in the browser, from the add-on's "Zugang buchen",
by bank transfer (awaiting payment) and paid by PayPal (the add-on then shows it).

The add-on knows the gateway by address (``127.0.0.1``); its signed link is sent on to the
gateway's canonical host, where the homeowner's portal session lives (no second login), and
lands in the cart with the hub's package preselected; then Kaufen, Überweisung, Jetzt kaufen.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Locator, Page, expect

from tests.e2e.demo_process import DemoRun, demo_process
from tests.support.browser import chromium_context

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: how long the add-on may take to hear of a paid package through the open tunnel
_PUSH_DEADLINE_S = 15


async def _from_the_addon_to_the_cart(ctx: BrowserContext, demo: DemoRun) -> tuple[Page, Page]:
    """Log in at the portal, "Zugang buchen" on the add-on's dashboard, on to the cart with
    the hub's package preselected; the dashboard's and the shop's pages."""
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
    await expect(dashboard.locator("#tunnel-state")).to_have_attribute("data-state", "connected")
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
    return dashboard, shop


async def test_homeowner_books_access_from_the_addon(tmp_path: Path) -> None:
    async with (
        demo_process(tmp_path / "state", tmp_path / "demo.log") as demo,
        chromium_context() as ctx,
    ):
        _dashboard, shop = await _from_the_addon_to_the_cart(ctx, demo)
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


async def _package_rows(dashboard: Page, count: int) -> Locator:
    """The dashboard's package rows once there are ``count`` (reloaded until the tunnel's
    packages message arrived, at most ``_PUSH_DEADLINE_S``)."""
    rows = dashboard.locator('tr[data-package^="package-"]')
    deadline = asyncio.get_running_loop().time() + _PUSH_DEADLINE_S
    while True:
        await dashboard.reload()
        if await rows.count() == count or asyncio.get_running_loop().time() > deadline:
            await expect(rows).to_have_count(count)
            return rows
        await dashboard.wait_for_timeout(250)  # the next look at the add-on's own page


async def test_homeowner_pays_access_from_the_addon_by_paypal(tmp_path: Path) -> None:
    """From "Zugang buchen" through PayPal's page to paid: the open tunnel tells the add-on."""
    async with (
        demo_process(tmp_path / "state", tmp_path / "demo.log") as demo,
        chromium_context() as ctx,
    ):
        dashboard, shop = await _from_the_addon_to_the_cart(ctx, demo)
        before = await dashboard.locator('tr[data-package^="package-"]').count()
        assert before >= 1  # the demo's package
        await shop.check('input[name=method][value="paypal"]')
        await shop.click("#buy-now")
        # PayPal's approval page (Orders v2), "Zahlung bestätigen"
        await shop.wait_for_url(demo.facts["payments"]["paypal"] + "/checkoutnow**")
        await shop.click("#approve")
        await shop.wait_for_url(re.compile(r".*/shop/orders/\d+(\?.*)?$"))
        await expect(shop.locator("#order-status")).to_have_attribute("data-status", "active")
        ends = shop.locator(".order-package .package-end")
        await expect(ends).to_have_count(1)

        # the add-on's dashboard: the paid package, active, ending after the earlier ones
        rows = await _package_rows(dashboard, before + 1)
        paid = rows.nth(before)
        await expect(paid).to_have_attribute("data-state", "active")
        await expect(paid.locator("td").nth(2)).to_have_text(re.compile(r"^36[56] "))  # 12 months
        earlier = await rows.nth(before - 1).locator("td").nth(3).inner_text()
        end = await paid.locator("td").nth(3).inner_text()
        assert _instant(end) > _instant(earlier)
    assert demo.exit_code == 0
    assert "Traceback" not in demo.log_text()


def _instant(shown: str) -> datetime:
    """The add-on's end column (``31.12.2027 23:00 UTC``: the hub's zone, named) as a wall
    time; the rows compared are in the same zone."""
    return datetime.strptime(shown.rsplit(" ", 1)[0], "%d.%m.%Y %H:%M")
