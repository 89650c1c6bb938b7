"""``column IN (values)`` for sets of thousands of values, on both backends.

SQLite binds one parameter per value, under its limit of bound parameters, so a large set is
looked up in slices. PostgreSQL gets the whole set as one array parameter
(``column = ANY($1)``): one statement instead of one per slice, no thousands of placeholders
to render and bind, and one prepared statement whatever the set's size.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["one_of", "slices"]

#: values per ``IN`` list on SQLite (its default limit is 32,766 bound parameters)
SLICE = 500


def slices(conn: AsyncConnection, values: Iterable[Any], size: int = SLICE) -> Iterator[list[Any]]:
    """``values`` sorted and cut for :func:`one_of`: in slices of ``size`` on SQLite, in one
    piece on PostgreSQL; nothing for no values."""
    items = sorted(set(values))
    step = len(items) if conn.dialect.name == "postgresql" else size
    for start in range(0, len(items), max(step, 1)):
        yield items[start : start + step]


def one_of(
    conn: AsyncConnection, column: sa.ColumnElement[Any], values: Iterable[Any]
) -> sa.ColumnElement[bool]:
    """``column IN values``: ``= ANY(array)`` on PostgreSQL, an ``IN`` list elsewhere."""
    items = list(values)
    if conn.dialect.name == "postgresql":
        array = sa.bindparam(None, items, type_=postgresql.ARRAY(column.type))
        return column == sa.any_(array)
    return column.in_(items)
