"""Reads without a transaction on PostgreSQL, one task's reads on one connection, and the
ping of pooled connections idle for a second (ADR 0030); the shared connection given back
before a write or a wait on the network (ADR 0034); both backends unless marked."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from cloud_gateway.store import Store
from cloud_gateway.store.engine import create_engine
from tests.support.databases import fresh_database_url


def _count_checkouts(store: Store) -> list[int]:
    counted = [0]

    def checkout(*_args: Any) -> None:
        counted[0] += 1

    event.listen(store.engine.sync_engine, "checkout", checkout)
    return counted


async def _read(store: Store) -> AsyncConnection:
    async with store.database.connect() as conn:
        assert (await conn.execute(sa.select(sa.literal(1)))).scalar() == 1
        return conn


async def test_reads_in_one_block_share_one_checkout(store: Store) -> None:
    checkouts = _count_checkouts(store)
    async with store.reading():
        first = await _read(store)
        async with store.reading():  # nested: still the same connection
            assert await _read(store) is first
        assert await _read(store) is first
    assert checkouts[0] == 1
    # outside the block every read checks out on its own
    assert await _read(store) is not await _read(store)
    assert checkouts[0] == 3


async def test_a_block_without_reads_checks_nothing_out(store: Store) -> None:
    checkouts = _count_checkouts(store)
    async with store.reading():
        pass
    assert checkouts[0] == 0


async def test_tasks_started_in_a_block_read_on_their_own_connections(store: Store) -> None:
    async with store.reading():
        mine = await _read(store)
        # concurrent reads in child tasks: one asyncpg connection runs one statement at a time
        theirs = await asyncio.gather(_read(store), _read(store))
        assert mine not in theirs
        assert theirs[0] is not theirs[1]
        assert await _read(store) is mine


async def test_a_failed_read_drops_the_shared_connection(store: Store) -> None:
    async with store.reading():
        first = await _read(store)
        with pytest.raises(DBAPIError):
            async with store.database.connect() as conn:
                await conn.execute(sa.text("SELECT * FROM no_such_table"))
        again = await _read(store)  # works, on a fresh connection
        assert again is not first


async def test_a_callers_own_error_keeps_the_shared_connection(store: Store) -> None:
    async with store.reading():
        first = await _read(store)
        with pytest.raises(LookupError):
            async with store.database.connect():
                raise LookupError("not found")
        assert await _read(store) is first


async def test_writes_use_their_own_transaction_inside_a_block(store: Store) -> None:
    async with store.reading():
        shared = await _read(store)
        async with store.database.begin() as conn:
            assert conn is not shared
            assert conn.in_transaction()


async def test_a_write_returns_the_shared_connection_to_the_pool_first(store: Store) -> None:
    """A task holding a read connection while it queues for a write slot could hold the pool
    the writers before it need (ADR 0034): ``begin`` gives it back, the next read takes one."""
    checkouts = _count_checkouts(store)
    pool = store.engine.sync_engine.pool
    async with store.reading():
        first = await _read(store)
        assert pool.checkedout() == 1  # type: ignore[attr-defined]
        async with store.database.begin() as conn:
            assert pool.checkedout() == 1  # type: ignore[attr-defined]  # the write's own
            await conn.execute(sa.select(sa.literal(1)))
        again = await _read(store)
        assert again is not first
        assert await _read(store) is again  # shared again until the block ends
    assert checkouts[0] == 3
    assert pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_release_returns_it_and_end_stops_the_sharing(store: Store) -> None:
    checkouts = _count_checkouts(store)
    pool = store.engine.sync_engine.pool
    async with store.reading():
        first = await _read(store)
        await store.release_reads()  # before a wait on the network
        assert pool.checkedout() == 0  # type: ignore[attr-defined]
        second = await _read(store)
        assert second is not first
        assert await _read(store) is second
        await store.release_reads(end=True)  # a streaming response from here on
        assert pool.checkedout() == 0  # type: ignore[attr-defined]
        assert await _read(store) is not await _read(store)
        assert pool.checkedout() == 0  # type: ignore[attr-defined]  # each read gave it back
        async with store.reading():  # a block inside shares again, for its own length
            inner = await _read(store)
            assert await _read(store) is inner
        assert pool.checkedout() == 0  # type: ignore[attr-defined]
    assert checkouts[0] == 5


async def _rows(conn: AsyncConnection) -> int:
    return int((await conn.execute(sa.text("SELECT count(*) FROM shared_probe"))).scalar_one())


def _in_transaction(driver: Any) -> bool:
    """Whether the driver's connection is inside a transaction (aiosqlite or asyncpg)."""
    if hasattr(driver, "is_in_transaction"):
        return bool(driver.is_in_transaction())
    return bool(driver.in_transaction)


async def test_a_shared_read_connection_sees_every_commit_and_blocks_no_writer(
    store: Store,
) -> None:
    """Between its statements the shared connection is in no transaction (SQLite WAL: no old
    snapshot kept, no lock that the single writer would wait for): a commit of another task
    while it is held, and the task's own commit, are both seen by its next read."""
    async with store.database.begin() as conn:
        await conn.execute(sa.text("CREATE TABLE shared_probe (n INTEGER)"))

    async def insert(n: int) -> None:
        async with store.database.begin() as conn:
            await conn.execute(sa.text("INSERT INTO shared_probe VALUES (:n)"), {"n": n})

    async with store.reading():
        async with store.database.connect() as shared:
            assert await _rows(shared) == 0
            raw = await shared.get_raw_connection()
            assert not _in_transaction(raw.driver_connection)
        async with asyncio.timeout(10):  # another task writes while the connection is held
            await asyncio.create_task(insert(1))
        async with store.database.connect() as conn:
            assert conn is shared
            assert await _rows(conn) == 1
        await insert(2)  # this task's own write transaction, then its next read
        async with store.database.connect() as conn:
            assert await _rows(conn) == 2
            raw = await conn.get_raw_connection()
            assert not _in_transaction(raw.driver_connection)


@pytest.mark.postgresql
async def test_postgresql_reads_open_no_transaction(tmp_path: Path) -> None:
    async with fresh_database_url("postgresql", tmp_path) as url:
        store = await Store.open(url, run_migrations=False)
        try:
            async with store.database.connect() as conn:
                await conn.execute(sa.select(sa.literal(1)))
                raw = await conn.get_raw_connection()
                assert raw.driver_connection is not None
                assert not raw.driver_connection.is_in_transaction()  # no BEGIN was sent
            async with store.database.begin() as conn:
                await conn.execute(sa.select(sa.literal(1)))
                raw = await conn.get_raw_connection()
                assert raw.driver_connection is not None
                assert raw.driver_connection.is_in_transaction()  # writes: a transaction
        finally:
            await store.close()


class _Monotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def pg_engine(tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, _Monotonic]]:
    monotonic = _Monotonic()
    async with fresh_database_url("postgresql", tmp_path) as url:
        engine = create_engine(url, monotonic=monotonic, pool_size=1, max_overflow=0)
        try:
            yield engine, monotonic
        finally:
            await engine.dispose()


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(sa.select(sa.func.pg_backend_pid()))).scalar_one())


async def _terminate(url: str, pid: int) -> None:
    other = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with other.connect() as conn:
            await conn.execute(sa.select(sa.func.pg_terminate_backend(pid)))
    finally:
        await other.dispose()


@pytest.mark.postgresql
async def test_an_idle_dead_connection_is_replaced_at_checkout(
    pg_engine: tuple[AsyncEngine, _Monotonic],
) -> None:
    """The fail-over story of docs/operations.md: after a database restart (here: the
    backend terminated) the next checkout finds the dead connection and takes a new one."""
    engine, monotonic = pg_engine
    pid = await _backend_pid(engine)
    await _terminate(engine.url.render_as_string(hide_password=False), pid)
    monotonic.now += 1.0  # idle for the ping's second
    assert await _backend_pid(engine) != pid


@pytest.mark.postgresql
async def test_a_connection_used_within_the_second_is_not_pinged(
    pg_engine: tuple[AsyncEngine, _Monotonic],
) -> None:
    """No ping for a busy connection: a backend that died within the second fails the next
    statement once (the pool then replaces the connection)."""
    engine, monotonic = pg_engine
    pid = await _backend_pid(engine)
    await _terminate(engine.url.render_as_string(hide_password=False), pid)
    monotonic.now += 0.5
    with pytest.raises(DBAPIError):
        await _backend_pid(engine)
    assert await _backend_pid(engine) != pid
