"""The node's own PostgreSQL connection: ``LISTEN`` for the control bus, advisory-lock leases.

Session-level advisory locks live exactly as long as the connection that took them: when a
node dies (SIGKILL, power, network) PostgreSQL ends its backend and every lease of the node is
free for the others. The link checks its connection every ``check_s``; a failed check counts
as the loss of every lease (the ``generation`` moves on) and of notifications in between
(``on_reconnect`` is told so the node can look at its tunnels again). asyncpg runs one
statement per connection at a time, so statements go one by one.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from sqlalchemy.engine.url import make_url

__all__ = ["PgLink", "lease_key", "plain_dsn"]

_LOGGER = logging.getLogger(__name__)


def plain_dsn(database_url: str) -> str:
    """The asyncpg DSN of a SQLAlchemy ``postgresql+asyncpg://`` URL."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def lease_key(name: str) -> int:
    """The signed 64-bit advisory-lock key of a lease name (stable across nodes)."""
    digest = hashlib.sha256(f"cloudconnector lease {name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PgLink:
    """One long-lived connection with reconnect; see the module docstring."""

    def __init__(
        self,
        dsn: str,
        channel: str,
        on_message: Callable[[str], None],
        *,
        on_reconnect: Callable[[], Awaitable[None]] | None = None,
        check_s: float = 1.0,
        name: str = "",
    ) -> None:
        self._dsn = dsn
        self._channel = channel
        self._on_message = on_message
        self._on_reconnect = on_reconnect
        self._check_s = check_s
        self._name = f"cloudconnector fleet {name}"[:63]
        """``application_name`` of the connection: operators see which node holds a lease
        (``pg_locks`` joined with ``pg_stat_activity``)."""
        self._conn: Any = None
        self._statement = asyncio.Lock()
        self.generation = 0
        """Counts connections; a lease taken under one generation is lost when it changes."""
        self.connected = asyncio.Event()

    def holds(self, generation: int) -> bool:
        """Whether leases taken under ``generation`` are still held."""
        return self.connected.is_set() and self.generation == generation

    async def run(self) -> None:
        """Connect, listen and check until cancelled; reconnect with backoff."""
        delay = 0.2
        try:
            while True:
                try:
                    await self._connect()
                except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                    _LOGGER.warning("fleet link: cannot connect: %s", exc)
                    await asyncio.sleep(delay * random.uniform(0.5, 1.0))  # noqa: S311
                    delay = min(delay * 2, 5.0)
                    continue
                delay = 0.2
                if self.generation > 1 and self._on_reconnect is not None:
                    await self._on_reconnect()
                await self._watch()
        finally:
            await self._drop()

    async def _connect(self) -> None:
        async with asyncio.timeout(10.0):
            conn = await asyncpg.connect(
                self._dsn, server_settings={"application_name": self._name}
            )
        await conn.add_listener(self._channel, self._received)
        self._conn = conn
        self.generation += 1
        self.connected.set()
        _LOGGER.info("fleet link connected (generation %d)", self.generation)

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._check_s)
            try:
                async with self._statement, asyncio.timeout(max(self._check_s, 2.0)):
                    await self._conn.execute("SELECT 1")
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                _LOGGER.warning("fleet link lost: %s; leases dropped", exc)
                await self._drop()
                return

    async def _drop(self) -> None:
        self.connected.clear()
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.terminate()
            except Exception as exc:  # noqa: BLE001 - the connection is being dropped anyway
                _LOGGER.warning("fleet link: terminate: %r", exc)

    def _received(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        self._on_message(payload)

    async def try_lock(self, key: int) -> int | None:
        """Take the advisory lock ``key`` without waiting; the generation it is held under."""
        if not self.connected.is_set():
            return None
        generation = self.generation
        try:
            async with self._statement, asyncio.timeout(5.0):
                got = await self._conn.fetchval("SELECT pg_try_advisory_lock($1)", key)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
            return None
        return generation if got and self.holds(generation) else None

    async def unlock(self, key: int, generation: int) -> None:
        """Give the lock back (nothing to do once its connection is gone)."""
        if not self.holds(generation):
            return
        with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            async with self._statement, asyncio.timeout(5.0):
                await self._conn.execute("SELECT pg_advisory_unlock($1)", key)
