"""The money area's figures for the console's queues page and ``/metrics`` (R-OPS-3):
the billing job queue (open, overdue), documents issued by kind, payments booked. Read-only,
from the shared database, so every node reports the same."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from cloud_gateway.billing.journal import EntryKind
from cloud_gateway.billing.schema import billing_documents, billing_jobs, billing_journal
from cloud_gateway.operator.health import QueueFigure
from cloud_gateway.store.repository import Repository

__all__ = ["BillingFigureRepository", "MoneyFigures"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MoneyFigures:
    """Billing queue, documents and payments."""

    queues: list[QueueFigure]
    documents: dict[str, int]
    payments: int
    payments_cents: int


class BillingFigureRepository(Repository):
    """Counts over the billing tables."""

    async def figures(self, now: datetime) -> MoneyFigures:
        """The figures at ``now``."""
        j, d, b = billing_jobs.c, billing_documents.c, billing_journal.c
        open_jobs = sa.select(sa.func.count(), sa.func.min(j.due_at)).where(j.done_at.is_(None))
        async with self._db.connect() as conn:
            open_count, _first = (await conn.execute(open_jobs)).one()
            late_count, oldest = (await conn.execute(open_jobs.where(j.due_at <= now))).one()
            documents = {
                str(kind): int(count)
                for kind, count in await conn.execute(
                    sa.select(d.kind, sa.func.count()).group_by(d.kind)
                )
            }
            payments, cents = (
                await conn.execute(
                    sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(b.amount), 0)).where(
                        b.kind == EntryKind.PAYMENT.value
                    )
                )
            ).one()
        late_age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
        return MoneyFigures(
            queues=[
                QueueFigure("billing_jobs", "open", int(open_count), 0.0),
                QueueFigure("billing_jobs", "overdue", int(late_count), late_age),
            ],
            documents=documents,
            payments=int(payments),
            payments_cents=int(cents),
        )
