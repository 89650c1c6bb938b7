"""Differences between the tables an area declares and what the migrations created."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from cloud_gateway.store import Store
from cloud_gateway.store.schema import metadata

__all__ = ["schema_drift"]


async def schema_drift(store: Store, *names: str) -> list[object]:
    """Alembic's differences of the migrated database from the declared metadata, kept where
    they mention one of ``names`` (table or column names of the area under test)."""

    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection)
        return [d for d in compare_metadata(context, metadata) if any(n in repr(d) for n in names)]

    async with store.engine.connect() as conn:
        return await conn.run_sync(diff)
