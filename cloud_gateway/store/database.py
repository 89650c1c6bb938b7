"""What a repository runs its statements on: the engine, or one connection of a unit of work.

A repository is built on a :class:`Database`. On the engine each call opens its own
connection (``connect``) or transaction (``begin``); on a :class:`BoundConnection` every call
runs on the one connection of a :class:`~cloud_gateway.store.store.UnitOfWork`, inside its
transaction, and commits or rolls back with it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["BoundConnection", "Database"]


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
