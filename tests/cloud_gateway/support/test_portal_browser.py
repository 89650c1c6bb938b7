"""The portal in Debian's chromium at 390 px: a ticket answered by the operator (with the mail),
a repair order quoted and accepted (quote PDF, pro-forma), the overview and invoice list."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa
from playwright.async_api import BrowserContext

from cloud_gateway.accounts.model import Role
from cloud_gateway.notify.schema import notification_outbox
from tests.cloud_gateway.support.browsing import log_in, no_horizontal_scroll
from tests.support.browser import chromium_context
from tests.support.console import staff_login
from tests.support.gateway import GatewayHarness, gateway_harness
from tunnel.clock import ManualClock

pytestmark = pytest.mark.browser


@dataclass
class Operator:
    """The operator's API client, past the second factor, with its session's CSRF token."""

    http: aiohttp.ClientSession
    csrf: str


async def _operator(gw: GatewayHarness, clock: ManualClock) -> Operator:
    await gw.create_account("olga", role=Role.OPERATOR)
    http = gw.client()
    return Operator(http, await staff_login(gw, http, "olga", clock))


async def _post(operator: Operator, path: str, body: dict[str, object]) -> dict[str, object]:
    headers = {"X-CSRF-Token": operator.csrf}
    async with operator.http.post(path, json=body, headers=headers) as resp:
        assert resp.status == 200, await resp.text()
        result: dict[str, object] = await resp.json()
        return result


async def test_ticket_and_repair_journey(tmp_path: Path, clock: ManualClock) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db_url, clock) as gw, chromium_context() as ctx:
        await gw.create_account("anna")
        operator = await _operator(gw, clock)
        async with operator.http:
            await _journey(gw, ctx, operator, tmp_path)


async def _journey(
    gw: GatewayHarness, ctx: BrowserContext, operator: Operator, tmp_path: Path
) -> None:
    page = await ctx.new_page()
    await log_in(page, gw.url, "anna")
    await no_horizontal_scroll(page)

    # a ticket with an attachment whose content is not an accepted type: refused, input kept
    await page.goto(gw.url + "portal/tickets")
    await page.fill("input[name=subject]", "Zentrale offline")
    await page.fill("textarea[name=body]", "Seit heute früh keine Verbindung.")
    exe = tmp_path / "log.pdf"
    exe.write_bytes(b"MZ\x90\x00 not a pdf")
    await page.set_input_files("input[name=files]", str(exe))
    await page.click("#ticket-send")
    assert "keine PDF-" in await page.inner_text("#ticket-error")
    assert await page.input_value("input[name=subject]") == "Zentrale offline"
    good = tmp_path / "protokoll.txt"
    good.write_text("Fehler 17 um 06:12\n")
    await page.set_input_files("input[name=files]", str(good))
    await page.click("#ticket-send")
    await page.wait_for_url("**/portal/tickets/*")
    assert await page.get_attribute("#ticket-status", "data-status") == "open"
    ticket_id = int(page.url.rsplit("/", 1)[1])
    assert await page.inner_text("a.attachment") == "protokoll.txt"

    # the operator answers through the API; the customer sees it and gets a mail
    await _post(
        operator,
        f"/api/v1/operator/tickets/{ticket_id}/answer",
        {"body": "Bitte Router neu starten."},
    )
    await page.reload()
    assert await page.get_attribute("#ticket-status", "data-status") == "answered"
    assert "Router neu starten" in await page.inner_text("article.operator")
    # a reply with a file over 2 MB: refused in German, the typed text kept
    big = tmp_path / "foto.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * (2 * 1024 * 1024))
    await page.fill("#reply-form textarea[name=body]", "Hat nicht geholfen, siehe Foto.")
    await page.set_input_files("#reply-form input[name=files]", str(big))
    await page.click("#reply-send")
    assert await page.inner_text("#ticket-error") == "Ein Anhang ist größer als 2 MB."
    assert await page.input_value("#reply-form textarea[name=body]") == (
        "Hat nicht geholfen, siehe Foto."
    )
    assert await page.get_attribute("#ticket-status", "data-status") == "answered"
    async with gw.gateway.store.engine.connect() as conn:
        mails = list(await conn.execute(sa.select(notification_outbox)))
    assert [m.recipient for m in mails] == ["anna@example.org"]
    assert "Zentrale offline" in mails[0].subject

    # a repair order: missing fault refused with the input kept, then filed
    await page.goto(gw.url + "portal/repairs")
    await page.select_option("select[name=category]", "out_of_warranty")
    await page.fill("input[name=device_serial]", "SN-4711")
    await page.fill("input[name=device_model]", "AE 3TL")
    await page.evaluate("document.getElementById('repair-form').noValidate = true")
    await page.click("#repair-send")
    assert "Pflichtfelder" in await page.inner_text("#repair-error")
    assert await page.input_value("input[name=device_serial]") == "SN-4711"
    await page.fill("textarea[name=fault]", "Display bleibt dunkel")
    await page.click("#repair-send")
    await page.wait_for_url("**/portal/repairs/*")
    repair_id = int(page.url.split("/")[-1].split("?")[0])
    assert await page.get_attribute("#repair-state", "data-state") == "submitted"
    await no_horizontal_scroll(page)

    await _post(operator, f"/api/v1/operator/repairs/{repair_id}/review", {"note": "ok"})
    await _post(
        operator,
        f"/api/v1/operator/repairs/{repair_id}/quote",
        {"net": 24990, "text": "Tausch der Steuerplatine"},
    )
    await page.reload()
    assert await page.inner_text("#quote-amount") == "297,38\xa0€"
    async with page.expect_response("**/quote.pdf") as pdf_info:
        await page.evaluate("fetch(document.getElementById('quote-pdf').href)")
    pdf = await pdf_info.value
    assert pdf.headers["content-type"] == "application/pdf"
    assert (await pdf.body()).startswith(b"%PDF-")
    page.once("dialog", lambda dialog: dialog.accept())
    await page.click("#quote-accept")
    await page.wait_for_selector("#proforma-pdf")
    assert await page.get_attribute("#repair-state", "data-state") == "accepted"
    assert await page.inner_text("#transfer-amount") == "297,38\xa0€"
    reference = await page.inner_text("#transfer-reference")
    assert reference.strip()

    # the invoice list marks the pro-forma as open; the overview shows it and the ticket
    await page.goto(gw.url + "portal/invoices")
    await no_horizontal_scroll(page)
    row = page.locator("tr.document.open")
    assert await row.count() == 1
    assert await row.get_attribute("data-kind") == "proforma"
    assert await row.locator("a.pay").get_attribute("href") == f"/portal/repairs/{repair_id}"
    href = await row.locator("a.pdf").get_attribute("href")
    assert href is not None
    async with page.expect_response(f"**{href}") as doc_info:
        await page.evaluate(f"fetch('{href}')")
    assert (await (await doc_info.value).body()).startswith(b"%PDF-")
    await page.goto(gw.url + "portal")
    assert await page.locator("#current-invoices li.open").count() == 1
    assert await page.locator("#open-tickets li.ticket").count() == 1
    await no_horizontal_scroll(page)

    # English: the same page switches language
    await page.goto(gw.url + "portal/repairs?lang=en")
    assert "Repair orders" in await page.inner_text("h1")
    # every portal page in both languages at 390 px: no untranslated key, no side scroll
    pages = ["portal", "portal/products", "portal/invoices", "portal/tickets", "portal/repairs"]
    pages += [f"portal/tickets/{ticket_id}", f"portal/repairs/{repair_id}"]
    for lang in ("en", "de"):
        for path in pages:
            response = await page.goto(f"{gw.url}{path}?lang={lang}")
            assert response is not None
            assert response.status == 200, path
            text = await page.inner_text("body")
            assert not re.search(r"\b(sp|portal)\.[a-z_]+\b", text), (lang, path)
            await no_horizontal_scroll(page)
