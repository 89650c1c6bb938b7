"""The notification outbox: mails written in the same transaction as their cause.

A worker claims due rows with a lease (``claimed_until``), hands them to SMTP and marks them
sent. A crash before the mark leaves the lease to expire, and the row is sent again: delivery is
at least once; the stable ``Message-ID`` (derived from the row id) lets receivers drop the rare
duplicate. Rows are never deleted by the worker, so what was sent can be audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from cloud_gateway.notify.mail import Attachment
from cloud_gateway.notify.schema import notification_attachments, notification_outbox
from cloud_gateway.store.repository import Repository
from cloud_gateway.store.upsert import insert_ignore

__all__ = ["OutboxRepository", "OutboxRow", "OutboxState"]

_T = notification_outbox
_A = notification_attachments


class OutboxState(StrEnum):
    """Delivery state of an outbox row."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxRow:
    """One e-mail in the outbox."""

    id: int
    recipient: str
    template: str
    language: str
    subject: str
    body: str
    dedup_key: str | None
    state: OutboxState
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str


def _row(row: sa.Row[tuple[object, ...]]) -> OutboxRow:
    m = row._mapping
    return OutboxRow(
        id=m["id"],
        recipient=m["recipient"],
        template=m["template"],
        language=m["language"],
        subject=m["subject"],
        body=m["body"],
        dedup_key=m["dedup_key"],
        state=OutboxState(m["state"]),
        attempts=m["attempts"],
        created_at=m["created_at"],
        next_attempt_at=m["next_attempt_at"],
        sent_at=m["sent_at"],
        last_error=m["last_error"],
    )


class OutboxRepository(Repository):
    """Append, claim and settle outbox rows."""

    async def append(
        self,
        conn: AsyncConnection,
        *,
        recipient: str,
        template: str,
        language: str,
        subject: str,
        body: str,
        now: datetime,
        dedup_key: str | None = None,
        attachments: Sequence[Attachment] = (),
    ) -> int | None:
        """Add a mail inside the caller's transaction; ``None`` if ``dedup_key`` exists.

        Its ``attachments`` are stored in the same transaction, in their order.
        """
        values = {
            "channel": "email",
            "recipient": recipient,
            "template": template,
            "language": language,
            "subject": subject[:300],
            "body": body,
            "dedup_key": dedup_key,
            "state": OutboxState.PENDING.value,
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
        }
        if dedup_key is None:
            result = await conn.execute(_T.insert().values(**values).returning(_T.c.id))
            row_id: int | None = int(result.scalar_one())
        else:
            row_id = await insert_ignore(conn, _T, values, ["dedup_key"])
        if row_id is not None and attachments:
            await conn.execute(
                _A.insert(),
                [
                    {
                        "outbox_id": row_id,
                        "position": position,
                        "filename": a.filename,
                        "content_type": a.content_type,
                        "data": a.data,
                        "source": a.source,
                    }
                    for position, a in enumerate(attachments)
                ],
            )
        return row_id

    async def attachments(self, row_id: int) -> list[Attachment]:
        """The files of outbox row ``row_id``, in the order they were given."""
        async with self._db.connect() as conn:
            rows = await conn.execute(
                sa.select(_A.c.filename, _A.c.content_type, _A.c.data, _A.c.source)
                .where(_A.c.outbox_id == row_id)
                .order_by(_A.c.position)
            )
            return [
                Attachment(
                    filename=r.filename,
                    content_type=r.content_type,
                    data=bytes(r.data),
                    source=r.source,
                )
                for r in rows
            ]

    async def attachments_by_key(self, dedup_key: str) -> list[Attachment]:
        """The files of the mail queued under ``dedup_key`` (none if there is no such mail):
        e.g. the contract documents sent with an order confirmation."""
        async with self._db.connect() as conn:
            row_id = (
                await conn.execute(sa.select(_T.c.id).where(_T.c.dedup_key == dedup_key))
            ).scalar_one_or_none()
        return [] if row_id is None else await self.attachments(int(row_id))

    async def claim_due(self, now: datetime, lease: timedelta, limit: int = 20) -> list[OutboxRow]:
        """Claim up to ``limit`` due rows for ``lease``; each row goes to one worker only."""
        async with self._db.begin() as conn:
            candidates = (
                await conn.execute(
                    sa.select(_T.c.id)
                    .where(
                        _T.c.state == OutboxState.PENDING.value,
                        _T.c.next_attempt_at <= now,
                        sa.or_(_T.c.claimed_until.is_(None), _T.c.claimed_until <= now),
                    )
                    .order_by(_T.c.id)
                    .limit(limit)
                )
            ).scalars()
            claimed: list[OutboxRow] = []
            for row_id in list(candidates):
                result = await conn.execute(
                    _T.update()
                    .where(
                        _T.c.id == row_id,
                        _T.c.state == OutboxState.PENDING.value,
                        sa.or_(_T.c.claimed_until.is_(None), _T.c.claimed_until <= now),
                    )
                    .values(claimed_until=now + lease, attempts=_T.c.attempts + 1)
                    .returning(*_T.c)
                )
                row = result.first()
                if row is not None:
                    claimed.append(_row(row))
        return claimed

    async def mark_sent(self, row_id: int, now: datetime) -> None:
        """The SMTP server accepted the mail."""
        async with self._db.begin() as conn:
            await conn.execute(
                _T.update()
                .where(_T.c.id == row_id)
                .values(state=OutboxState.SENT.value, sent_at=now, claimed_until=None)
            )

    async def mark_retry(
        self, row_id: int, *, error: str, retry_at: datetime, give_up: bool
    ) -> None:
        """Delivery failed: try again at ``retry_at``, or mark it failed for good."""
        state = OutboxState.FAILED if give_up else OutboxState.PENDING
        async with self._db.begin() as conn:
            await conn.execute(
                _T.update()
                .where(_T.c.id == row_id)
                .values(
                    state=state.value,
                    next_attempt_at=retry_at,
                    claimed_until=None,
                    last_error=error[:2000],
                )
            )

    async def retry_failed(self, now: datetime) -> int:
        """Operators: put every mail that failed for good back in the queue, due now."""
        async with self._db.begin() as conn:
            result = await conn.execute(
                _T.update()
                .where(_T.c.state == OutboxState.FAILED.value)
                .values(state=OutboxState.PENDING.value, next_attempt_at=now, claimed_until=None)
            )
        return int(result.rowcount)

    async def list_recent(self, limit: int = 100) -> list[OutboxRow]:
        """The newest rows first (operators, tests)."""
        async with self._db.connect() as conn:
            rows = await conn.execute(_T.select().order_by(_T.c.id.desc()).limit(limit))
            return [_row(r) for r in rows]

    async def next_due_at(self) -> datetime | None:
        """When the earliest pending row becomes due (for the worker's sleep)."""
        async with self._db.connect() as conn:
            value = await conn.scalar(
                sa.select(sa.func.min(_T.c.next_attempt_at)).where(
                    _T.c.state == OutboxState.PENDING.value
                )
            )
        return value if isinstance(value, datetime) else None
