"""Stored tickets, messages, attachments and repair orders (``support.schema``).

Every read for a customer is scoped to the account: another account's object is "not found".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from cloud_gateway.accounts.schema import accounts
from cloud_gateway.errors import NotFoundError
from cloud_gateway.store.repository import Repository
from cloud_gateway.support.attachments import Upload
from cloud_gateway.support.model import (
    Author,
    RepairCategory,
    RepairOrder,
    RepairState,
    StoredAttachment,
    Ticket,
    TicketMessage,
    TicketStatus,
)
from cloud_gateway.support.schema import (
    repair_orders,
    support_attachments,
    support_messages,
    support_tickets,
)

__all__ = ["RepairRepository", "TicketRepository"]

_T, _M, _A, _R = support_tickets, support_messages, support_attachments, repair_orders
_STAFF = accounts.alias("assignees")


def _heads() -> sa.Select[Any]:
    """Ticket rows with the assignee's user name (``assignee``, NULL when unassigned)."""
    return sa.select(*_T.c, _STAFF.c.username.label("assignee")).select_from(
        _T.outerjoin(_STAFF, _STAFF.c.id == _T.c.assignee_id)
    )


def _ticket(m: sa.RowMapping, messages: tuple[TicketMessage, ...] = ()) -> Ticket:
    return Ticket(
        id=m["id"],
        account_id=m["account_id"],
        subject=m["subject"],
        status=TicketStatus(m["status"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        messages=messages,
        assignee_id=m["assignee_id"],
        assignee=m.get("assignee") or "",
    )


def _repair(m: sa.RowMapping) -> RepairOrder:
    values = {k: m[k] for k in m.keys()}  # noqa: SIM118 - a RowMapping
    values["state"] = RepairState(values["state"])
    values["category"] = RepairCategory(values["category"])
    return RepairOrder(**values)


class TicketRepository(Repository):
    """Tickets of an account, their messages and attachments."""

    async def insert_ticket(
        self, conn: AsyncConnection, *, account_id: int, subject: str, now: datetime
    ) -> int:
        values = {
            "account_id": account_id,
            "subject": subject,
            "status": TicketStatus.OPEN.value,
            "created_at": now,
            "updated_at": now,
        }
        result = await conn.execute(_T.insert().values(**values).returning(_T.c.id))
        return int(result.scalar_one())

    async def add_message(
        self,
        conn: AsyncConnection,
        *,
        ticket_id: int,
        author: Author,
        body: str,
        uploads: Sequence[Upload],
        now: datetime,
    ) -> int:
        stmt = _M.insert().values(
            ticket_id=ticket_id, author=author.value, body=body, created_at=now
        )
        message_id = int((await conn.execute(stmt.returning(_M.c.id))).scalar_one())
        for upload in uploads:
            await conn.execute(
                _A.insert().values(
                    message_id=message_id,
                    filename=upload.filename,
                    content_type=upload.content_type,
                    size=len(upload.data),
                    data=upload.data,
                )
            )
        return message_id

    async def set_status(
        self, conn: AsyncConnection, ticket_id: int, status: TicketStatus, now: datetime
    ) -> None:
        stmt = _T.update().where(_T.c.id == ticket_id).values(status=status.value, updated_at=now)
        await conn.execute(stmt)

    async def ticket_row(
        self, conn: AsyncConnection, ticket_id: int, account_id: int | None
    ) -> Ticket:
        """The ticket without messages; ``account_id`` ``None`` for the operator."""
        stmt = _heads().where(_T.c.id == ticket_id)
        if account_id is not None:
            stmt = stmt.where(_T.c.account_id == account_id)
        row = (await conn.execute(stmt)).one_or_none()
        if row is None:
            raise NotFoundError(f"no ticket {ticket_id}")
        return _ticket(row._mapping)

    async def ticket(self, ticket_id: int, account_id: int | None) -> Ticket:
        """The ticket with its messages and attachment facts."""
        async with self._db.connect() as conn:
            head = await self.ticket_row(conn, ticket_id, account_id)
            rows = await conn.execute(
                sa.select(_M).where(_M.c.ticket_id == ticket_id).order_by(_M.c.id)
            )
            messages = [r._mapping for r in rows]
            ids = [m["id"] for m in messages]
            files: dict[int, list[StoredAttachment]] = {}
            if ids:
                stmt = (
                    sa.select(_A.c.id, _A.c.message_id, _A.c.filename, _A.c.content_type, _A.c.size)
                    .where(_A.c.message_id.in_(ids))
                    .order_by(_A.c.id)
                )
                for a in await conn.execute(stmt):
                    files.setdefault(a.message_id, []).append(StoredAttachment(**a._mapping))
        return dataclasses.replace(
            head,
            messages=tuple(
                TicketMessage(
                    id=m["id"],
                    ticket_id=m["ticket_id"],
                    author=Author(m["author"]),
                    body=m["body"],
                    created_at=m["created_at"],
                    attachments=tuple(files.get(m["id"], ())),
                )
                for m in messages
            ),
        )

    async def assign(self, conn: AsyncConnection, ticket_id: int, assignee_id: int | None) -> None:
        """Give the ticket to a staff member (``None``: nobody)."""
        stmt = _T.update().where(_T.c.id == ticket_id).values(assignee_id=assignee_id)
        await conn.execute(stmt)

    async def tickets(
        self,
        account_id: int | None,
        *,
        status: TicketStatus | None = None,
        assignee: int | None = None,
        unassigned: bool = False,
    ) -> list[Ticket]:
        """Tickets newest first: the account's (or every one for ``None``), maybe by status,
        by assignee or only those nobody works on."""
        stmt = _heads().order_by(_T.c.updated_at.desc(), _T.c.id.desc())
        if account_id is not None:
            stmt = stmt.where(_T.c.account_id == account_id)
        if status is not None:
            stmt = stmt.where(_T.c.status == status.value)
        if assignee is not None:
            stmt = stmt.where(_T.c.assignee_id == assignee)
        if unassigned:
            stmt = stmt.where(_T.c.assignee_id.is_(None))
        async with self._db.connect() as conn:
            return [_ticket(r._mapping) for r in await conn.execute(stmt)]

    async def attachment(
        self, attachment_id: int, account_id: int | None
    ) -> tuple[StoredAttachment, bytes]:
        """An attachment and its bytes, when its ticket belongs to ``account_id``."""
        stmt = (
            sa.select(_A, _T.c.account_id)
            .join(_M, _M.c.id == _A.c.message_id)
            .join(_T, _T.c.id == _M.c.ticket_id)
            .where(_A.c.id == attachment_id)
        )
        if account_id is not None:
            stmt = stmt.where(_T.c.account_id == account_id)
        async with self._db.connect() as conn:
            row = (await conn.execute(stmt)).one_or_none()
        if row is None:
            raise NotFoundError(f"no attachment {attachment_id}")
        m = row._mapping
        facts = StoredAttachment(
            id=m["id"],
            message_id=m["message_id"],
            filename=m["filename"],
            content_type=m["content_type"],
            size=m["size"],
        )
        return facts, bytes(m["data"])


class RepairRepository(Repository):
    """Repair orders of an account."""

    async def insert(self, conn: AsyncConnection, **values: Any) -> int:
        result = await conn.execute(_R.insert().values(**values).returning(_R.c.id))
        return int(result.scalar_one())

    async def update(self, conn: AsyncConnection, repair_id: int, **values: Any) -> None:
        await conn.execute(_R.update().where(_R.c.id == repair_id).values(**values))

    async def row(
        self, conn: AsyncConnection, repair_id: int, account_id: int | None, *, lock: bool = False
    ) -> RepairOrder:
        stmt = sa.select(_R).where(_R.c.id == repair_id)
        if account_id is not None:
            stmt = stmt.where(_R.c.account_id == account_id)
        if lock:
            stmt = stmt.with_for_update()
        row = (await conn.execute(stmt)).one_or_none()
        if row is None:
            raise NotFoundError(f"no repair order {repair_id}")
        return _repair(row._mapping)

    async def get(self, repair_id: int, account_id: int | None) -> RepairOrder:
        async with self._db.connect() as conn:
            return await self.row(conn, repair_id, account_id)

    async def list(self, account_id: int | None) -> list[RepairOrder]:
        stmt = sa.select(_R).order_by(_R.c.id.desc())
        if account_id is not None:
            stmt = stmt.where(_R.c.account_id == account_id)
        async with self._db.connect() as conn:
            return [_repair(r._mapping) for r in await conn.execute(stmt)]
