"""Tickets and repair orders through the support service, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.billing.rendering.view import DocumentKind, Party
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.service import BillingService
from cloud_gateway.errors import NotFoundError
from cloud_gateway.notify.schema import notification_outbox as outbox_table
from cloud_gateway.store import Store
from cloud_gateway.support.attachments import checked
from cloud_gateway.support.errors import AttachmentError, RepairStateError, TicketInputError
from cloud_gateway.support.model import RepairState, TicketStatus
from cloud_gateway.support.quote_pdf import render_quote
from cloud_gateway.support.service import RepairForm, SupportService, quote_gross
from tunnel.clock import ManualClock

BASE = "https://portal.example/"


async def _accounts(store: Store, clock: ManualClock) -> tuple[int, int]:
    repo = store.repo(AccountRepository)
    anna = await repo.create(
        username="anna", email="anna@example.org", password_hash="h", created_at=clock.now()
    )
    ben = await repo.create(
        username="ben", email="ben@example.org", password_hash="h", created_at=clock.now()
    )
    return anna.id, ben.id


async def _mails(store: Store) -> list[sa.Row[tuple[str, str, str]]]:
    async with store.engine.connect() as conn:
        stmt = sa.select(outbox_table.c.recipient, outbox_table.c.subject, outbox_table.c.body)
        return list(await conn.execute(stmt.order_by(outbox_table.c.id)))


async def test_ticket_answered_mails_the_customer_and_stays_private(
    store: Store, support: SupportService, billing_clock: ManualClock
) -> None:
    anna, ben = await _accounts(store, billing_clock)
    pdf = checked("befund.pdf", b"%PDF-1.7 fake but sniffed")
    ticket_id = await support.open_ticket(anna, "Kein\r\nTunnel ", "Seit gestern offline.", [pdf])
    assert [t.id for t in await support.tickets(anna, TicketStatus.OPEN)] == [ticket_id]
    with pytest.raises(NotFoundError):
        await support.ticket(ticket_id, ben)
    with pytest.raises(NotFoundError):
        await support.reply(ben, ticket_id, "fremd")
    assert await _mails(store) == []

    await support.answer(ticket_id, "Bitte starten Sie die Zentrale neu.", base_url=BASE)
    ticket = await support.ticket(ticket_id, anna)
    assert ticket.status is TicketStatus.ANSWERED
    assert [m.author.value for m in ticket.messages] == ["customer", "operator"]
    [attachment] = ticket.messages[0].attachments
    assert (attachment.filename, attachment.content_type) == ("befund.pdf", "application/pdf")
    [mail] = await _mails(store)
    assert mail.recipient == "anna@example.org"
    assert "Kein Tunnel" in mail.subject  # the subject stays one line
    assert "starten Sie die Zentrale neu" in mail.body
    assert f"{BASE}portal/tickets/{ticket_id}" in mail.body

    await support.reply(anna, ticket_id, "Danke, geht wieder.")
    assert (await support.ticket(ticket_id, anna)).status is TicketStatus.OPEN
    with pytest.raises(TicketInputError):
        await support.reply(anna, ticket_id, "   ")


def test_attachments_are_typed_by_content_and_size_limited() -> None:
    assert checked("x.png", b"\x89PNG\r\n\x1a\n....").content_type == "image/png"
    assert checked("notiz.txt", "Grüße\n".encode()).content_type == "text/plain"
    assert checked('C:\\tmp\\a"b\r.pdf', b"%PDF-1").filename == "ab.pdf"
    with pytest.raises(AttachmentError) as bad:
        checked("invoice.pdf", b"MZ\x90\x00\x03 an executable")
    assert bad.value.reason == "bad_type"
    with pytest.raises(AttachmentError) as big:
        checked("big.pdf", b"%PDF-" + b"0" * (2 * 1024 * 1024))
    assert big.value.reason == "too_large"


def _form(**extra: str) -> RepairForm:
    values = {
        "contact_name": "Anna Sonne",
        "contact_email": "anna@example.org",
        "category": "out_of_warranty",
        "device_serial": "SN-4711",
        "fault": "Display dunkel, Fehler 0x21",
        "device_model": "AE 3TL",
    }
    return RepairForm.parse({**values, **extra})


async def test_repair_order_quote_accept_gives_one_valid_proforma(
    store: Store,
    support: SupportService,
    billing_service: BillingService,
    billing_clock: ManualClock,
) -> None:
    anna, ben = await _accounts(store, billing_clock)
    with pytest.raises(TicketInputError) as missing:
        await support.file_repair(anna, RepairForm.parse({"category": "toaster"}))
    assert set(missing.value.fields) >= {"contact_name", "category", "fault"}
    with pytest.raises(TicketInputError):  # an inverter that is not in the account's plants
        await support.file_repair(anna, _form(inverter_id="999"))

    repair_id = await support.file_repair(anna, _form())
    with pytest.raises(NotFoundError):
        await support.repair(repair_id, ben)
    with pytest.raises(RepairStateError):  # no quote yet
        await support.accept(anna, repair_id)
    await support.review(repair_id, "Austauschplatine nötig")
    quoted = await support.quote(repair_id, 24990, "Tausch der Steuerplatine", base_url=BASE)
    assert quoted.state is RepairState.QUOTED
    [mail] = await _mails(store)
    assert "297,38" in mail.body  # 249,90 € + 19 % half up
    assert quote_gross(24990) == 29738

    pdf = render_quote(quoted, Party(name="Solar GmbH"), "de")
    assert pdf.startswith(b"%PDF-")
    with pytest.raises(NotFoundError):
        await support.accept(ben, repair_id)
    accepted = await support.accept(anna, repair_id)
    again = await support.accept(anna, repair_id)
    assert accepted.state is RepairState.ACCEPTED
    assert again.proforma_id == accepted.proforma_id is not None

    billing = store.repo(BillingRepository)
    async with billing.transaction() as conn:
        documents = await billing.documents(conn, account_id=anna)
    [proforma] = documents
    assert proforma.kind is DocumentKind.PROFORMA
    assert proforma.gross == 29738
    assert proforma.due_date is not None

    with pytest.raises(RepairStateError):  # not before the money has arrived
        await support.mark(repair_id, RepairState.PAID)
    # the transfer arrives with the pro-forma's reference: it is settled (charged once)
    assert proforma.payment_reference is not None
    paid = await billing_service.record_payment(
        anna, proforma.due, proforma.payment_reference, key="bank:repair"
    )
    assert paid["settled_document_id"] == proforma.id
    async with billing.transaction() as conn:
        assert await billing.is_settled(conn, proforma.id)
        assert await billing.balance(conn, anna) == 0
    assert (await support.mark(repair_id, RepairState.PAID)).state is RepairState.PAID
    with pytest.raises(RepairStateError):
        await support.mark(repair_id, RepairState.PAID)
    assert (await support.mark(repair_id, RepairState.DONE)).state is RepairState.DONE


async def test_concurrent_acceptances_issue_one_proforma(
    store: Store, support: SupportService, billing_clock: ManualClock
) -> None:
    anna, _ben = await _accounts(store, billing_clock)
    repair_id = await support.file_repair(anna, _form())
    await support.review(repair_id, "")
    await support.quote(repair_id, 9900, "Lüftertausch", base_url=BASE)
    first, second = await asyncio.gather(
        support.accept(anna, repair_id), support.accept(anna, repair_id)
    )
    assert first.proforma_id == second.proforma_id is not None
    billing = store.repo(BillingRepository)
    async with billing.transaction() as conn:
        assert len(await billing.documents(conn, account_id=anna)) == 1
