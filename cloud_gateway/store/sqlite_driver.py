"""SQLAlchemy's aiosqlite adapter with one thread hand-off per statement (ADR 0029).

aiosqlite runs each SQLite connection in its own thread; every call is a hand-off (queue the
call, wake the thread, wake the event loop with the result). SQLAlchemy's adapter makes four
per statement: create a cursor, execute, fetch the rows, close the cursor; and one more for
the rollback that ends every pooled read, although a read never opened a SQLite transaction
(Python's ``sqlite3`` begins one only before a data-changing statement). On a loaded machine
each hand-off waits for both threads to be scheduled again, so a checkout of about 95
statements spent most of its time between them.

Here a statement is one hand-off: the thread creates the cursor, executes, fetches every row
and closes the cursor, and returns rows, description, row count and last row id together
(what the adapter's cursor buffered before in four steps). A rollback or commit with no
transaction open on the SQLite connection is skipped (``in_transaction`` is read without a hand-off:
nothing else runs on a connection while it is checked out). Server-side cursors stay
SQLAlchemy's own.

The module is the DBAPI that :func:`cloud_gateway.store.engine.create_engine` hands to the
``sqlite+aiosqlite`` dialect (``module=``); it relies on aiosqlite's ``_execute`` (queue a
function for the connection's thread) and ``_conn``, as SQLAlchemy's adapter itself does.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

__all__ = ["one_hop_dbapi"]

#: what one statement returns from the connection's thread
_Done = tuple[Any, list[Any], int, int | None]


def _run(conn: sqlite3.Connection, operation: str, parameters: Any) -> _Done:
    """In the connection's thread: execute, fetch everything, close the cursor."""
    cursor = conn.cursor()
    try:
        if parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _run_many(conn: sqlite3.Connection, operation: str, seq: Sequence[Any]) -> _Done:
    cursor = conn.cursor()
    try:
        cursor.executemany(operation, seq)
        return cursor.description, [], cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class _Cursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose statements each take one hand-off (no driver cursor kept)."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")
    _awaitable_cursor_close = False

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # no driver cursor is opened here (the base class would: one hand-off)
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    def _keep(self, done: _Done) -> None:
        self._description, rows, self._rowcount, self._lastrowid = done
        self._rows = collections.deque(rows)

    async def _call(self, fn: Any, operation: str, parameters: Any) -> _Done:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        async with self._adapt_connection._execute_mutex:
            # aiosqlite's queue for the connection's thread (untyped there)
            done: _Done = await connection._execute(  # type: ignore[no-untyped-call]
                fn, connection._conn, operation, parameters
            )
            return done

    def execute(self, operation: Any, parameters: Any = None) -> None:
        try:
            self._keep(await_(self._call(_run, operation, parameters)))
        except Exception as error:  # noqa: BLE001 - mapped to the DBAPI's errors, as the base does
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
        try:
            self._keep(await_(self._call(_run_many, operation, seq_of_parameters)))
        except Exception as error:  # noqa: BLE001 - mapped to the DBAPI's errors, as the base does
            self._adapt_connection._handle_exception(error)

    def close(self) -> None:
        self._rows.clear()


class _Connection(AsyncAdapt_aiosqlite_connection):
    """The adapter's connection with one-hand-off cursors; no rollback or commit without a
    transaction."""

    __slots__ = ()
    # SQLAlchemy types the attribute as its own cursor class, not as a base to extend
    _cursor_cls = _Cursor  # type: ignore[assignment]

    def _idle(self) -> bool:
        """Whether the SQLite connection is open with no transaction (no hand-off needed)."""
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        return connection._connection is not None and not connection.in_transaction

    def rollback(self) -> None:
        if not self._idle():  # else nothing to roll back: a read, or a transaction ended
            super().rollback()

    def commit(self) -> None:
        if not self._idle():  # else nothing to commit: a write transaction that only read
            super().commit()


class _Dbapi(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> _Connection:
        adapted = super().connect(*arg, **kw)
        return _Connection(self, adapted._connection)


def one_hop_dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    """The DBAPI module for ``create_async_engine(..., module=...)`` on ``sqlite+aiosqlite``."""
    return _Dbapi(aiosqlite, sqlite3)
