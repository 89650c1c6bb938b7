"""The support service on a migrated store of each backend (EN 16931-checked documents)."""

from __future__ import annotations

import pytest

from cloud_gateway.billing.catalogue import load_catalogues
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.service import BillingService
from cloud_gateway.config import BillingConfig
from cloud_gateway.notify.outbox import Outbox
from cloud_gateway.notify.repository import OutboxRepository
from cloud_gateway.store import Store
from cloud_gateway.support.service import SupportService
from tests.cloud_gateway.billing.conftest import billing_clock, checked_store
from tunnel.clock import ManualClock

__all__ = ["billing_clock", "checked_store"]


@pytest.fixture
def billing_service(checked_store: Store, billing_clock: ManualClock) -> BillingService:
    return BillingService(
        checked_store.repo(BillingRepository), load_catalogues(), billing_clock, BillingConfig()
    )


@pytest.fixture
def support(
    checked_store: Store, billing_service: BillingService, billing_clock: ManualClock
) -> SupportService:
    outbox = Outbox(checked_store.repo(OutboxRepository))
    return SupportService(checked_store, outbox, billing_service, billing_clock)
