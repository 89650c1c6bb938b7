"""Service contracts on a migrated store of each backend, driven by a manual clock.

The money core's fixtures (every stored document checked against EN 16931 after the test,
the clock, the customer) are the billing tests' own; here the billing service also books the
service's entitlement windows, and the contract service talks to the simulated provider.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from cloud_gateway.billing.catalogue import load_catalogues
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.service import BillingService
from cloud_gateway.config import BillingConfig
from cloud_gateway.contracts.provider import HttpServiceProvider
from cloud_gateway.contracts.service import ContractService
from cloud_gateway.entitlements.service import EntitlementService
from cloud_gateway.notify.outbox import Outbox
from cloud_gateway.notify.repository import OutboxRepository
from cloud_gateway.store import Store
from simulator.satellite import SatelliteSimulator
from tests.cloud_gateway.billing.conftest import billing_clock, checked_store, customer
from tunnel.clock import ManualClock

__all__ = ["billing_clock", "checked_store", "customer"]


@pytest.fixture
def entitlements(checked_store: Store, billing_clock: ManualClock) -> EntitlementService:
    return EntitlementService(checked_store, billing_clock)


@pytest.fixture
def billing(
    checked_store: Store, billing_clock: ManualClock, entitlements: EntitlementService
) -> BillingService:
    return BillingService(
        checked_store.repo(BillingRepository),
        load_catalogues(),
        billing_clock,
        BillingConfig(),
        entitlements=entitlements,
    )


@pytest.fixture
async def satellite() -> AsyncIterator[SatelliteSimulator]:
    """The simulated provider on a free loopback port."""
    simulator = SatelliteSimulator()
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


def contract_service(
    store: Store, billing: BillingService, clock: ManualClock, url: str, timeout_s: float = 5.0
) -> ContractService:
    return ContractService(
        store=store,
        billing=billing,
        catalogues=load_catalogues(),
        provider=HttpServiceProvider(url, timeout_s),
        outbox=Outbox(store.repo(OutboxRepository)),
        clock=clock,
        config=BillingConfig(),
    )
