"""The support tables as declared (``support.schema``) are what migration 0017 creates."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

import cloud_gateway.accounts.schema  # the table the support tables refer to
import cloud_gateway.support.schema  # noqa: F401  (declares the support tables on the metadata)
from cloud_gateway.store import Store
from cloud_gateway.store.schema import metadata


async def test_migration_matches_the_support_tables(store: Store) -> None:
    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection)
        return [
            d
            for d in compare_metadata(context, metadata)
            if "support_" in repr(d) or "repair_orders" in repr(d)
        ]

    async with store.engine.connect() as conn:
        assert await conn.run_sync(diff) == []
