"""The customer portal in Debian's chromium, each step asserting what the user sees.

Journeys: register -> confirm from the demo mailbox -> log in -> overview; change the
password; bank data (an invalid IBAN refused clearly); share a plant and see it as the
installer; delete the account (data gone, invoices kept, tunnel closed within 5 s).
Real parts: the gateway over TLS, the demo's aiosmtpd mail catcher, a device with a tunnel.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from cloud_gateway.accounts.model import Role
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.accounts.repository_customers import CustomerRepository
from cloud_gateway.config import AccountsConfig, GatewayConfig, PortalConfig, SmtpConfig
from cloud_gateway.plants.model import PlantFields
from cloud_gateway.plants.repository import PlantRepository
from cloud_gateway.portal.repository import PortalRepository
from simulator.demo_billing import ensure_demo_money
from simulator.mailcatcher import MailCatcher
from tests.cloud_gateway.portal.support import accept_terms, checked_documents
from tests.support.browser import chromium_browser
from tests.support.gateway import GatewayHarness, gateway_harness
from tests.support.tunnel_device import TestDevice, enrol_device, open_tunnel
from tunnel.clock import SystemClock

pytestmark = pytest.mark.browser

PASSWORD = "Sonnig!2026"


async def _context(browser: Browser) -> BrowserContext:
    return await browser.new_context(ignore_https_errors=True, locale="de-DE")


async def _log_in(page: Page, gw: GatewayHarness, login: str, password: str = PASSWORD) -> None:
    await page.goto(gw.url + "login")
    await page.fill("input[name=login]", login)
    await page.fill("input[name=password]", password)
    await page.click("main button[type=submit]")
    await page.wait_for_url("**/portal")
    await expect(page.locator("#logged-in-as")).to_contain_text(login)


@asynccontextmanager
async def _portal(tmp_path: Path) -> AsyncIterator[tuple[GatewayHarness, MailCatcher, Browser]]:
    """A gateway sending through the demo's mail catcher, and one chromium."""
    catcher = MailCatcher(tmp_path / "mailbox")
    await catcher.start()
    config = GatewayConfig(
        smtp=SmtpConfig(host=catcher.host, port=catcher.port, poll_interval_s=0.5),
        portal=PortalConfig(demo_mailbox_dir=catcher.folder),
        # the journey changes a password created a moment ago
        accounts=AccountsConfig(password_min_age_days=0),
    )
    db = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    try:
        async with (
            gateway_harness(tmp_path, db, SystemClock(), config) as gw,
            chromium_browser() as browser,
        ):
            yield gw, catcher, browser
    finally:
        await catcher.stop()


async def test_register_confirm_from_the_demo_mailbox_and_manage_master_data(
    tmp_path: Path,
) -> None:
    async with _portal(tmp_path) as (gw, catcher, browser):
        ctx = await _context(browser)
        page = await ctx.new_page()
        # register: the legal texts are one click away, before any account exists
        await page.goto(gw.url + "register")
        async with ctx.expect_page() as opened:
            await page.click("#register-agb")
        agb = await opened.value
        await expect(agb.locator("#legal h1")).to_contain_text("Geschäftsbedingungen")
        await agb.close()
        await page.fill("input[name=username]", "carla")
        await page.fill("input[name=email]", "carla@example.org")
        await page.fill("input[name=password]", PASSWORD)
        await page.fill("input[name=password2]", PASSWORD)
        await page.check("input[name=accept_terms]")
        await page.check("input[name=accept_privacy]")
        await page.click("main button[type=submit]")
        await expect(page.locator("#message")).to_be_visible()

        # the validation mail, read in "Postfach (Demo)"
        await catcher.wait_for(1)
        await page.click("#demo-mailbox-link")
        await expect(page.locator("#mailbox")).to_contain_text("carla@example.org")
        await page.click("#mailbox a >> nth=0")
        await expect(page.locator("#mail-to")).to_have_text("carla@example.org")
        await page.click("#mail-body a")
        await page.click("main button[type=submit]")  # "E-Mail-Adresse bestätigen"
        await page.wait_for_url("**/portal")
        await expect(page.locator("#logged-in-as")).to_contain_text("carla")
        await expect(page.locator("h1")).to_have_text("Übersicht")

        # log out and in again: the overview
        await page.click("#logout")
        await expect(page.locator("#logged-in-as")).to_have_count(0)
        await _log_in(page, gw, "carla")

        # change the password from the navigation
        await page.click("nav.main >> text=Konto")
        await page.click("#nav-password")
        await page.fill("input[name=current]", PASSWORD)
        await page.fill("input[name=password]", "Regen#2027x")
        await page.fill("input[name=password2]", "Regen#2027x")
        await page.click("main button[type=submit]")
        await expect(page.locator("#message")).to_contain_text("geändert")

        # bank data: an invalid IBAN is refused clearly, nothing typed is lost
        await page.click("nav.main >> text=Konto")
        await page.click("#nav-bank")
        await page.fill("input[name=holder]", "Carla Cramer")
        await page.fill("input[name=iban]", "DE02 1203 0000 0000 2020 52")
        await page.click("#bank-form button[type=submit]")
        await expect(page.locator("#bank-error")).to_contain_text("Prüfziffer")
        await expect(page.locator("input[name=holder]")).to_have_value("Carla Cramer")
        await page.fill("input[name=iban]", "DE02 1203 0000 0000 2020 51")
        await page.click("#bank-form button[type=submit]")
        await expect(page.locator("#bank-saved")).to_be_visible()
        await expect(page.locator("#bank-current")).to_contain_text("DE02 1203 0000 0000 2020 51")
        await ctx.close()
        # the mails of the journey: validation, then the password change
        await catcher.wait_for(2)


async def test_share_a_plant_and_delete_the_account(tmp_path: Path) -> None:
    async with _portal(tmp_path) as (gw, catcher, browser):
        anna = await gw.create_account("anna")
        ivo = await gw.create_account("ivo", role=Role.INSTALLER)
        for account in (anna, ivo):
            await accept_terms(gw, account.id)
        store = gw.gateway.store
        await store.repo(PlantRepository).create(anna.id, PlantFields(name="Dach"), gw.clock.now())
        await ensure_demo_money(gw.gateway, anna)
        invoices = await checked_documents(store)
        device = TestDevice(tmp_path / "device", gw.gateway.tls.ca_cert or Path())
        await enrol_device(gw, device, "anna")
        tunnel = await open_tunnel(gw.url, device.client_ssl())

        owner = await (await _context(browser)).new_page()
        await _log_in(owner, gw, "anna")
        await owner.click("nav.main >> text=Konto")
        await owner.click("#nav-sharing")
        await owner.fill("input[name=installer]", "ivo")
        await owner.select_option("select[name=plant_id]", label="Dach")
        await owner.click("#sharing-form button[type=submit]")
        await expect(owner.locator("#sharing-notice")).to_have_text("Freigabe erteilt.")
        await expect(owner.locator("#grants-given")).to_contain_text("ivo")

        installer = await (await _context(browser)).new_page()
        await _log_in(installer, gw, "ivo")
        await installer.click("nav.main >> text=Anlagen")
        await installer.click("#shared-plants >> text=Dach")
        await expect(installer.locator("#shared-readonly")).to_contain_text("anna")
        await expect(installer.locator("#delete-plant")).to_have_count(0)

        # delete the account: a question, the password, then a message
        await owner.click("nav.main >> text=Konto")
        await owner.click("#nav-delete")
        await owner.fill("#close-form input[name=password]", "falsch")
        await owner.click("#close-submit")
        await expect(owner.locator("#close-error")).to_contain_text("Passwort ist falsch")
        await owner.fill("#close-form input[name=password]", PASSWORD)
        started = time.monotonic()
        await owner.click("#close-submit")
        await expect(owner.locator("#message")).to_contain_text("Konto wurde gelöscht")
        await expect(owner.locator("#logged-in-as")).to_have_count(0)
        await tunnel.closed(timeout=5.0)
        assert time.monotonic() - started < 5.0
        await tunnel.stop()

        # the installer no longer sees the plant; the data are gone, the invoices kept
        await installer.goto(gw.url + "plants")
        await expect(installer.locator("#shared-plants")).to_have_count(0)
        assert await store.repo(AccountRepository).find_by_login("anna") is None
        assert await store.repo(CustomerRepository).get(anna.id) is None
        assert await store.repo(PortalRepository).bank(anna.id) is None
        assert await store.repo(PlantRepository).list_for_account(anna.id) == []
        assert await checked_documents(store) == invoices
        await catcher.wait_for(1)
