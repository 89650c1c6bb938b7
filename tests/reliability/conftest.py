"""Fixtures the suite borrows from the areas' tests: the payments rig (with the billing
tests' EN 16931-checked store under it) for the money-under-concurrency test."""

from __future__ import annotations

from tests.cloud_gateway.billing.conftest import checked_store
from tests.cloud_gateway.payments.conftest import rig

__all__ = ["checked_store", "rig"]
