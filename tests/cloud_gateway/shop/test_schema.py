"""The shop's tables as declared (``shop.schema``) are what migration 0012 creates."""

from __future__ import annotations

import cloud_gateway.accounts.schema  # the table the carts refer to
import cloud_gateway.shop.schema  # noqa: F401  (declares the shop's tables on the metadata)
from cloud_gateway.store import Store
from tests.support.schema_drift import schema_drift


async def test_migration_matches_the_shop_tables(store: Store) -> None:
    assert await schema_drift(store, "shop_") == []
