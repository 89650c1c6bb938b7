"""The one driver-error mapping, as every repository gets it from its base class."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from cloud_gateway.accounts.schema import accounts
from cloud_gateway.errors import ConflictError, StoreError
from cloud_gateway.store import Store
from cloud_gateway.store.engine import create_engine
from cloud_gateway.store.repository import Repository
from tunnel.clock import ManualClock


class _ProbeRepository(Repository):
    """A repository without handlers of its own: whatever the driver raises leaves unmapped."""

    async def insert_account(self, clock: ManualClock, name: str) -> None:
        async with self._db.begin() as conn:
            await conn.execute(
                accounts.insert().values(
                    username=name,
                    email=f"{name}@example.org",
                    password_hash="h",
                    created_at=clock.now(),
                )
            )

    async def read_missing_table(self) -> None:
        async with self._db.connect() as conn:
            await conn.execute(sa.text("SELECT * FROM no_such_table"))


async def test_a_refused_change_becomes_a_conflict_from_the_driver_error(
    store: Store, clock: ManualClock
) -> None:
    probe = store.repo(_ProbeRepository)
    await probe.insert_account(clock, "anna")
    with pytest.raises(ConflictError) as caught:
        await probe.insert_account(clock, "anna")
    assert isinstance(caught.value.__cause__, IntegrityError)
    assert "_ProbeRepository.insert_account" in str(caught.value)


async def test_any_other_driver_error_becomes_a_store_error(store: Store) -> None:
    with pytest.raises(StoreError) as caught:
        await store.repo(_ProbeRepository).read_missing_table()
    assert not isinstance(caught.value, ConflictError)
    assert isinstance(caught.value.__cause__, DBAPIError)


async def test_the_mapping_holds_inside_a_unit_of_work(store: Store, clock: ManualClock) -> None:
    await store.repo(_ProbeRepository).insert_account(clock, "bert")
    with pytest.raises(ConflictError):
        async with store.transaction() as uow:
            await uow.repo(_ProbeRepository).insert_account(clock, "bert")


async def test_no_free_pooled_connection_becomes_a_store_error(store: Store) -> None:
    # a node overloaded by a reconnect storm: every pooled connection busy past the timeout
    engine = create_engine(
        store.engine.url.render_as_string(hide_password=False),
        pool_size=1,
        max_overflow=0,
        pool_timeout=0.05,
    )
    try:
        async with engine.connect() as held:
            await held.execute(sa.text("SELECT 1"))  # the only connection, checked out
            with pytest.raises(StoreError) as caught:
                await _ProbeRepository(engine).read_missing_table()
        assert isinstance(caught.value.__cause__, PoolTimeoutError)
        assert "no database connection free" in str(caught.value)
    finally:
        await engine.dispose()
