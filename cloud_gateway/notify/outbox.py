"""The notification outbox API that every area uses to send e-mail.

Write the mail in the same transaction as the change that causes it, then wake the worker
after the commit::

    async with store.database.begin() as conn:
        ...  # the change
        await outbox.put(conn, Mail(to=..., kind=MailKind.PASSWORD_RESET, ...), now=now)
    outbox.wake()

A rolled-back change leaves no mail; a committed one is delivered by :class:`MailWorker`
even across restarts. ``dedup_key`` makes scheduled mails (reminders) idempotent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from cloud_gateway.notify.mail import Mail, render_mail
from cloud_gateway.notify.repository import OutboxRepository

__all__ = ["Outbox"]


class Outbox:
    """Renders mails into the outbox table and nudges the worker."""

    def __init__(
        self, repository: OutboxRepository, *, wakers: Sequence[Callable[[], None]] = ()
    ) -> None:
        self._repository = repository
        self._wakers: list[Callable[[], None]] = list(wakers)

    async def put(
        self, conn: AsyncConnection, mail: Mail, *, now: datetime, dedup_key: str | None = None
    ) -> int | None:
        """Append ``mail`` in the caller's transaction; ``None`` when ``dedup_key`` was seen."""
        rendered = render_mail(mail)
        return await self._repository.append(
            conn,
            recipient=mail.to,
            template=mail.kind.value,
            language=mail.language.value,
            subject=rendered.subject,
            body=rendered.body,
            now=now,
            dedup_key=dedup_key,
            attachments=mail.attachments,
        )

    def on_commit(self, waker: Callable[[], None]) -> None:
        """Register a callback (the worker's ``wake``) for :meth:`wake`."""
        self._wakers.append(waker)

    def wake(self) -> None:
        """Tell the workers that committed mails are waiting."""
        for waker in self._wakers:
            waker()
