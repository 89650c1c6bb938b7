"""Repository tests; every test runs against SQLite and PostgreSQL (see ``db_url``)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.devices.model import DeviceKind
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.errors import ConflictError, NotFoundError
from cloud_gateway.store import Store
from cloud_gateway.store.engine import MIGRATIONS_DIR, create_engine, current_revision, migrate
from tunnel.clock import ManualClock


async def test_migrations_reach_head_and_are_idempotent(db_url: str) -> None:
    engine = create_engine(db_url)
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
