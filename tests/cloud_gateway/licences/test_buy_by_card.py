"""An installer buys licences for two plants in one order ("Mehrere Lizenzen kaufen") and pays
by card on the payment provider's hosted page (``simulator/psp.py``) in Debian's chromium at
390 px: the signed notification books the money, and both plants are licensed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from cloud_gateway.config import GatewayConfig, PaymentsConfig
from cloud_gateway.entitlements.windows import WindowKind
from cloud_gateway.http.keys import ENTITLEMENTS
from cloud_gateway.localdays import local_date
from simulator.psp import PspSimulator
from tests.cloud_gateway.licences.test_pages import (
    customer,
    only_order_contracts,
    phone_login,
    plant,
    quote_many,
)
from tests.support.browser import chromium_context
from tests.support.gateway import gateway_harness
from tunnel.clock import ManualClock

pytestmark = pytest.mark.browser


async def last_day(page: Page, url: str) -> date:
    """The last day of access the plant's licence page announces (the trial's, or none)."""
    await page.goto(url)
    end = page.locator("#licence-end")
    if not await end.count():
        return date.min
    return date.fromisoformat(await end.get_attribute("data-last-day") or "")


async def test_licences_for_two_plants_paid_by_card_license_both(
    tmp_path: Path, clock: ManualClock
) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    # the provider signs its notifications with the wall clock; the gateway refuses replays
    # by its own (injected) clock, so here both read the same time
    clock.set(datetime.now(UTC))
    async with PspSimulator() as psp:
        config = GatewayConfig(
            payments=PaymentsConfig(psp_url=psp.url, psp_api_key=psp.api_key, psp_secret=psp.secret)
        )
        async with gateway_harness(tmp_path, db_url, clock, config) as gw:
            anna = await gw.create_account("anna")
            await customer(gw, anna)
            scheune = await plant(gw, anna, "Scheune", [4000, 6000])  # 10,000 W: 49.00
            halle = await plant(gw, anna, "Halle", [26_000])  # 26,000 W: 89.00
            async with chromium_context() as ctx:
                page = await phone_login(ctx, gw.url)
                year = local_date(gw.clock.now()) + timedelta(days=364)
                for unlicensed in (scheune, halle):  # the trial at most
                    assert await last_day(page, f"{gw.url}plants/{unlicensed.id}/licence") < year
                await quote_many(page, gw.url, halle, scheune)
                assert await page.text_content("#quote-total") == "164,22\xa0€"
                await page.check("#accept")
                await page.click("#place-order")
                await page.wait_for_url("**/licences/orders/*/pay")
                order_id = int(await page.get_attribute("#ordered", "data-order") or 0)
                await page.check("input[name=method][value='card']")
                await page.click("#pay")

                # the provider's hosted page: the same total for the card (R-MON-12)
                await page.wait_for_url(psp.url + "/**")
                assert await page.text_content("#amount") == "164,22 EUR"
                await page.click("#pay")
                await page.wait_for_url(f"**/shop/orders/{order_id}**")
                await psp.drain()  # the signed notification reached the gateway
                await page.goto(f"{gw.url}shop/orders/{order_id}")
                assert await page.get_attribute("#order-status", "data-status") == "active"
                assert await page.text_content("#order-total") == "164,22\xa0€"
                # both plants licensed for a year: the licence pages show the new last day,
                # the plant pages announce the end
                for licensed in (scheune, halle):
                    ends = await last_day(page, f"{gw.url}plants/{licensed.id}/licence")
                    assert ends >= year
                    await page.goto(f"{gw.url}plants/{licensed.id}")
                    await expect(page.locator("#plant-licence-end")).to_contain_text(
                        ends.strftime("%Y")
                    )
                assert await page.evaluate("document.documentElement.scrollWidth") <= 390

            placed, contracts = await only_order_contracts(gw, anna)
            assert (placed, contracts) == (order_id, [(scheune.id, 10_000), (halle.id, 26_000)])
            for licensed in (scheune, halle):
                windows = await gw.gateway.runner.app[ENTITLEMENTS].plant_windows(licensed.id)
                assert [w.licensed_power_w for w in windows if w.kind is WindowKind.LICENCE] == [
                    power for plant_id, power in contracts if plant_id == licensed.id
                ]
            assert {status for _, status in psp.notifications} == {200}
