"""Page walk: every page reachable from the navigation, for each role, in German and English,
at 1280 px and 390 px: no 4xx/5xx, no untranslated text id, no horizontal scroll on the phone
width. Screenshots are kept under ``build/screenshots/`` as test artefacts.

One browser; one context per role (logged in once), the language switched by ``?lang=``.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page

from cloud_gateway.accounts.model import Role
from cloud_gateway.accounts.repository_customers import CustomerRepository
from cloud_gateway.config import GatewayConfig, PortalConfig
from cloud_gateway.devices.model import DeviceKind
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.i18n import TEXTS
from cloud_gateway.plants.model import PlantFields
from cloud_gateway.plants.repository import PlantRepository
from cloud_gateway.remote.repository_lan import LanTargetRepository
from simulator.mailcatcher import MailCatcher
from tests.cloud_gateway.portal.support import accept_terms
from tests.support.browser import chromium_browser
from tests.support.gateway import GatewayHarness, gateway_harness
from tunnel.clock import SystemClock

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
WIDTHS = (1280, 390)
LANGS = ("de", "en")
#: (role, login); the visitor walks the pages readable without an account
ROLES = (("visitor", None), ("homeowner", "anna"), ("installer", "ivo"), ("operator", "olga"))


#: [tables shown stacked (rows as cards), tables with a heading row]
_TABLES = """() => {
  const tables = Array.from(document.querySelectorAll("table:not([data-stack=no])"));
  const headed = tables.filter((t) => (t.tHead || t).rows[0]?.querySelectorAll("th").length > 1);
  const stacked = tables.filter((t) => getComputedStyle(t).display === "block"
    && getComputedStyle(t.rows[0]).display === "none");
  return [stacked.length, headed.length];
}"""


def _routed(gw: GatewayHarness, path: str) -> bool:
    """Whether this build serves ``path`` at all (the shop's pages come with another branch)."""
    app = gw.gateway.runner.app
    return any(r.canonical == path for r in app.router.resources())


async def _links(page: Page, gw: GatewayHarness, start: str, selector: str) -> list[str]:
    await page.goto(gw.url + start.lstrip("/"))
    hrefs = await page.eval_on_selector_all(selector, "els => els.map(e => e.href)")
    paths = []
    for href in hrefs:
        parts = urlsplit(href)
        if parts.netloc == urlsplit(gw.url).netloc and not parts.query:
            paths.append(parts.path)
    return paths


async def _walk_targets(page: Page, gw: GatewayHarness, logged_in: bool) -> list[str]:
    found = await _links(page, gw, "/", "header.top nav a, footer.bottom a")
    if logged_in:
        found += await _links(page, gw, "/portal/account", "#account-links a")
        found += await _links(page, gw, "/portal/devices", "main a")
        found += await _links(page, gw, "/plants", "main a")
    unique = list(dict.fromkeys(["/", *found]))
    return [p for p in unique if not p.startswith("/shop/") or _routed(gw, p)]


def _text_ids() -> re.Pattern[str]:
    """Any text id (``nav.overview``) standing in a page: a text nobody translated."""
    ids = sorted(TEXTS, key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(k) for k in ids) + r")\b")


async def _log_in(page: Page, gw: GatewayHarness, login: str) -> None:
    await page.goto(gw.url + "login")
    await page.fill("input[name=login]", login)
    await page.fill("input[name=password]", "Sonnig!2026")
    await page.click("main button[type=submit]")
    await page.wait_for_url("**/portal")


async def test_walk_every_page_for_every_role_language_and_width(tmp_path: Path) -> None:
    catcher = MailCatcher(tmp_path / "mailbox")
    await catcher.start()
    config = GatewayConfig(portal=PortalConfig(demo_mailbox_dir=catcher.folder))
    db = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    walked = 0
    try:
        async with (
            gateway_harness(tmp_path, db, SystemClock(), config) as gw,
            chromium_browser() as browser,
        ):
            anna = await gw.create_account("anna")
            ivo = await gw.create_account("ivo", role=Role.INSTALLER)
            olga = await gw.create_account("olga", role=Role.OPERATOR)
            for account in (anna, ivo, olga):
                await accept_terms(gw, account.id)
            plants = gw.gateway.store.repo(PlantRepository)
            now = gw.clock.now()
            long_name = PlantFields(name="Dach mit einem sehr langen Namen")
            dach = await plants.create(anna.id, long_name, now)
            await plants.create(ivo.id, PlantFields(name="Werkstatt"), now)
            await gw.gateway.store.repo(CustomerRepository).delegate(anna.id, ivo.id, dach.id, now)
            # a hub of anna's: its remote-access and Netzwerkgeräte pages are walked too
            hub = await gw.gateway.store.repo(DeviceRepository).create(
                slug="ferienhaus-a1b2c3", kind=DeviceKind.CCU, created_at=now, account_id=anna.id
            )
            await gw.gateway.store.repo(LanTargetRepository).add(
                hub.id, name="Router im Keller", host="192.168.178.1", port=80, now=now
            )
            # the text ids are all registered once the app is set up
            keys = _text_ids()
            for role, login in ROLES:
                ctx = await browser.new_context(ignore_https_errors=True, locale="de-DE")
                page = await ctx.new_page()
                if login is not None:
                    await _log_in(page, gw, login)
                targets = await _walk_targets(page, gw, login is not None)
                assert len(targets) >= (4 if login is None else 10), (role, targets)
                for lang in LANGS:
                    await page.goto(f"{gw.url}?lang={lang}")
                    for width in WIDTHS:
                        await page.set_viewport_size({"width": width, "height": 900})
                        for path in targets:
                            response = await page.goto(gw.url + path.lstrip("/"))
                            walked += 1
                            where = f"{role} {lang} {width} {path}"
                            if response is None or response.status >= 400:
                                problems.append(f"{where}: status {response and response.status}")
                            if await page.get_attribute("html", "lang") != lang:
                                problems.append(f"{where}: page not in {lang}")
                            title = await page.title()
                            if "CloudConnector" not in title or "<" in title:
                                problems.append(f"{where}: title {title!r}")
                            text = await page.inner_text("body")
                            if found := keys.search(text):
                                problems.append(f"{where}: untranslated {found.group(1)}")
                            if width < 400 and await page.evaluate(
                                "document.documentElement.scrollWidth > "
                                "document.documentElement.clientWidth"
                            ):
                                problems.append(f"{where}: scrolls sideways")
                            # static/tables.js ran: on the phone a headed table's rows are
                            # cards with labelled cells, on the desktop a table
                            stacked, headed = await page.evaluate(_TABLES)
                            if (stacked != headed) if width < 400 else stacked:
                                problems.append(f"{where}: {stacked} of {headed} tables stacked")
                            slug = path.strip("/").replace("/", "_") or "start"
                            await page.screenshot(
                                path=str(SCREENSHOTS / f"walk-{role}-{lang}-{width}-{slug}.png")
                            )
                await ctx.close()
    finally:
        await catcher.stop()
    assert problems == []
    assert walked >= 4 * 4 + 3 * 4 * 10
