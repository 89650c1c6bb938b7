"""Reads on PostgreSQL without a transaction, and reads of one task on one pooled connection.

A pooled read on PostgreSQL cost four round trips: the pool's pre-ping, BEGIN, the
statement, ROLLBACK. :class:`SharedReads` wraps what repositories run on (the engine, or
SQLite's :class:`~cloud_gateway.store.database.SerialisedWrites`) and changes only reads
(``connect``; ``begin`` is handed through):

* on PostgreSQL a read connection runs in AUTOCOMMIT: no BEGIN and no ROLLBACK, each
  statement its own snapshot (what READ COMMITTED gave each statement anyway). Nothing writes
  through ``connect`` (a write there was rolled back before; writes use ``begin``);
* inside :meth:`SharedReads.reading` the reads of the current task share one connection,
  checked out at the first read and returned when the block ends: a tunnel handshake's checks
  or a hub's state hooks take one checkout instead of three or four (ADR 0030). Only the task
  that opened the block shares it (tasks it starts copy the context but get their own
  connections: one asyncpg connection runs one statement at a time), and a read that fails
  drops the shared connection (the next read checks out a fresh one).

The pool's ping for connections idle a while is :func:`cloud_gateway.store.engine.create_engine`'s.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from cloud_gateway.store.database import Database

__all__ = ["SharedReads"]


@dataclass(slots=True, eq=False)
class _Shared:
    """One task's shared read connection (opened at its first read)."""

    owner: SharedReads
    task: asyncio.Task[object] | None
    stack: AsyncExitStack = field(default_factory=AsyncExitStack)
    conn: AsyncConnection | None = None


_SHARED: ContextVar[_Shared | None] = ContextVar("cloudconnector_shared_read", default=None)


class SharedReads:
    """A :class:`Database` whose reads skip the transaction (PostgreSQL) and can share."""

    __slots__ = ("_autocommit", "_inner")

    def __init__(self, inner: Database, *, autocommit: bool) -> None:
        self._inner = inner
        self._autocommit = autocommit

    def begin(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A write transaction on its own connection (never the shared one)."""
        return self._inner.begin()

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads: the task's shared one inside :meth:`reading`."""
        shared = self._mine()
        if shared is None:
            async with self._fresh() as conn:
                yield conn
            return
        if shared.conn is None:
            shared.conn = await shared.stack.enter_async_context(self._fresh())
        try:
            yield shared.conn
        except BaseException as exc:
            if isinstance(exc, SQLAlchemyError | OSError) or not isinstance(exc, Exception):
                # a failed or cancelled read may have left the connection unusable: the next
                # read starts afresh (an error of the caller's own leaves it shared)
                conn, shared.conn = shared.conn, None
                if conn is not None:
                    await conn.close()
            raise

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[None]:
        """Reads of this task share one pooled connection until the block ends (nests)."""
        if self._mine() is not None:
            yield
            return
        shared = _Shared(self, asyncio.current_task())
        token = _SHARED.set(shared)
        try:
            async with shared.stack:
                yield
        finally:
            _SHARED.reset(token)

    def _mine(self) -> _Shared | None:
        shared = _SHARED.get()
        if shared is None or shared.owner is not self or shared.task is not asyncio.current_task():
            return None
        return shared

    @asynccontextmanager
    async def _fresh(self) -> AsyncIterator[AsyncConnection]:
        async with self._inner.connect() as conn:
            if self._autocommit:  # no round trip: the driver just skips BEGIN from now on
                await conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn
