"""What a repository runs its statements on: the engine, or one connection of a unit of work.

A repository is built on a :class:`Database`. On the engine each call opens its own
connection (``connect``) or transaction (``begin``); on a :class:`BoundConnection` every call
runs on the one connection of a :class:`~cloud_gateway.store.store.UnitOfWork`, inside its
transaction, and commits or rolls back with it.

SQLite lets one connection write at a time; a second writer polls the lock with growing sleeps
(up to 100 ms each, ``busy_timeout``), so under concurrency writers starve and time out.
:class:`SerialisedWrites` queues the process's write transactions in arrival order instead
(an ``asyncio.Lock``): each waits only for the ones before it. Reads are not queued (WAL).

PostgreSQL lets many write, but the pool is bounded (20 connections per node) and payments
queue on the gap-free counter row while holding their connection; with every connection
held by a waiting writer, reads (the order page, the buyer's return) waited for the pool.
There :class:`SerialisedWrites` runs with several ``slots`` (:data:`~cloud_gateway.store.
engine.PG_WRITE_SLOTS`): at most that many write transactions hold a connection at once,
the rest of the pool stays for reads (ADR 0033).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from contextvars import ContextVar
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

__all__ = ["BoundConnection", "Database", "SerialisedWrites"]

_LOGGER = logging.getLogger(__name__)
#: the :class:`SerialisedWrites` whose queue the current task holds (a nested ``begin`` in
#: the same task must not wait for itself)
_HOLDING: ContextVar[object | None] = ContextVar("cloudconnector_write_queue", default=None)


class Database(Protocol):
    """The two ways a repository reaches the database (an ``AsyncEngine`` has both)."""

    def begin(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A connection inside a transaction that commits when the block ends cleanly."""
        ...

    def connect(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A connection for reads."""
        ...


class BoundConnection:
    """A :class:`Database` bound to one connection whose transaction its owner manages."""

    __slots__ = ("_conn",)

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """The bound connection; the unit of work commits or rolls back."""
        yield self._conn

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """The bound connection."""
        yield self._conn


class SerialisedWrites:
    """An engine whose write transactions queue in this process (SQLite: one writer; on
    PostgreSQL ``slots`` writers at once, so that reads find a pooled connection).

    ``begin`` waits its turn (first come, first served), then opens the transaction;
    ``connect`` (reads) does not wait. A ``begin`` nested in a queued one (the same task)
    does not queue again; nor does one in a task spawned while the queue was held (tasks copy
    the context, so they count as the holder's: awaiting such a task inside a transaction
    cannot deadlock, and such a task relies on SQLite's own locking, as a writer after
    ``wait_s`` does). After ``wait_s`` a writer stops waiting and relies on SQLite's own
    ``busy_timeout`` as before (a transaction that awaits another task's write must not hang);
    15 s, as a fair queue of 50 checkouts on a loaded 2-core machine passed 5 s.
    """

    __slots__ = ("_engine", "_lock", "_slots", "_wait_s")

    def __init__(self, engine: AsyncEngine, *, wait_s: float = 15.0, slots: int = 1) -> None:
        if slots < 1:
            raise ValueError(f"slots must be at least 1, not {slots}")
        self._engine = engine
        self._wait_s = wait_s
        self._slots = slots
        #: made in the running loop (first ``begin``): FIFO; a lock for one slot
        self._lock: asyncio.Lock | asyncio.Semaphore | None = None

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """A transaction opened when the writers before it are done."""
        if _HOLDING.get() is self:
            async with self._engine.begin() as conn:
                yield conn
            return
        lock = self._lock = self._lock or (
            asyncio.Lock() if self._slots == 1 else asyncio.Semaphore(self._slots)
        )
        try:
            async with asyncio.timeout(self._wait_s):
                await lock.acquire()
            queued = True
        except TimeoutError:
            _LOGGER.warning("write queue: waited %.1f s, writing without it", self._wait_s)
            queued = False
        token = _HOLDING.set(self)
        try:
            async with self._engine.begin() as conn:
                yield conn
        finally:
            _HOLDING.reset(token)
            if queued:
                lock.release()

    def connect(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A connection for reads (not queued)."""
        return self._engine.connect()
