"""The console's and the support grants' tables as declared are what migration 0018 creates."""

from __future__ import annotations

import cloud_gateway.accounts.schema  # the tables they refer to
import cloud_gateway.devices.schema
import cloud_gateway.operator.schema
import cloud_gateway.remote.schema  # noqa: F401  (declare the tables on the metadata)
from cloud_gateway.store import Store
from tests.support.schema_drift import schema_drift

_OURS = ("operator_", "console_audit", "support_grants")


async def test_migration_matches_the_console_tables(store: Store) -> None:
    assert await schema_drift(store, *_OURS) == []
