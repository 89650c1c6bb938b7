"""The notification outbox against a real SMTP server, on both database backends."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa

from cloud_gateway.config import SmtpConfig
from cloud_gateway.i18n import Language
from cloud_gateway.notify import Attachment, Mail, MailKind, MailWorker, Outbox, render_mail
from cloud_gateway.notify.repository import OutboxRepository, OutboxState
from cloud_gateway.notify.schema import notification_attachments
from cloud_gateway.store import Store
from tests.support.smtp import RecordingSmtp
from tunnel.clock import ManualClock


def _mail(to: str = "anna@example.org", lang: Language = Language.DE) -> Mail:
    return Mail(
        to=to,
        kind=MailKind.PASSWORD_RESET,
        language=lang,
        params={"username": "anna", "link": "https://portal.test/x", "expires": "morgen"},
    )


def _smtp(server: RecordingSmtp) -> SmtpConfig:
    return SmtpConfig(host=server.host, port=server.port, sender="Gateway <noreply@portal.test>")


def test_templates_exist_in_german_and_english() -> None:
    params = {
        "username": "anna",
        "link": "L",
        "expires": "E",
        "when": "W",
        "product": "P",
        "expiry_day": "D",
        "days": 5,
        "order_id": 1,
        "period_days": 30,
        # service_order (contracts)
        "name": "Anna",
        "ordered_on": "O",
        "service_number": "SAT-000001",
        "latitude": "53.2",
        "longitude": "7.4",
        "proforma_number": "PR-2026-00001",
        "proforma_gross": "G",
        "payment_reference": "RF",
        "wished_start": "",
        "seller": "S",
        "order": "A-1",
        "plants": ["Scheune"],
        "total": "58,31 €",
        "number": "T-000001",
        "subject": "S",
        "body": "B",
        "serial": "SN",
        "amount": "1,00 €",
        "devices": 1,
        "contracts": 1,
        "keep_until": "K",
        # subscription_order (the billing run's renewal pro-forma)
        "first": "F",
        "last": "L",
        "due": "D",
        "reference": "RF",
    }
    for kind in MailKind:
        de = render_mail(Mail(to="x@y", kind=kind, language=Language.DE, params=params))
        en = render_mail(Mail(to="x@y", kind=kind, language=Language.EN, params=params))
        assert de.subject
        assert en.subject
        assert de.subject != en.subject
        assert de.body.strip()


async def test_committed_mails_are_sent_once_and_rolled_back_ones_never(
    store: Store, clock: ManualClock, smtp_server: RecordingSmtp
) -> None:
    outbox = Outbox(store.repo(OutboxRepository))
    async with store.engine.begin() as conn:
        await outbox.put(conn, _mail("a@example.org"), now=clock.now())
        await outbox.put(conn, _mail("b@example.org", Language.EN), now=clock.now())

    async def failing_change() -> None:
        async with store.engine.begin() as conn:
            await outbox.put(conn, _mail("never@example.org"), now=clock.now())
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        await failing_change()
    worker = MailWorker(store.repo(OutboxRepository), _smtp(smtp_server), clock)
    assert await worker.deliver_pending() == 2
    messages = await smtp_server.wait_for(2)
    assert [m["To"] for m in messages] == ["a@example.org", "b@example.org"]
    assert messages[0]["Subject"] == "Passwort zurücksetzen"
    assert messages[1]["Subject"] == "Reset your password"
    assert "https://portal.test/x" in messages[0].get_content()
    # a restarted worker finds nothing left to send
    again = MailWorker(store.repo(OutboxRepository), _smtp(smtp_server), clock)
    assert await again.deliver_pending() == 0
    assert len(smtp_server.messages) == 2
    rows = await store.repo(OutboxRepository).list_recent()
    assert {r.state for r in rows} == {OutboxState.SENT}


async def test_dedup_key_writes_a_scheduled_mail_once(store: Store, clock: ManualClock) -> None:
    outbox = Outbox(store.repo(OutboxRepository))
    async with store.engine.begin() as conn:
        first = await outbox.put(conn, _mail(), now=clock.now(), dedup_key="reminder:1:before")
        second = await outbox.put(conn, _mail(), now=clock.now(), dedup_key="reminder:1:before")
    assert first is not None
    assert second is None
    assert len(await store.repo(OutboxRepository).list_recent()) == 1


async def test_unreachable_smtp_retries_with_backoff_then_delivers(
    store: Store, clock: ManualClock, smtp_server: RecordingSmtp
) -> None:
    outbox = Outbox(store.repo(OutboxRepository))
    async with store.engine.begin() as conn:
        await outbox.put(conn, _mail(), now=clock.now())
    dead = SmtpConfig(host="127.0.0.1", port=1, timeout_s=2.0)
    assert await MailWorker(store.repo(OutboxRepository), dead, clock).deliver_pending() == 0
    (row,) = await store.repo(OutboxRepository).list_recent()
    assert row.state is OutboxState.PENDING
    assert row.attempts == 1
    assert row.last_error
    live = MailWorker(store.repo(OutboxRepository), _smtp(smtp_server), clock)
    assert await live.deliver_pending() == 0  # not due before the backoff
    clock.advance(timedelta(minutes=3))
    assert await live.deliver_pending() == 1
    assert len(await smtp_server.wait_for(1)) == 1


async def test_a_claim_lost_in_a_crash_is_sent_after_the_lease(
    store: Store, clock: ManualClock, smtp_server: RecordingSmtp
) -> None:
    outbox = Outbox(store.repo(OutboxRepository))
    async with store.engine.begin() as conn:
        await outbox.put(conn, _mail(), now=clock.now())
    # a worker claimed the row and died before sending
    assert len(await store.repo(OutboxRepository).claim_due(clock.now(), timedelta(minutes=5))) == 1
    worker = MailWorker(store.repo(OutboxRepository), _smtp(smtp_server), clock)
    assert await worker.deliver_pending() == 0
    clock.advance(timedelta(minutes=5))
    assert await worker.deliver_pending() == 1
    assert await worker.deliver_pending() == 0
    (msg,) = await smtp_server.wait_for(1)
    assert msg["Message-ID"].startswith("<outbox-")


async def test_attachments_travel_with_their_mail_and_roll_back_with_it(
    store: Store, clock: ManualClock, smtp_server: RecordingSmtp
) -> None:
    outbox = Outbox(store.repo(OutboxRepository))
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 40  # binary, not text
    files = (
        Attachment(filename="Rechnung-R2026-000001.pdf", content_type="application/pdf", data=pdf),
        Attachment(filename="AGB.txt", content_type="text/plain", data=b"Bedingungen"),
    )
    with_files = Mail(
        to="a@example.org",
        kind=MailKind.PASSWORD_RESET,
        params={"username": "anna", "link": "L", "expires": "E"},
        attachments=files,
    )
    async with store.engine.begin() as conn:
        await outbox.put(conn, with_files, now=clock.now())

    async def failing_change() -> None:
        async with store.engine.begin() as conn:
            await outbox.put(conn, replace(with_files, to="never@example.org"), now=clock.now())
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        await failing_change()
    worker = MailWorker(store.repo(OutboxRepository), _smtp(smtp_server), clock)
    assert await worker.deliver_pending() == 1
    (message,) = await smtp_server.wait_for(1)
    assert message.is_multipart()
    parts = list(message.iter_attachments())
    assert [p.get_filename() for p in parts] == ["Rechnung-R2026-000001.pdf", "AGB.txt"]
    assert parts[0].get_content_type() == "application/pdf"
    assert parts[0].get_content() == pdf
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    assert "L" in body.get_content()
    # the rolled-back mail left no attachment rows behind either
    async with store.engine.connect() as conn:
        count = await conn.scalar(sa.select(sa.func.count()).select_from(notification_attachments))
    assert count == 2


def test_an_attachment_needs_a_name_and_a_full_mime_type() -> None:
    with pytest.raises(ValueError, match="maintype/subtype"):
        Attachment(filename="x.pdf", content_type="pdf", data=b"")
    with pytest.raises(ValueError, match="file name"):
        Attachment(filename="", content_type="application/pdf", data=b"")


async def test_a_source_attachment_is_rendered_when_sent_and_retried_until_it_renders(
    store: Store, clock: ManualClock, smtp_server: RecordingSmtp
) -> None:
    outbox = Outbox(store.repo(OutboxRepository))
    lazy = Attachment(filename="RE-1.pdf", content_type="application/pdf", source="doc:7")
    mail = replace(_mail(), attachments=(lazy,))
    async with store.engine.begin() as conn:
        await outbox.put(conn, mail, now=clock.now())
    rendered: list[str] = []

    async def render(reference: str) -> bytes:
        rendered.append(reference)
        if len(rendered) == 1:
            raise OSError("renderer not ready")
        return b"%PDF-" + reference.encode()

    worker = MailWorker(store.repo(OutboxRepository), _smtp(smtp_server), clock)
    assert await worker.deliver_pending() == 0  # no source for "doc" yet: retried later
    worker.add_source("doc", render)
    clock.advance(timedelta(minutes=3))
    assert await worker.deliver_pending() == 0  # the source failed: retried later
    clock.advance(timedelta(minutes=5))
    assert await worker.deliver_pending() == 1
    (message,) = await smtp_server.wait_for(1)
    [part] = message.iter_attachments()
    assert (part.get_filename(), part.get_content()) == ("RE-1.pdf", b"%PDF-7")
    assert rendered == ["7", "7"]
    # nothing but the reference was stored with the mail
    async with store.engine.connect() as conn:
        stored = (await conn.execute(sa.select(notification_attachments))).one()
    assert (stored.data, stored.source) == (b"", "doc:7")


def test_an_attachment_has_bytes_or_a_source() -> None:
    with pytest.raises(ValueError, match="not both"):
        Attachment(filename="x.pdf", content_type="application/pdf", data=b"x", source="doc:1")
    with pytest.raises(ValueError, match="not both"):
        Attachment(filename="x.pdf", content_type="application/pdf", source="no-scheme")
