"""Entitlement windows and their audit trail (orders live in the money core, ``billing/``)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from cloud_gateway.entitlements.schema import entitlement_audit, entitlement_windows
from cloud_gateway.entitlements.windows import Booking, Subject, Window, WindowKind
from cloud_gateway.errors import NotFoundError, StateError
from cloud_gateway.store.repository import Repository
from cloud_gateway.store.upsert import insert_ignore

__all__ = ["EntitlementRepository", "StoredWindow"]

_W = entitlement_windows


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredWindow:
    """A window with what it belongs to."""

    window: Window
    """The pure window (its ``id`` is set)."""
    subject: Subject
    """Account (all its hubs), one hub, or one plant."""
    subject_id: int
    """Account id, device id or plant id."""
    account_id: int | None
    """The account told about it (reminders, orders)."""
    product: str
    """Package or licence product name."""
    period_days: int | None
    """Booked days (packages, licences)."""

    @property
    def id(self) -> int:
        """The row id."""
        if self.window.id is None:
            raise StateError("a stored window without a row id")
        return self.window.id


def _window(row: sa.Row[tuple[object, ...]]) -> StoredWindow:
    m = row._mapping
    return StoredWindow(
        window=Window(
            id=m["id"],
            kind=WindowKind(m["kind"]),
            start=m["starts_at"],
            end=m["ends_at"],
            ended_at=m["ended_at"],
            source=m["source"],
            booking=Booking(m["booking"]) if m["booking"] else None,
            licensed_power_w=m["licensed_power_w"],
        ),
        subject=Subject(m["subject"]),
        subject_id=m["subject_id"],
        account_id=m["account_id"],
        product=m["product"],
        period_days=m["period_days"],
    )


class EntitlementRepository(Repository):
    """Store and query windows; every change can run inside a caller's transaction."""

    async def add(
        self,
        conn: AsyncConnection,
        window: Window,
        *,
        subject: Subject,
        subject_id: int,
        account_id: int | None,
        now: datetime,
        product: str = "",
        period_days: int | None = None,
        idempotency_key: str | None = None,
    ) -> StoredWindow:
        """Insert ``window``; with an ``idempotency_key`` seen before, the earlier row returns."""
        values = {
            "subject": subject.value,
            "subject_id": subject_id,
            "kind": window.kind.value,
            "starts_at": window.start,
            "ends_at": window.end,
            "ended_at": window.ended_at,
            "source": window.source[:100],
            "booking": window.booking.value if window.booking else None,
            "product": product,
            "period_days": period_days,
            "licensed_power_w": window.licensed_power_w,
            "account_id": account_id,
            "idempotency_key": idempotency_key,
            "created_at": now,
        }
        if idempotency_key is None:
            new_id = (await conn.execute(_W.insert().values(**values).returning(_W.c.id))).scalar()
        else:
            new_id = await insert_ignore(conn, _W, values, ["idempotency_key"])
        query = _W.select().where(
            _W.c.id == new_id if new_id is not None else _W.c.idempotency_key == idempotency_key
        )
        return _window((await conn.execute(query)).one())

    async def get(self, window_id: int) -> StoredWindow:
        """One window by id."""
        async with self._db.connect() as conn:
            row = (await conn.execute(_W.select().where(_W.c.id == window_id))).first()
        if row is None:
            raise NotFoundError(f"no entitlement window {window_id}")
        return _window(row)

    async def for_subjects(self, *subjects: tuple[Subject, int]) -> list[StoredWindow]:
        """Every window of the given (subject, id) pairs, oldest start first."""
        if not subjects:
            return []
        clause = sa.or_(
            *(sa.and_(_W.c.subject == s.value, _W.c.subject_id == i) for s, i in subjects)
        )
        async with self._db.connect() as conn:
            rows = await conn.execute(_W.select().where(clause).order_by(_W.c.starts_at, _W.c.id))
            return [_window(r) for r in rows]

    async def plant_windows_at(
        self, at: datetime, plant_ids: Collection[int] | None = None
    ) -> dict[int, list[Window]]:
        """Per plant (these, or all): the windows that cover ``at`` (as booked) and every
        trial, in ONE query.

        Enough to decide every plant at ``at`` (an early end is applied by the caller's
        rules); the trials tell which plants have a stored one (no stand-in then).
        """
        query = (
            _W.select()
            .where(
                _W.c.subject == Subject.PLANT.value,
                sa.or_(
                    sa.and_(_W.c.starts_at <= at, _W.c.ends_at > at),
                    _W.c.kind == WindowKind.TRIAL.value,
                ),
            )
            .order_by(_W.c.starts_at, _W.c.id)
        )
        if plant_ids is not None:
            query = query.where(_W.c.subject_id.in_(list(plant_ids)))
        found: dict[int, list[Window]] = {}
        async with self._db.connect() as conn:
            for row in await conn.execute(query):
                stored = _window(row)
                found.setdefault(stored.subject_id, []).append(stored.window)
        return found

    async def windows_in(
        self, conn: AsyncConnection, subject: Subject, subject_id: int
    ) -> list[StoredWindow]:
        """The subject's windows read in the caller's transaction, oldest start first."""
        query = (
            _W.select()
            .where(_W.c.subject == subject.value, _W.c.subject_id == subject_id)
            .order_by(_W.c.starts_at, _W.c.id)
        )
        return [_window(r) for r in await conn.execute(query)]

    async def ending_between(self, start: datetime, end: datetime) -> list[StoredWindow]:
        """Windows whose booked or early end lies in ``[start, end)``."""
        effective = sa.func.coalesce(_W.c.ended_at, _W.c.ends_at)
        async with self._db.connect() as conn:
            rows = await conn.execute(
                _W.select()
                .where(
                    sa.or_(
                        sa.and_(_W.c.ends_at >= start, _W.c.ends_at < end),
                        sa.and_(effective >= start, effective < end),
                    )
                )
                .order_by(_W.c.id)
            )
            return [_window(r) for r in rows]

    async def next_end_after(self, at: datetime) -> datetime | None:
        """The earliest booked end after ``at`` (the scheduler's next wake-up)."""
        async with self._db.connect() as conn:
            value = await conn.scalar(sa.select(sa.func.min(_W.c.ends_at)).where(_W.c.ends_at > at))
        return value if isinstance(value, datetime) else None

    async def set_ended(self, conn: AsyncConnection, window_id: int, at: datetime) -> StoredWindow:
        """End a window early at ``at`` (never later than already ended)."""
        row = (await conn.execute(_W.select().where(_W.c.id == window_id))).first()
        if row is None:
            raise NotFoundError(f"no entitlement window {window_id}")
        current = _window(row)
        if current.window.ended_at is None or at < current.window.ended_at:
            await conn.execute(_W.update().where(_W.c.id == window_id).values(ended_at=at))
        return _window((await conn.execute(_W.select().where(_W.c.id == window_id))).one())

    async def audit(
        self,
        conn: AsyncConnection,
        *,
        at: datetime,
        actor_account_id: int | None,
        action: str,
        window_id: int,
        detail: str = "",
    ) -> None:
        """Record who did what to which window."""
        await conn.execute(
            entitlement_audit.insert().values(
                at=at,
                actor_account_id=actor_account_id,
                action=action,
                window_id=window_id,
                detail=detail[:2000],
            )
        )

    async def audit_trail(self, window_id: int) -> list[tuple[datetime, int | None, str, str]]:
        """(at, actor, action, detail) of a window, oldest first."""
        a = entitlement_audit
        async with self._db.connect() as conn:
            rows = await conn.execute(
                sa.select(a.c.at, a.c.actor_account_id, a.c.action, a.c.detail)
                .where(a.c.window_id == window_id)
                .order_by(a.c.id)
            )
            return [(r.at, r.actor_account_id, r.action, r.detail) for r in rows]
