"""``INSERT … ON CONFLICT DO NOTHING`` on both backends, for idempotent writes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["dialect_insert", "insert_ignore"]


def dialect_insert(conn: AsyncConnection, table: sa.Table) -> Any:
    """The backend's own ``INSERT`` for ``table`` (with ``on_conflict_do_nothing/update``)."""
    return postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)


async def insert_ignore(
    conn: AsyncConnection,
    table: sa.Table,
    values: Mapping[str, Any],
    conflict_columns: Sequence[str],
) -> int | None:
    """Insert ``values`` unless a row with the same ``conflict_columns`` exists.

    Returns the new row's ``id``, or ``None`` when the row was already there. Unlike catching
    ``IntegrityError``, this keeps a PostgreSQL transaction usable.
    """
    stmt = (
        dialect_insert(conn, table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(conflict_columns))
        .returning(table.c.id)
    )
    return (await conn.execute(stmt)).scalar_one_or_none()
