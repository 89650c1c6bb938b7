"""Delivers the outbox over SMTP (aiosmtplib), at least once, in order of arrival.

An attachment stored as a ``scheme:reference`` source (no bytes) is rendered here, by the
source registered for its scheme (:meth:`MailWorker.add_source`), e.g. a finalised invoice's
PDF: the transaction that queued the mail does not wait for the rendering. A source that is
missing or fails counts as a failed delivery and is retried with the usual backoff.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib

from cloud_gateway.config import SmtpConfig
from cloud_gateway.errors import NotificationError
from cloud_gateway.notify.mail import Attachment
from cloud_gateway.notify.repository import OutboxRepository, OutboxRow
from tunnel.clock import Clock

__all__ = ["AttachmentSource", "MailWorker"]

#: renders the bytes of an attachment from the reference after ``scheme:``
AttachmentSource = Callable[[str], Awaitable[bytes]]

_LOGGER = logging.getLogger(__name__)
_LEASE = timedelta(minutes=5)
_MAX_BACKOFF = timedelta(hours=6)


def _message(row: OutboxRow, sender: str, attachments: Sequence[Attachment] = ()) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = row.recipient
    msg["Subject"] = row.subject
    msg["Date"] = format_datetime(row.created_at)
    domain = sender.rpartition("@")[2].rstrip(">") or "localhost"
    # stable per row: a resend after a crash carries the same id, so receivers can drop it
    msg["Message-ID"] = f"<outbox-{row.id}-{int(row.created_at.timestamp())}@{domain}>"
    msg["Content-Language"] = row.language
    msg["X-Outbox-Template"] = row.template
    msg.set_content(row.body)
    for attachment in attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        msg.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return msg


class MailWorker:
    """Claims due outbox rows, sends them, and marks them sent or retries with backoff."""

    def __init__(self, repository: OutboxRepository, config: SmtpConfig, clock: Clock) -> None:
        self._repository = repository
        self._config = config
        self._clock = clock
        self._wake = asyncio.Event()
        self._sources: dict[str, AttachmentSource] = {}

    def add_source(self, scheme: str, source: AttachmentSource) -> None:
        """Render attachments stored as ``scheme:reference`` with ``source(reference)``."""
        self._sources[scheme] = source

    async def _attachments(self, row_id: int) -> list[Attachment]:
        files = []
        for attachment in await self._repository.attachments(row_id):
            if attachment.source:
                scheme, _, reference = attachment.source.partition(":")
                source = self._sources.get(scheme)
                if source is None:
                    raise NotificationError(f"no attachment source {scheme!r}")
                try:
                    data = await source(reference)
                except Exception as exc:  # any failure is retried like an SMTP failure
                    raise NotificationError(f"attachment {attachment.source}: {exc}") from exc
                files.append(dataclasses.replace(attachment, data=data, source=""))
            else:
                files.append(attachment)
        return files

    def wake(self) -> None:
        """New mails were committed: deliver now instead of at the next poll."""
        self._wake.set()

    async def _send(self, row: OutboxRow) -> None:
        cfg = self._config
        try:
            await aiosmtplib.send(
                _message(row, cfg.sender, await self._attachments(row.id)),
                hostname=cfg.host,
                port=cfg.port,
                use_tls=cfg.tls,
                start_tls=cfg.starttls,
                username=cfg.username or None,
                password=cfg.password or None,
                timeout=cfg.timeout_s,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise NotificationError(f"SMTP {cfg.host}:{cfg.port}: {exc}") from exc

    async def deliver_pending(self) -> int:
        """Send every due mail once; returns how many the SMTP server accepted."""
        sent = 0
        while rows := await self._repository.claim_due(self._clock.now(), _LEASE):
            for row in rows:
                try:
                    await self._send(row)
                except NotificationError as exc:
                    give_up = row.attempts >= self._config.max_attempts
                    backoff = min(_MAX_BACKOFF, timedelta(minutes=2 ** min(row.attempts, 10)))
                    _LOGGER.warning(
                        "mail %d to %s failed (attempt %d%s): %s",
                        row.id,
                        row.recipient,
                        row.attempts,
                        ", giving up" if give_up else "",
                        exc,
                    )
                    await self._repository.mark_retry(
                        row.id,
                        error=str(exc),
                        retry_at=self._clock.now() + backoff,
                        give_up=give_up,
                    )
                    continue
                await self._repository.mark_sent(row.id, self._clock.now())
                sent += 1
            if len(rows) and all(r.attempts > 1 for r in rows):
                break  # only retries were due; don't spin on a dead server
        return sent

    async def run(self) -> None:
        """Deliver until cancelled: on every wake-up and at least every poll interval."""
        if not self._config.host:
            _LOGGER.info("no SMTP host configured: mails stay in the outbox")
            return
        while True:
            self._wake.clear()
            try:
                await self.deliver_pending()
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup must not end the worker
                _LOGGER.exception("outbox delivery pass failed")
            try:
                async with asyncio.timeout(self._config.poll_interval_s):
                    await self._wake.wait()
            except TimeoutError:
                pass
