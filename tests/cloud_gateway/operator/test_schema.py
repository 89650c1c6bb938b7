"""The console's and the support grants' tables as declared are what migration 0018 creates."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

import cloud_gateway.accounts.schema  # the tables they refer to
import cloud_gateway.devices.schema
import cloud_gateway.operator.schema
import cloud_gateway.remote.schema  # noqa: F401  (declare the tables on the metadata)
from cloud_gateway.store import Store
from cloud_gateway.store.schema import metadata

_OURS = ("operator_", "console_audit", "support_grants")


async def test_migration_matches_the_console_tables(store: Store) -> None:
    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection)
        return [d for d in compare_metadata(context, metadata) if any(t in repr(d) for t in _OURS)]

    async with store.engine.connect() as conn:
        assert await conn.run_sync(diff) == []
