"""The support tables as declared (``support.schema``) are what migration 0017 creates."""

from __future__ import annotations

import cloud_gateway.accounts.schema  # the table the support tables refer to
import cloud_gateway.support.schema  # noqa: F401  (declares the support tables on the metadata)
from cloud_gateway.store import Store
from tests.support.schema_drift import schema_drift


async def test_migration_matches_the_support_tables(store: Store) -> None:
    assert await schema_drift(store, "support_", "repair_orders") == []
