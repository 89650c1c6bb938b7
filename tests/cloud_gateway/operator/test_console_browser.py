"""The console in Debian's chromium: an operator logs in with TOTP (pyotp computes the code
from the enrolled secret at the injected clock's instant), finds a tunnel and disconnects it
with a reason the device receives; the action is audited; a form without its CSRF token is
refused; the pages fit 390 px and switch to English."""

from __future__ import annotations

from pathlib import Path

import pyotp
import pytest
from playwright.async_api import Page

from cloud_gateway.accounts.model import Role
from cloud_gateway.operator.repository import ConsoleAuditRepository
from tests.support.browser import chromium_context
from tests.support.gateway import gateway_harness
from tests.support.tunnel_device import TestDevice, enrol_device, open_tunnel
from tunnel.clock import ManualClock
from tunnel.session import DisconnectReason

pytestmark = pytest.mark.browser


async def _fits(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width} px wide"


async def test_operator_logs_in_with_totp_and_disconnects_a_tunnel(
    tmp_path: Path, clock: ManualClock
) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db_url, clock) as gw, chromium_context() as ctx:
        await gw.create_account("anna")
        await gw.create_account("olga", role=Role.OPERATOR)
        device = TestDevice(tmp_path / "device", gw.gateway.tls.ca_cert or Path())
        slug = await enrol_device(gw, device, "anna")
        client = await open_tunnel(gw.url, device.client_ssl())
        try:
            page = await ctx.new_page()
            await page.set_viewport_size({"width": 390, "height": 844})

            # password first, then the second factor: enrolment with QR code and key
            await page.goto(gw.url + "console")
            await page.wait_for_url("**/login?next=/console")
            await page.fill("input[name=login]", "olga")
            await page.fill("input[name=password]", "Sonnig!2026")
            await page.click("button[type=submit]")
            await page.wait_for_url("**/console/2fa?next=/console")
            assert await page.locator("#totp-qr").is_visible()
            secret = (await page.inner_text("#totp-secret")).strip()
            await _fits(page)
            await page.fill("input[name=code]", "000000")
            await page.click("#totp-submit")
            assert "Der Code stimmt nicht" in await page.inner_text("#totp-error")
            await page.fill("input[name=code]", pyotp.TOTP(secret).at(clock.now()))
            await page.click("#totp-submit")
            codes = await page.locator("#recovery-codes li").all_inner_texts()
            assert len(codes) == 10
            assert len(set(codes)) == 10
            await page.click("#recovery-continue")
            await page.wait_for_url("**/console")
            assert await page.inner_text("#console-user") == "olga"

            # the live tunnel list -> the device -> disconnect with a reason
            await page.click("nav.console-nav >> text=Tunnel")
            row = page.locator(f'#tunnels tr[data-device="{slug}"]')
            assert "anna" in await row.inner_text()
            assert "test-device 1.0" in await row.inner_text()
            await _fits(page)
            # on the phone the row is a card: each cell labelled, the link's name in one piece
            assert not await page.locator("#tunnels thead").is_visible()
            cells = row.locator("td")
            assert await cells.nth(0).get_attribute("data-label") == "Gerät"
            assert await cells.nth(1).get_attribute("data-label") == "Konto"
            assert await row.locator("a").evaluate("a => a.getClientRects().length") == 1
            await row.locator("a").click()
            await page.wait_for_url(f"**/console/devices/{slug}")
            await _fits(page)
            disconnect = page.locator('form[data-action="disconnect"]')
            await disconnect.locator("button").click()  # no reason given
            assert "Bitte einen Grund angeben." in await page.inner_text("#console-error")
            disconnect = page.locator('form[data-action="disconnect"]')
            await disconnect.locator("input[name=reason]").fill("Firmware-Update prüfen")
            await disconnect.locator("button").click()
            await page.wait_for_url(f"**/console/devices/{slug}?done=disconnect")
            assert await page.inner_text("#console-notice") == "Tunnel getrennt."
            assert await client.closed() is DisconnectReason.CLEAN
            assert client.controls[-1] == {
                "type": "disconnect",
                "by": "operator",
                "reason": "Firmware-Update prüfen",
            }
            audit_row = page.locator("#console-audit tbody tr").first
            assert "device.disconnect" in await audit_row.inner_text()
            assert "Firmware-Update prüfen" in await audit_row.inner_text()

            # a form whose CSRF token was tampered with is refused and changes nothing
            disable = page.locator('form[data-action="disable"]')
            await disable.locator("input[name=reason]").fill("Test")
            await disable.locator("input[name=csrf_token]").evaluate("e => e.value = 'forged'")
            async with page.expect_response(f"**/console/devices/{slug}/disable") as info:
                await disable.locator("button").click()
            assert (await info.value).status == 403
            store = gw.gateway.store
            [entry] = await store.repo(ConsoleAuditRepository).recent(target=slug)
            assert (entry.operator, entry.action) == ("olga", "device.disconnect")

            # English on request
            await page.goto(gw.url + "console?lang=en")
            assert "Operator console" in await page.inner_text("h1")
        finally:
            await client.stop()
