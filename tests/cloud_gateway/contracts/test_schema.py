"""The service contracts' tables as declared (``contracts.schema``, ``billing_orders.wished_start``)
are what migration 0013 creates, on both backends."""

from __future__ import annotations

import cloud_gateway.contracts.schema  # noqa: F401  (declares the tables on the metadata)
from cloud_gateway.store import Store
from tests.support.schema_drift import schema_drift


async def test_migration_matches_the_service_contract_tables(store: Store) -> None:
    assert await schema_drift(store, "service_contracts", "service_refunds", "wished_start") == []
