"""A real browser logs into the portal over TLS and out again."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.browser import chromium_context
from tests.support.gateway import gateway_harness
from tunnel.clock import SystemClock

pytestmark = pytest.mark.browser


async def test_login_and_logout_in_chromium(tmp_path: Path) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db_url, SystemClock()) as gw, chromium_context() as ctx:
        await gw.create_account("anna")
        page = await ctx.new_page()
        await page.goto(gw.url + "portal")
        assert "/login" in page.url
        await page.fill("input[name=login]", "anna")
        await page.fill("input[name=password]", "Sonnig!2026")
        await page.click("button[type=submit]")
        await page.wait_for_url("**/portal")
        assert "anna" in await page.inner_text("#account-name")
        await page.click("text=Abmelden")
        await page.wait_for_url(gw.url)
        await page.goto(gw.url + "portal")
        assert "/login" in page.url
