"""The bank tables as the migration creates them are the ones the code declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

import cloud_gateway.composition  # noqa: F401 - declares every table (bank ones refer to others)
from cloud_gateway.store import Store
from cloud_gateway.store.schema import metadata


async def test_migrations_match_the_bank_tables(store: Store) -> None:
    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection)
        return [d for d in compare_metadata(context, metadata) if "bank_" in repr(d)]

    async with store.engine.connect() as conn:
        assert await conn.run_sync(diff) == []
