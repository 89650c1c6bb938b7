"""The bank tables as the migration creates them are the ones the code declares."""

from __future__ import annotations

import cloud_gateway.composition  # noqa: F401 - declares every table (bank ones refer to others)
from cloud_gateway.store import Store
from tests.support.schema_drift import schema_drift


async def test_migrations_match_the_bank_tables(store: Store) -> None:
    assert await schema_drift(store, "bank_") == []
