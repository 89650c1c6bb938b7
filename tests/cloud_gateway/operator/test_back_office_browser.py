"""The console's back-office pages in Debian's chromium, at 390 px:

- an operator uploads a camt.053 statement whose payment nobody can match, assigns it to the
  customer's open pro-forma, and the package becomes active;
- an accountant confirms the delivery reservation of a paid service order and it activates;
- an operator answers a ticket and the customer gets the mail; a repair order goes through
  review and quote (the customer gets the quote mail).

Each action without a reason is refused with a clear message that keeps the input, and each
is audited with the staff member and reason.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyotp
import pytest
from playwright.async_api import Page

from cloud_gateway.accounts.model import Role
from cloud_gateway.billing.catalogue import BookingType
from cloud_gateway.billing.pricing import Buyer
from cloud_gateway.billing.rendering.view import Party
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.service import BillingService, Customer, OrderLine
from cloud_gateway.billing.states import OrderState
from cloud_gateway.http.keys import BILLING, SUPPORT
from cloud_gateway.operator.repository import ConsoleAuditRepository
from cloud_gateway.support.model import RepairState
from cloud_gateway.support.service import RepairForm
from simulator.bank import Booking, Movement, statement_xml
from tests.cloud_gateway.accounts.support import mailing_gateway
from tests.cloud_gateway.shop.shopping import validate
from tests.support.browser import chromium_context
from tests.support.gateway import GatewayHarness, gateway_harness
from tests.support.smtp import RecordingSmtp
from tunnel.clock import ManualClock

pytestmark = pytest.mark.browser

HUB_YEAR = OrderLine(product="hub-remote", plan="12m", booking=BookingType.SINGLE)
SATELLITE = OrderLine(product="satellite-uplink", plan="monthly")


async def _fits(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width} px wide"


async def _staff_page(page: Page, gw: GatewayHarness, name: str, clock: ManualClock) -> None:
    """Log ``name`` in with password and a freshly enrolled TOTP at the injected clock."""
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto(gw.url + "console")
    await page.fill("input[name=login]", name)
    await page.fill("input[name=password]", "Sonnig!2026")
    await page.click("button[type=submit]")
    await page.wait_for_url("**/console/2fa?next=/console")
    secret = (await page.inner_text("#totp-secret")).strip()
    await page.fill("input[name=code]", pyotp.TOTP(secret).at(clock.now()))
    await page.click("#totp-submit")
    await page.click("#recovery-continue")
    await page.wait_for_url("**/console")


async def _order(billing: BillingService, account_id: int, line: OrderLine) -> dict[str, object]:
    customer = Customer(
        account_id=account_id,
        party=Party(name="Anna Sonne", street="Deichweg 3", postcode="26831", city="Bunde",
                    customer_number=f"K{account_id:06d}"),
        buyer=Buyer(business=False, country="DE"),
    )  # fmt: skip
    return await billing.place_order(customer, [line], key=f"order-{line.product}")


async def _audited(gw: GatewayHarness, action: str) -> tuple[str, str]:
    entries = await gw.gateway.store.repo(ConsoleAuditRepository).recent(limit=20)
    found = [e for e in entries if e.action == action]
    assert found, [e.action for e in entries]
    return found[0].operator, found[0].reason


@dataclass(frozen=True, slots=True)
class Ordered:
    """A staff member's console page and a customer's order placed with the billing service."""

    gw: GatewayHarness
    page: Page
    billing: BillingService
    account_id: int
    order_id: int
    proforma_id: int


@asynccontextmanager
async def _ordered(
    tmp_path: Path, clock: ManualClock, staff: str, role: Role, line: OrderLine
) -> AsyncIterator[Ordered]:
    """A gateway where anna ordered ``line`` and ``staff`` is logged in to the console."""
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db_url, clock) as gw, chromium_context() as ctx:
        anna = await gw.create_account("anna")
        await gw.create_account(staff, role=role)
        billing = gw.gateway.runner.app[BILLING]
        placed = await _order(billing, anna.id, line)
        ids = placed["proforma_ids"]
        assert isinstance(ids, list)
        page = await ctx.new_page()
        await _staff_page(page, gw, staff, clock)
        yield Ordered(gw, page, billing, anna.id, int(str(placed["order_id"])), int(ids[0]))
        assert await validate(gw.gateway.store) >= 1


async def test_operator_assigns_an_unmatched_payment_and_the_package_activates(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with _ordered(tmp_path, clock, "olga", Role.OPERATOR, HUB_YEAR) as ordered:
        gw, page, billing = ordered.gw, ordered.page, ordered.billing
        order_id = ordered.order_id
        assert await billing.order_state(order_id) is OrderState.CONFIRMED  # nothing to deliver
        # the payer typed neither the reference nor a name we know: the queue
        transfer = Movement(amount=2975, name="HAUSVERWALTUNG NORD", text="Rechnung Anna")
        statement = tmp_path / "auszug.xml"
        statement.write_bytes(
            statement_xml("08", [Booking(movements=(transfer,), reference="T-9",
                                         booked=date(2026, 2, 12))])
        )  # fmt: skip

        await page.click("nav.console-nav >> text=Zahlungen")
        await page.wait_for_url("**/console/bank")
        await _fits(page)
        await page.set_input_files("#bank-upload input[name=file]", str(statement))
        await page.click("#bank-upload button")  # no reason: refused, nothing imported
        assert "Bitte einen Grund angeben." in await page.inner_text("#console-error")
        assert await page.locator("#queue-empty").count() == 1
        await page.set_input_files("#bank-upload input[name=file]", str(statement))
        await page.fill("#bank-upload input[name=reason]", "Auszug Februar")
        await page.click("#bank-upload button")
        await page.wait_for_selector("#bank-summary")
        card = page.locator("section[id^=tx-]")
        assert await card.count() == 1
        assert "HAUSVERWALTUNG NORD" in await card.inner_text()
        assert "29,75" in await card.inner_text()
        await _fits(page)

        assign = card.locator("form[action$=assign]")
        await assign.locator("button").click()  # no reason: the message, the queue unchanged
        assert "Bitte einen Grund angeben." in await page.inner_text("#console-error")
        assign = page.locator("section[id^=tx-] form[action$=assign]")
        await assign.locator("input[name=reason]").fill("Zahlung für Anna laut Telefonat")
        await assign.locator("button").click()
        await page.wait_for_url("**/console/bank?done=assign")
        assert await page.inner_text("#console-notice") == "Zahlung zugeordnet."
        assert await page.locator("#queue-empty").count() == 1
        # paid without reservations: the package runs
        assert await billing.order_state(order_id) is OrderState.ACTIVE
        assert await _audited(gw, "bank.assign") == ("olga", "Zahlung für Anna laut Telefonat")
        assert await _audited(gw, "bank.upload") == ("olga", "Auszug Februar")

        # the customer's journal: the payment and the charge; English on request
        await page.goto(gw.url + "console/bank?account=anna&lang=en")
        assert "Balance" in await page.inner_text("body")
        assert await page.locator("#journal tbody tr").count() == 2
        kinds = await page.locator("#journal td[data-kind]").all_inner_texts()
        assert sorted(kinds) == ["Charge (document settled)", "Payment received"]
        await _fits(page)


async def test_accountant_confirms_a_reservation_and_the_service_activates(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with _ordered(tmp_path, clock, "bert", Role.ACCOUNTANT, SATELLITE) as ordered:
        gw, page, billing = ordered.gw, ordered.page, ordered.billing
        order_id, proforma_id = ordered.order_id, ordered.proforma_id
        # the accountant sees the money pages, not the support ones
        nav = await page.inner_text("nav.console-nav")
        assert "Zahlungen" in nav
        assert "Tickets" not in nav
        await page.goto(gw.url + "console/bank")
        proforma = page.locator(f'#proformas tr[data-document="{proforma_id}"]')
        assert "2.151,52" in await proforma.inner_text()
        # the prepaid fee arrives; the order waits for the confirmed order form
        reference = await _reference(gw, proforma_id)
        await billing.record_payment(ordered.account_id, 215152, reference, key="bank-1")
        assert await billing.order_state(order_id) is OrderState.PAID
        await page.reload()
        form = page.locator(f'#order-{order_id} form[data-code="order_form"]')
        # named as the contract names it; the reason is logged (no device is told)
        assert await form.locator("button").inner_text() == "Bestätigen: Eingang Bestellformular"
        assert await form.locator("label").inner_text() == "Grund (wird protokolliert)"
        await form.locator("input[name=reason]").fill("Auftragsformular liegt unterschrieben vor")
        await form.locator("button").click()
        await page.wait_for_url("**/console/bank?done=confirm")
        assert await page.inner_text("#console-notice") == "Reservierung bestätigt."
        assert await page.locator(f"#order-{order_id}").count() == 0
        assert await billing.order_state(order_id) is OrderState.ACTIVE
        assert await _audited(gw, "reservation.confirm") == (
            "bert", "Auftragsformular liegt unterschrieben vor",
        )  # fmt: skip
        await _fits(page)


async def _reference(gw: GatewayHarness, document_id: int) -> str:
    repo = gw.gateway.store.repo(BillingRepository)
    async with repo.transaction() as conn:
        return (await repo.document(conn, document_id)).payment_reference or ""


async def test_operator_answers_a_ticket_and_quotes_a_repair(
    tmp_path: Path, clock: ManualClock, smtp_server: RecordingSmtp
) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with (
        mailing_gateway(tmp_path, db_url, clock, smtp_server) as gw,
        chromium_context() as ctx,
    ):
        anna = await gw.create_account("anna")
        await gw.create_account("olga", role=Role.OPERATOR)
        support = gw.gateway.runner.app[SUPPORT]
        ticket = await support.open_ticket(anna.id, "Tunnel bricht ab", "Alle 10 Minuten.")
        repair = await support.file_repair(
            anna.id,
            RepairForm.parse({"contact_name": "Anna", "contact_email": "anna@example.org",
                              "category": "siemens", "device_serial": "SN-9",
                              "fault": "Lüfter laut"}),
        )  # fmt: skip
        page = await ctx.new_page()
        await _staff_page(page, gw, "olga", clock)
        await page.click("nav.console-nav >> text=Tickets")
        await page.wait_for_url("**/console/tickets")
        await _fits(page)
        await page.click(f'#tickets tr[data-ticket="{ticket}"] a')
        await page.wait_for_url(f"**/console/tickets/{ticket}")
        assert "Alle 10 Minuten." in await page.inner_text("#messages")
        answer = "Bitte die Firmware 3.1 installieren."
        await page.fill("#answer-ticket textarea[name=body]", answer)
        await page.click("#answer-ticket button")  # no reason: refused, the text kept
        assert "Bitte einen Grund angeben." in await page.inner_text("#console-error")
        assert await page.input_value("#answer-ticket textarea[name=body]") == answer
        await page.fill("#answer-ticket input[name=reason]", "Kundenanfrage")
        await page.click("#answer-ticket button")
        await page.wait_for_url(f"**/console/tickets/{ticket}?done=answered")
        assert await page.inner_text("#ticket-status") == "beantwortet"
        [mail] = await smtp_server.wait_for(1)
        assert mail["To"] == "anna@example.org"
        assert answer in mail.get_content()
        assert await _audited(gw, "ticket.answer") == ("olga", "Kundenanfrage")
        await _fits(page)

        # the repair order: review, then a quote whose amount is checked and kept
        await page.click("nav.console-nav >> text=Reparaturen")
        card = page.locator(f"#repair-{repair}")
        await card.locator("input[name=reason]").fill("Eingang geprüft")
        await card.locator("button").click()
        await page.wait_for_url("**/console/repairs?done=review*")
        card = page.locator(f"#repair-{repair}")
        await card.locator("input[name=amount]").fill("12,345")
        await card.locator("textarea[name=text]").fill("Lüfter tauschen")
        await card.locator("input[name=reason]").fill("Angebot")
        await card.locator("button").click()
        assert "höchstens 2 Nachkommastellen" in await page.inner_text("#console-error")
        card = page.locator(f"#repair-{repair}")
        assert await card.locator("textarea[name=text]").input_value() == "Lüfter tauschen"
        await card.locator("input[name=amount]").fill("49,90")
        await card.locator("button").click()
        await page.wait_for_url("**/console/repairs?done=quote*")
        done = await support.repair(repair, None)
        assert (done.state, done.quote_net) == (RepairState.QUOTED, 4990)
        assert "49,90" in await page.locator(f"#repair-{repair}").inner_text()
        quote_mail = (await smtp_server.wait_for(2))[1]
        assert quote_mail["To"] == "anna@example.org"
        assert await _audited(gw, "repair.quote") == ("olga", "Angebot")
        await _fits(page)

        # the customer accepts; "paid" only once the pro-forma is settled, then done
        accepted = await support.accept(anna.id, repair)
        await page.reload()
        card = page.locator(f"#repair-{repair}")
        await card.locator("input[name=reason]").fill("Zahlung erwartet")
        await card.locator("button").click()
        assert "nicht möglich" in await page.inner_text("#console-error")
        assert accepted.proforma_id is not None
        reference = await _reference(gw, accepted.proforma_id)
        billing = gw.gateway.runner.app[BILLING]
        await billing.record_payment(anna.id, 5938, reference, key="bank-repair")
        card = page.locator(f"#repair-{repair}")
        await card.locator("input[name=reason]").fill("Zahlung eingegangen")
        await card.locator("button").click()
        await page.wait_for_url("**/console/repairs?done=paid*")
        card = page.locator(f"#repair-{repair}")
        await card.locator("input[name=reason]").fill("Gerät repariert zurückgeschickt")
        await card.locator("button").click()
        await page.wait_for_url("**/console/repairs?done=done*")
        assert (await support.repair(repair, None)).state is RepairState.DONE
        assert await page.get_attribute(f"#repair-{repair}", "data-state") == "done"
        assert await _audited(gw, "repair.done") == ("olga", "Gerät repariert zurückgeschickt")
