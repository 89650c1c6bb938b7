"""Repository tests; every test runs against SQLite and PostgreSQL (see ``db_url``)."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.devices.model import DeviceKind
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.errors import ConflictError, NotFoundError
from cloud_gateway.store import Store
from cloud_gateway.store import store as store_module
from cloud_gateway.store.database import SerialisedWrites
from cloud_gateway.store.engine import (
    MIGRATIONS_DIR,
    PG_MAX_OVERFLOW,
    PG_POOL_SIZE,
    PG_WRITE_SLOTS,
    create_engine,
    current_revision,
    migrate,
)
from tunnel.clock import ManualClock


async def test_migrations_reach_head_and_are_idempotent(empty_db_url: str) -> None:
    engine = create_engine(empty_db_url)
    try:
        assert await current_revision(engine) is None
        await migrate(engine)
        await migrate(engine)
        head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
        assert head is not None
        assert await current_revision(engine) == head
    finally:
        await engine.dispose()


async def test_account_roundtrip_keeps_aware_utc_instants(store: Store, clock: ManualClock) -> None:
    created = await store.repo(AccountRepository).create(
        username="Anna", email="Anna@Example.org", password_hash="h", created_at=clock.now()
    )
    again = await store.repo(AccountRepository).get(created.id)
    assert again == created
    assert again.created_at == clock.now()
    assert again.created_at.utcoffset() == timedelta(0)
    assert await store.repo(AccountRepository).find_by_login("anna@example.org") == created
    assert await store.repo(AccountRepository).find_by_login(" ANNA ") == created
    assert await store.repo(AccountRepository).find_by_login("bert") is None


async def test_account_names_are_unique_case_insensitively(
    store: Store, clock: ManualClock
) -> None:
    await store.repo(AccountRepository).create(
        username="anna", email="a@example.org", password_hash="h", created_at=clock.now()
    )
    with pytest.raises(ConflictError):
        await store.repo(AccountRepository).create(
            username="ANNA", email="b@example.org", password_hash="h", created_at=clock.now()
        )
    with pytest.raises(ConflictError):
        await store.repo(AccountRepository).create(
            username="other", email="A@example.org", password_hash="h", created_at=clock.now()
        )
    with pytest.raises(NotFoundError):
        await store.repo(AccountRepository).get(999)


async def test_devices_belong_to_accounts(store: Store, clock: ManualClock) -> None:
    owner = await store.repo(AccountRepository).create(
        username="o", email="o@example.org", password_hash="h", created_at=clock.now()
    )
    ccu = await store.repo(DeviceRepository).create(
        slug="ccu-3014f711", kind=DeviceKind.CCU, created_at=clock.now(), account_id=owner.id
    )
    await store.repo(DeviceRepository).create(
        slug="agent-1", kind=DeviceKind.INVERTER_AGENT, created_at=clock.now()
    )
    assert await store.repo(DeviceRepository).list_for_account(owner.id) == [ccu]
    await store.repo(DeviceRepository).set_disabled("ccu-3014f711", disabled=True)
    assert (await store.repo(DeviceRepository).get_by_slug("ccu-3014f711")).disabled
    with pytest.raises(ConflictError):
        await store.repo(DeviceRepository).create(
            slug="ccu-3014f711", kind=DeviceKind.CCU, created_at=clock.now()
        )
    with pytest.raises(ConflictError):
        await store.repo(DeviceRepository).create(
            slug="x", kind=DeviceKind.CCU, created_at=clock.now(), account_id=12345
        )
    with pytest.raises(NotFoundError):
        await store.repo(DeviceRepository).set_disabled("missing", disabled=True)


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_sqlite_connections_use_wal_full_sync_and_foreign_keys(
    backend: str, tmp_path: object
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/p.sqlite3")
    try:
        async with engine.connect() as conn:
            journal = await conn.scalar(sa.text("PRAGMA journal_mode"))
            sync = await conn.scalar(sa.text("PRAGMA synchronous"))
            fks = await conn.scalar(sa.text("PRAGMA foreign_keys"))
    finally:
        await engine.dispose()
    assert (journal, sync, fks) == ("wal", 2, 1)


async def _counter(store: Store) -> None:
    async with store.transaction() as uow:
        await uow.connection.execute(sa.text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        await uow.connection.execute(sa.text("INSERT INTO counter (n) VALUES (0)"))


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_sqlite_writers_queue_instead_of_failing_on_the_lock(
    backend: str, tmp_path: object
) -> None:
    """Twenty read-then-write transactions at once: on SQLite each would need the write lock
    its neighbours hold (``database is locked``); queued, every one commits, none is lost."""
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path}/q.sqlite3", run_migrations=False)
    try:
        await _counter(store)

        async def increment() -> None:
            async with store.database.begin() as conn:
                n = await conn.scalar(sa.text("SELECT n FROM counter"))
                await conn.execute(sa.text("UPDATE counter SET n = :n"), {"n": n + 1})

        await asyncio.gather(*(increment() for _ in range(20)))
        async with store.engine.connect() as conn:
            assert await conn.scalar(sa.text("SELECT n FROM counter")) == 20
    finally:
        await store.close()


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_nested_or_stuck_writer_does_not_hang_the_queue(
    backend: str, tmp_path: object
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/n.sqlite3")
    queue = SerialisedWrites(engine, wait_s=0.1)
    try:
        async with queue.begin() as outer:
            await outer.execute(sa.text("CREATE TABLE t (n INTEGER)"))
        # a begin nested in the same task does not wait for itself
        async with queue.begin() as outer:
            async with queue.begin() as inner:
                assert await inner.scalar(sa.text("SELECT count(*) FROM t")) == 0
            await outer.execute(sa.text("INSERT INTO t VALUES (1)"))
        # a holder that waits for another task's write: after wait_s that one goes ahead
        written = asyncio.Event()

        async def other_writer() -> None:
            async with queue.begin() as conn:
                await conn.execute(sa.text("INSERT INTO t VALUES (2)"))
            written.set()

        async with queue.begin() as holder:
            task = asyncio.create_task(other_writer())
            await written.wait()
            await holder.execute(sa.text("INSERT INTO t VALUES (3)"))
        await task
        async with engine.connect() as conn:
            assert await conn.scalar(sa.text("SELECT count(*) FROM t")) == 3
    finally:
        await engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_writers_beyond_the_slots_wait_without_a_connection_and_reads_do_not(
    backend: str, tmp_path: object
) -> None:
    """With two slots (PostgreSQL has ``PG_WRITE_SLOTS``), a third writer waits for one of
    them, holding no pooled connection meanwhile, and a read goes ahead of it."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/s.sqlite3")
    queue = SerialisedWrites(engine, slots=2)
    release, both_in = asyncio.Event(), asyncio.Event()
    inside: list[str] = []

    async def writer(name: str) -> None:
        async with queue.begin() as conn:
            inside.append(name)
            await conn.scalar(sa.text("SELECT 1"))
            if len(inside) == 2:
                both_in.set()
            await release.wait()

    try:
        first = asyncio.create_task(writer("a"))
        second = asyncio.create_task(writer("b"))
        await both_in.wait()
        third = asyncio.create_task(writer("c"))
        for _ in range(50):  # give the third every chance to get in
            await asyncio.sleep(0)
        assert sorted(inside) == ["a", "b"]
        assert isinstance(engine.pool, QueuePool)
        assert engine.pool.checkedout() == 2  # the waiting writer holds none
        async with queue.connect() as conn:  # a read does not queue behind the writers
            assert await conn.scalar(sa.text("SELECT 2")) == 2
        release.set()
        await asyncio.gather(first, second, third)
        assert sorted(inside) == ["a", "b", "c"]
    finally:
        await engine.dispose()
    with pytest.raises(ValueError, match="slots"):
        SerialisedWrites(engine, slots=0)


def test_a_postgresql_store_bounds_its_writers_below_the_pool() -> None:
    """The writers' slots leave pooled connections for reads."""
    assert 1 < PG_WRITE_SLOTS < PG_POOL_SIZE + PG_MAX_OVERFLOW


async def test_a_failed_migration_leaves_no_pooled_connection_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database at a revision this code does not know: ``Store.open`` raises and disposes
    of its engine (an open aiosqlite connection would be collected, unclosed, much later)."""
    path = tmp_path / "future.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        db.execute("INSERT INTO alembic_version VALUES ('9999')")
    db.close()
    made: list[AsyncEngine] = []

    def recording(url: str) -> AsyncEngine:
        made.append(create_engine(url))
        return made[-1]

    monkeypatch.setattr(store_module, "create_engine", recording)
    with pytest.raises(CommandError):
        await Store.open(f"sqlite+aiosqlite:///{path}")
    [engine] = made
    assert isinstance(engine.pool, QueuePool)
    assert engine.pool.checkedin() == 0
    assert engine.pool.checkedout() == 0
