"""The store: one engine, repositories handed out by class, and units of work.

The store knows no area. Each area owns its repository classes (``<area>/repository*.py``);
a repository class takes a :class:`~cloud_gateway.store.database.Database`.
:meth:`Store.repo` hands out one instance per class on the engine (every call its own
transaction); :meth:`Store.transaction` opens a :class:`UnitOfWork` whose repositories all run
on one connection and commit together; inside :meth:`Store.reading` the current task's reads
share one connection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from cloud_gateway.store.database import BoundConnection, Database, SerialisedWrites
from cloud_gateway.store.engine import PG_WRITE_SLOTS, create_engine, migrate
from cloud_gateway.store.reads import SharedReads

__all__ = ["Store", "UnitOfWork"]

_R = TypeVar("_R")


class _Repositories:
    """One repository instance per class, all on the same :class:`Database`."""

    __slots__ = ("_db", "_made")

    def __init__(self, db: Database) -> None:
        self._db = db
        self._made: dict[Callable[[Database], object], object] = {}

    def repo(self, factory: Callable[[Database], _R]) -> _R:
        """The repository of class ``factory`` on this database (made once)."""
        made = self._made.get(factory)
        if made is None:
            made = self._made[factory] = factory(self._db)
        return cast("_R", made)


class UnitOfWork(_Repositories):
    """Repositories bound to one connection; everything commits or rolls back together."""

    __slots__ = ("connection",)

    def __init__(self, connection: AsyncConnection) -> None:
        super().__init__(BoundConnection(connection))
        self.connection = connection


class Store(_Repositories):
    """Holds the engine; hands out repositories and units of work."""

    __slots__ = ("database", "engine")

    def __init__(self, engine: AsyncEngine) -> None:
        #: what repositories run on: write transactions queue in this process, on SQLite
        #: one at a time, on PostgreSQL :data:`PG_WRITE_SLOTS` at once (reads keep the rest
        #: of the pool, ADR 0033); on PostgreSQL reads run without a transaction; reads of
        #: one task can share a connection (``reading``, ADR 0030)
        sqlite = engine.dialect.name == "sqlite"
        self.database = SharedReads(
            SerialisedWrites(engine, slots=1 if sqlite else PG_WRITE_SLOTS), autocommit=not sqlite
        )
        super().__init__(self.database)
        self.engine = engine

    def reading(self) -> AbstractAsyncContextManager[None]:
        """Reads of the current task share one pooled connection until the block ends
        (a handshake's checks, a hub's state hooks: :class:`SharedReads`)."""
        return self.database.reading()

    async def release_reads(self, *, end: bool = False) -> None:
        """Return the current task's shared read connection to the pool before waiting on
        the network (``end``: no sharing for the rest of the block; :class:`SharedReads`)."""
        await self.database.release(end=end)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[UnitOfWork]:
        """One transaction; committed when the block ends without an exception."""
        async with self.database.begin() as conn:
            yield UnitOfWork(conn)

    @classmethod
    async def open(cls, url: str, *, run_migrations: bool = True) -> Store:
        """Create the engine for ``url`` and (by default) migrate the schema to head."""
        engine = create_engine(url)
        if run_migrations:
            try:
                await migrate(engine)
            except BaseException:  # e.g. an unknown revision: no pooled connection left open
                await engine.dispose()
                raise
        return cls(engine)

    async def close(self) -> None:
        """Dispose of the connection pool."""
        await self.engine.dispose()
