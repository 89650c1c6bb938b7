"""The owner's support access form on the device page in chromium, at 390 px: grant with the
24 hours, see it, end it; a wrong duration keeps the input with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloud_gateway.remote.repository_support import SupportGrantRepository
from tests.e2e.test_tunnel_remote import remote_env
from tests.support.browser import chromium_context
from tunnel.clock import ManualClock

pytestmark = pytest.mark.browser


async def test_owner_grants_and_ends_support_access(tmp_path: Path, clock: ManualClock) -> None:
    async with remote_env(tmp_path, clock) as env, chromium_context() as ctx:
        page = await ctx.new_page()
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.goto(env.gw.url + f"remote/{env.slug}/open")
        await page.fill("input[name=login]", "anna")
        await page.fill("input[name=password]", "Sonnig!2026")
        await page.click("button[type=submit]")
        await page.wait_for_url(f"**/remote/{env.slug}/open")
        assert "Derzeit kein Support-Zugang erlaubt." in await page.inner_text("#support-state")

        await page.fill("input[name=hours]", "500")  # the browser holds it back already
        assert not await page.eval_on_selector("input[name=hours]", "e => e.validity.valid")
        await page.eval_on_selector("#support-grant", "b => b.form.noValidate = true")
        await page.click("#support-grant")  # the server says so too, keeping the input
        assert "1 bis 168" in await page.inner_text("p.error")
        assert await page.input_value("input[name=hours]") == "500"
        await page.fill("input[name=hours]", "24")
        await page.click("#support-grant")
        await page.wait_for_selector("#support-revoke")
        assert "Support-Zugang erlaubt bis" in await page.inner_text("#support-state")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
        device = await env.device()
        store = env.gw.gateway.store
        assert await store.repo(SupportGrantRepository).live(device.id, clock.now()) is not None

        await page.click("#support-revoke")
        await page.wait_for_selector("#support-grant")
        assert "Derzeit kein Support-Zugang erlaubt." in await page.inner_text("#support-state")
        assert await store.repo(SupportGrantRepository).live(device.id, clock.now()) is None
        assert "vorzeitig beendet" in await page.inner_text("#support-history")

        await page.goto(env.gw.url + f"remote/{env.slug}/open?lang=en")
        assert "No support access allowed now." in await page.inner_text("#support-state")
