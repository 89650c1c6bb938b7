"""Engine factory and migrations for both backends.

SQLite (aiosqlite) is the embedded default: WAL journal, ``synchronous=FULL`` and
foreign keys switched on for every connection; statements go through
:mod:`cloud_gateway.store.sqlite_driver` (one thread hand-off each instead of four).
PostgreSQL (asyncpg) is for production; its pool keeps :data:`PG_POOL_SIZE` connections
open (plus :data:`PG_MAX_OVERFLOW` in a burst, closed again after use): under SQLAlchemy's
default of 5 the concurrent checkouts of ``python -m bench shop`` waited for a connection or
paid for opening one. At most 20 per node, as before the sum (``docs/operations.md``:
connections per node). Instead of a ping at every checkout, a connection idle for
:data:`PING_IDLE_S` is pinged with one round trip (:class:`IdlePing`, ADR 0030).
Migrations are Alembic scripts in ``cloud_gateway/store/migrations``; :func:`migrate`
applies them on an async engine through a shared connection.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.engine.url import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util.concurrency import await_

from cloud_gateway.store.sqlite_driver import one_hop_dbapi

__all__ = [
    "MIGRATIONS_DIR",
    "PG_MAX_OVERFLOW",
    "PG_POOL_SIZE",
    "PG_WRITE_SLOTS",
    "PING_IDLE_S",
    "IdlePing",
    "create_engine",
    "migrate",
]

_LOGGER = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: connections a PostgreSQL engine keeps open, and how many more it may open in a burst
PG_POOL_SIZE = 15
PG_MAX_OVERFLOW = 5
#: write transactions a PostgreSQL store lets hold a connection at once; the other pooled
#: connections stay for reads (``store.database.SerialisedWrites``, ADR 0033)
PG_WRITE_SLOTS = 10
#: seconds a pooled PostgreSQL connection may be idle before its checkout pings it
PING_IDLE_S = 1.0
_USED_AT = "cloudconnector_used_at"


def create_engine(
    url: str,
    *,
    ping_idle_s: float = PING_IDLE_S,
    monotonic: Callable[[], float] = time.monotonic,
    **kwargs: Any,
) -> AsyncEngine:
    """Create an async engine for ``sqlite+aiosqlite://`` or ``postgresql+asyncpg://``.

    On PostgreSQL a pooled connection idle for ``ping_idle_s`` is pinged at checkout
    (:class:`IdlePing`, on the ``monotonic`` clock) unless ``pool_pre_ping`` is asked for.
    """
    parsed = make_url(url)
    if parsed.drivername == "sqlite+aiosqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("module", one_hop_dbapi())  # one thread hand-off per statement
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.drivername == "postgresql+asyncpg":
        kwargs.setdefault("pool_size", PG_POOL_SIZE)
        kwargs.setdefault("max_overflow", PG_MAX_OVERFLOW)
        engine = create_async_engine(url, **kwargs)
        if not kwargs.get("pool_pre_ping"):
            IdlePing(ping_idle_s, monotonic).listen(engine)
        return engine
    raise ValueError(f"unsupported database driver {parsed.drivername!r}")


class IdlePing:
    """Pings a pooled PostgreSQL connection at checkout when it was idle ``idle_s`` or more.

    SQLAlchemy's ``pool_pre_ping`` pings at every checkout, and on asyncpg outside AUTOCOMMIT
    as BEGIN, ``;``, ROLLBACK: three round trips before each statement of a busy node. Here one
    round trip (``;``), and only for a connection unused for ``idle_s``: a connection that
    answered within the last second is taken to be alive. One that fails the ping is
    discarded and the pool checks out another (``DisconnectionError``: up to three tries, a
    new connection at the end), so after a fail-over or a database restart the first
    checkouts find the dead connections and replace them, as with pre-ping; a connection
    that died less than ``idle_s`` after its last use fails its statement once (the caller
    sees a ``StoreError``; the pool then replaces the connection).
    """

    __slots__ = ("_idle_s", "_now")

    def __init__(self, idle_s: float, now: Callable[[], float]) -> None:
        self._idle_s = idle_s
        self._now = now

    def listen(self, engine: AsyncEngine) -> None:
        """Stamp connections when opened and returned; ping them at checkout if idle."""
        event.listen(engine.sync_engine, "connect", self._stamp)
        event.listen(engine.sync_engine, "checkin", self._stamp)
        event.listen(engine.sync_engine, "checkout", self._checkout)

    def _stamp(self, _dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_USED_AT] = self._now()

    def _checkout(self, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if self._now() - record.info.get(_USED_AT, 0.0) < self._idle_s:
            return
        try:  # asyncpg's simple query protocol: one round trip, no transaction
            await_(dbapi_connection.driver_connection.execute(";"))
        except Exception as exc:
            _LOGGER.info("pooled connection idle and dead, replacing it: %r", exc)
            raise DisconnectionError(f"ping failed: {exc!r}") from exc
        record.info[_USED_AT] = self._now()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
    finally:
        cursor.close()


def _alembic_config(connection: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


async def migrate(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database schema up to ``revision``."""

    def upgrade(connection: Connection) -> None:
        command.upgrade(_alembic_config(connection), revision)

    async with engine.begin() as conn:
        await conn.run_sync(upgrade)
    _LOGGER.info("database schema at %s", revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or ``None`` for an empty database."""
    from alembic.runtime.migration import MigrationContext  # noqa: PLC0415 - rarely used

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as conn:
        return await conn.run_sync(read)
