"""The service contracts' tables as declared (``contracts.schema``, ``billing_orders.wished_start``)
are what migration 0013 creates, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

import cloud_gateway.contracts.schema  # noqa: F401  (declares the tables on the metadata)
from cloud_gateway.store import Store
from cloud_gateway.store.schema import metadata


async def test_migration_matches_the_service_contract_tables(store: Store) -> None:
    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection)
        mine = ("service_contracts", "service_refunds", "wished_start")
        return [d for d in compare_metadata(context, metadata) if any(m in repr(d) for m in mine)]

    async with store.engine.connect() as conn:
        assert await conn.run_sync(diff) == []
