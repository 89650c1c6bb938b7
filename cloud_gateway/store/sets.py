"""Sets of thousands of values and rows in few statements, on both backends.

Look-ups (``column IN values``): SQLite binds one parameter per value, under its limit of
bound parameters, so a large set is looked up in slices. PostgreSQL gets the whole set as one
array parameter (``column = ANY($1)``): one statement instead of one per slice, no thousands
of placeholders to render and bind, and one prepared statement whatever the set's size.

Writes of many rows (:func:`insert_rows`, :func:`columns`): SQLite runs an executemany;
PostgreSQL gets one array per column and unpacks them with ``unnest`` (``INSERT … SELECT
unnest($1), unnest($2) …``, ``UPDATE … FROM (SELECT unnest …)``), a statement of a handful of
parameters instead of thousands of rows of placeholders.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["columns", "insert_rows", "one_of", "slices"]

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


def columns(
    table: sa.Table, rows: Sequence[Mapping[str, Any]], names: Sequence[str]
) -> sa.Subquery:
    """PostgreSQL: ``rows`` as a subquery of one column per name (typed like ``table``'s),
    unpacked from one array parameter each."""
    unpacked = [
        sa.func.unnest(
            sa.bindparam(None, [r[n] for r in rows], type_=postgresql.ARRAY(table.c[n].type))
        ).label(n)
        for n in names
    ]
    return sa.select(*unpacked).subquery()


def insert_rows(
    conn: AsyncConnection, table: sa.Table, rows: Sequence[Mapping[str, Any]]
) -> tuple[Any, list[Mapping[str, Any]] | None]:
    """``(statement, parameters)`` inserting ``rows`` (all with the same keys), for
    ``conn.execute``; the statement is the backend's own ``INSERT`` (``on_conflict_…``)."""
    if conn.dialect.name != "postgresql":
        return sqlite.insert(table), list(rows)
    names = list(rows[0])
    source = columns(table, rows, names)
    return postgresql.insert(table).from_select(names, sa.select(*source.c)), None
