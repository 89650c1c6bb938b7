"""The demo in a real browser: portal, the CCU through the tunnel, the add-on, live PV power.

``simulator demo`` runs as a child process, exactly as ``make demo`` starts it (plus
``--print-json``, port 0 and a temporary state folder). Chromium resolves every ``*.localhost``
name to loopback, so the portal at ``gateway.localhost`` and the CCU's remote-access host
``<slug>.gateway.localhost`` work as printed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.e2e.demo_process import demo_process
from tests.support.browser import chromium_context

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: the plant page's rows: serial, name, nominal power, power now, energy today
#: power as the portal shows it, German grouping ("1.234 W")
_POWER_NOW = re.compile(r"^(\d{1,3}(?:\.\d{3})*) W$")
#: fetches the page again (in the browser) until some inverter shows power above 0 W
_POWERED = """async () => {
  const html = await (await fetch(location.href)).text();
  const doc = new DOMParser().parseFromString(html, "text/html");
  const cells = [...doc.querySelectorAll("#inverters tr td:nth-child(4)")];
  return cells.some((td) => parseInt(td.textContent.replaceAll(".", ""), 10) > 0);
}"""


async def _log_in(ctx: BrowserContext, portal: str, login: dict[str, str]) -> Page:
    await ctx.clear_cookies()
    page = await ctx.new_page()
    await page.goto(f"{portal}login")
    await page.fill("input[name=login]", login["username"])
    await page.fill("input[name=password]", login["password"])
    await page.click("button[type=submit]")
    await page.wait_for_url("**/portal")
    return page


async def test_demo_shows_portal_remote_ccu_addon_and_live_power(tmp_path: Path) -> None:
    async with (
        demo_process(tmp_path / "state", tmp_path / "demo.log") as demo,
        chromium_context() as ctx,
    ):
        urls, logins = demo.facts["urls"], demo.facts["logins"]
        portal = urls["portal"]

        # the homeowner opens the CCU's WebUI through the tunnel
        page = await _log_in(ctx, portal, logins["homeowner"])
        await expect(page.locator("#account-name")).to_contain_text("demo")
        # the demo's mail catcher behind "Postfach (Demo)", linked from every page
        await page.click("#demo-mailbox-link")
        assert page.url == urls["demo_mailbox"]
        await expect(page.locator("h1")).to_have_text("Postfach (Demo)")
        await page.goto(urls["remote_access_open"])
        async with ctx.expect_page() as opened:
            await page.click("#remote-open")
        remote = await opened.value
        await remote.wait_for_load_state()
        assert remote.url.startswith(urls["remote_access"])
        await expect(remote).to_have_title(re.compile("HomeMatic"))
        await expect(remote.locator("input[name=username]")).to_be_visible()

        # the add-on's dashboard in the simulated CCU, with the tunnel up
        dashboard = await ctx.new_page()
        await dashboard.goto(urls["addon_dashboard"])
        await expect(dashboard.locator("#tunnel-state")).to_have_attribute(
            "data-state", "connected"
        )

        # the installer's plant shows live power of the simulated inverters
        plant = await _log_in(ctx, portal, logins["installer"])
        await plant.goto(urls["plant"])
        await plant.wait_for_function(_POWERED, polling=500, timeout=45_000)
        await plant.reload()
        cells = await plant.locator("#inverters tr td:nth-child(4)").all_inner_texts()
        powers = [
            int(m.group(1).replace(".", "")) for c in cells if (m := _POWER_NOW.match(c.strip()))
        ]
        assert len(powers) == 3
        assert max(powers) > 0
        assert await plant.locator("#plant-power").inner_text() != "0 W"

        # the demo's plant is public: the start page links the list, no login needed
        visitor = await ctx.new_page()  # the context's cookies do not matter to the list
        await visitor.goto(portal)
        await visitor.click("a[href='/public/plants']")
        await expect(visitor.locator("#public-plants")).to_contain_text("Berlin")
        await visitor.goto(portal.rstrip("/") + "/public/map")
        await expect(visitor.locator("#public-map .marker")).to_have_count(1)
    assert demo.exit_code == 0
    assert "Traceback" not in demo.log_text()
