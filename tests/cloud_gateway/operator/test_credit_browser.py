"""Credit notes and refunds in the console, in Debian's chromium at 390 px.

An accountant finds the customer's paid invoice, is refused without a reason (the input
kept), issues the credit note with one; the amount is credit on the payment account and the
customer appears among the open refunds with the bank details given in the portal. The SEPA
file the refund makes is downloaded from the page and is a valid pain.001.001.03 for the
credit; the account is back at zero. Both actions are audited with the accountant and the
reason; an operator does not reach the page.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cloud_gateway.accounts.model import Role
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.states import OrderState
from cloud_gateway.http.keys import BILLING
from cloud_gateway.portal.bank import check_bank_details
from cloud_gateway.portal.repository import PortalRepository
from cloud_gateway.store import Store
from tests.cloud_gateway.operator.test_back_office_browser import (
    HUB_YEAR,
    _audited,
    _fits,
    _order,
    _reference,
    _staff_page,
)
from tests.cloud_gateway.shop.shopping import validate
from tests.support.browser import chromium_context
from tests.support.console import staff_login
from tests.support.gateway import gateway_harness
from tests.support.sepa import check_pain001, creditor_name
from tunnel.clock import ManualClock

pytestmark = pytest.mark.browser


async def _balance(store: Store, account_id: int) -> int:
    repo = store.repo(BillingRepository)
    async with repo.transaction() as conn:
        return await repo.balance(conn, account_id)


async def test_accountant_credits_an_invoice_and_exports_the_refund(
    tmp_path: Path, clock: ManualClock
) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db_url, clock) as gw, chromium_context() as ctx:
        store = gw.gateway.store
        anna = await gw.create_account("anna")
        await gw.create_account("bert", role=Role.ACCOUNTANT)
        await gw.create_account("olga", role=Role.OPERATOR)
        iban = "DE89370400440532013000"
        details = check_bank_details("Anna Sonne", "DE89 3704 0044 0532 0130 00")
        await store.repo(PortalRepository).save_bank(anna.id, details, clock.now())
        billing = gw.gateway.runner.app[BILLING]
        placed = await _order(billing, anna.id, HUB_YEAR)
        proformas = placed["proforma_ids"]
        assert isinstance(proformas, list)
        reference = await _reference(gw, int(proformas[0]))
        await billing.record_payment(anna.id, 2975, reference, key="bank-anna")
        assert await billing.order_state(int(str(placed["order_id"]))) is OrderState.ACTIVE
        assert await _balance(store, anna.id) == 0

        page = await ctx.new_page()
        await _staff_page(page, gw, "bert", clock)
        await page.click("nav.console-nav >> text=Gutschriften und Rückzahlungen")
        await page.wait_for_url("**/console/credit")
        assert await page.locator("#refunds-empty").count() == 1
        await page.fill("#invoice-search input[name=account]", "anna")
        await page.click("#invoice-search button")
        invoice = page.locator("section[id^=invoice-]")
        assert await invoice.count() == 1
        assert "29,75" in await invoice.inner_text()
        await invoice.locator("button").click()  # no reason: refused, nothing issued
        assert "Bitte einen Grund angeben." in await page.inner_text("#console-error")
        assert await _balance(store, anna.id) == 0
        invoice = page.locator("section[id^=invoice-]")
        await invoice.locator("input[name=reason]").fill("Kulanz: Doppelbuchung")
        await invoice.locator("button").click()
        await page.wait_for_url("**/console/credit?done=credit_note&account=anna")
        assert "Gutschrift erstellt" in await page.inner_text("#console-notice")
        assert "korrigiert durch" in await page.locator("section[id^=invoice-]").inner_text()
        assert await _balance(store, anna.id) == 2975
        assert await _audited(gw, "invoice.credit_note") == ("bert", "Kulanz: Doppelbuchung")
        await _fits(page)

        # the credit is an open refund, with the bank details from the portal
        card = page.locator(f"#refund-{anna.id}")
        assert "29,75" in await card.inner_text()
        assert await card.locator("input[name=iban]").input_value() == iban
        assert await card.locator("input[name=amount]").input_value() == "29.75"
        await card.locator("input[name=amount]").fill("30,00")  # more than the credit
        await card.locator("input[name=reason]").fill("Rückzahlung Guthaben")
        await card.locator("button").click()
        assert "höher als das Guthaben" in await page.inner_text("#console-error")
        card = page.locator(f"#refund-{anna.id}")
        assert await card.locator("input[name=amount]").input_value() == "30,00"
        assert await _balance(store, anna.id) == 2975
        await card.locator("input[name=amount]").fill("29,75")
        await card.locator("button").click()
        await page.wait_for_url("**/console/credit?done=refund&file=*")
        assert "SEPA-Datei" in await page.inner_text("#console-notice")
        assert await page.locator("#refunds-empty").count() == 1
        assert await _balance(store, anna.id) == 0
        await _fits(page)

        async with page.expect_download() as waiting:
            await page.click("#files tr.fresh a")
        download = await waiting.value
        assert download.suggested_filename.startswith(f"refund-{anna.id}-")
        saved = tmp_path / "refund.xml"
        await download.save_as(saved)
        root = check_pain001(saved.read_bytes(), "29.75", iban)
        assert creditor_name(root) == "Anna Sonne"
        operator, reason = await _audited(gw, "account.refund")
        assert (operator, reason) == ("bert", "Rückzahlung Guthaben")

        await page.goto(gw.url + "console/credit?lang=en")
        assert "Refund files (pain.001)" in await page.inner_text("body")

        async with gw.client() as olga:  # money is the accountant's: operators are refused
            await staff_login(gw, olga, "olga", clock)
            async with olga.get("/console/credit") as resp:
                assert resp.status == 403
        assert await validate(store) >= 3  # pro-forma, invoice and credit note: EN 16931
