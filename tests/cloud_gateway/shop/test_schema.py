"""The shop's tables as declared (``shop.schema``) are what migration 0012 creates."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

import cloud_gateway.accounts.schema  # the table the carts refer to
import cloud_gateway.shop.schema  # noqa: F401  (declares the shop's tables on the metadata)
from cloud_gateway.store import Store
from cloud_gateway.store.schema import metadata


async def test_migration_matches_the_shop_tables(store: Store) -> None:
    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection)
        return [d for d in compare_metadata(context, metadata) if "shop_" in repr(d)]

    async with store.engine.connect() as conn:
        assert await conn.run_sync(diff) == []
