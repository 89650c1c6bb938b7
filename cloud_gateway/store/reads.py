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
  drops the shared connection (the next read checks out a fresh one);
* a shared connection is never held while its task waits for something else: ``begin``
  returns it to the pool before the write transaction queues (a request holding a read
  connection while it waits for a write slot could otherwise hold the pool that the writers
  before it need), and so does :meth:`SharedReads.release`, which code calls before it waits
  on the network (a provider's API, a device's tunnel); the next read checks one out again.
  ``release(end=True)`` also ends the sharing for the rest of the block (a response that
  starts streaming, a WebSocket: every later read returns its connection at once; ADR 0034).

The pool's ping for connections idle a while is :func:`cloud_gateway.store.engine.create_engine`'s.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from cloud_gateway.store.database import Database

__all__ = ["SharedReads"]


@dataclass(slots=True, eq=False)
class _Shared:
    """One task's shared read connection (checked out at its first read)."""

    owner: SharedReads
    task: asyncio.Task[object] | None
    #: the checked-out connection's context (entered) and the connection, or ``None``
    held: AbstractAsyncContextManager[AsyncConnection] | None = None
    conn: AsyncConnection | None = None
    #: ``False`` once ``release(end=True)`` ended the sharing for the rest of the block
    sharing: bool = True

    async def drop(self, failed: BaseException | None = None) -> None:
        """Return the connection to the pool (if one is held); ``failed``, a read's error,
        passes through the connection's context as through an unshared read's."""
        held, self.held, self.conn = self.held, None, None
        if held is not None:
            error = None if failed is None else type(failed)
            await held.__aexit__(error, failed, None if failed is None else failed.__traceback__)


_SHARED: ContextVar[_Shared | None] = ContextVar("cloudconnector_shared_read", default=None)


class SharedReads:
    """A :class:`Database` whose reads skip the transaction (PostgreSQL) and can share."""

    __slots__ = ("_autocommit", "_inner")

    def __init__(self, inner: Database, *, autocommit: bool) -> None:
        self._inner = inner
        self._autocommit = autocommit

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction on its own connection (never the shared one, which goes back
        to the pool first: the next read checks one out again)."""
        shared = self._mine()
        if shared is not None:
            await shared.drop()
        async with self._inner.begin() as conn:
            yield conn

    async def release(self, *, end: bool = False) -> None:
        """Return the current task's shared read connection to the pool now (before waiting
        on the network); the next read checks one out again, or with ``end`` checks out its
        own for each read until the block ends (a streaming response, a WebSocket)."""
        shared = self._mine()
        if shared is not None:
            shared.sharing = shared.sharing and not end
            await shared.drop()

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads: the task's shared one inside :meth:`reading`."""
        shared = self._mine()
        if shared is None or not shared.sharing:
            async with self._fresh() as conn:
                yield conn
            return
        if shared.conn is None:
            held = self._fresh()
            shared.conn = await held.__aenter__()
            shared.held = held
        try:
            yield shared.conn
        except BaseException as exc:
            if isinstance(exc, SQLAlchemyError | OSError) or not isinstance(exc, Exception):
                # a failed or cancelled read may have left the connection unusable: the next
                # read starts afresh (an error of the caller's own leaves it shared)
                await shared.drop(exc)
            raise

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[None]:
        """Reads of this task share one pooled connection until the block ends (nests)."""
        mine = self._mine()
        if mine is not None and mine.sharing:
            yield
            return
        shared = _Shared(self, asyncio.current_task())
        token = _SHARED.set(shared)
        try:
            yield
        finally:
            _SHARED.reset(token)
            await shared.drop()

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
