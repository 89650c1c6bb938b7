"""Licence services on a migrated store of each backend, driven by a manual clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from cloud_gateway.accounts.customer_rules import CustomerKind, VatState
from cloud_gateway.accounts.model import Account
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.accounts.repository_customers import CustomerData, CustomerRepository
from cloud_gateway.billing.catalogue import load_catalogues
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.service import BillingService
from cloud_gateway.config import BillingConfig, PaymentsConfig
from cloud_gateway.entitlements.service import EntitlementService
from cloud_gateway.licences.service import LicenceService
from cloud_gateway.notify.outbox import Outbox
from cloud_gateway.notify.repository import OutboxRepository
from cloud_gateway.payments.service import PaymentService
from cloud_gateway.plants.model import Plant, PlantFields
from cloud_gateway.plants.repository import PlantRepository
from cloud_gateway.plants.repository_inverters import InverterRepository
from cloud_gateway.plants.schema import inverter_nameplates
from cloud_gateway.store import Store
from cloud_gateway.tunnels.registry import TunnelRegistry
from tests.cloud_gateway.billing.conftest import checked_store
from tunnel.clock import ManualClock

__all__ = ["Rig", "checked_store", "customer_data", "save_customer", "set_nameplate"]

#: 10 February 2026, 10:00 in Berlin
ORDER_DAY = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)


@dataclass
class Rig:
    """The services of one test and helpers to set up customers and plants."""

    store: Store
    clock: ManualClock
    billing: BillingService
    entitlements: EntitlementService
    licences: LicenceService
    tunnels: TunnelRegistry

    async def account(self, name: str) -> Account:
        return await self.store.repo(AccountRepository).create(
            username=name, email=f"{name}@example.org", password_hash="h",
            created_at=self.clock.now(),
        )  # fmt: skip

    async def customer(self, account: Account, **data: Any) -> None:
        """Save the account's customer data (``kind``, ``country``, ``vat_id``, ``vat_state``)."""
        await save_customer(self.store, account.id, self.clock.now(), **data)

    async def plant(self, account: Account, name: str, watts: list[int | None]) -> Plant:
        """A plant with inverters of these nominal powers (``None``: unknown type)."""
        plant = await self.store.repo(PlantRepository).create(
            account.id, PlantFields(name=name), self.clock.now()
        )
        for n, w in enumerate(watts):
            serial = f"{name[:3].upper()}{plant.id:03d}{n:04d}"
            await self.store.repo(InverterRepository).add(
                plant_id=plant.id, account_id=account.id, serial=serial, name="",
                now=self.clock.now(),
            )  # fmt: skip
            if w is not None:
                await self.nameplate(account, serial, w)
        return plant

    async def nameplate(self, account: Account, serial: str, watts: int) -> None:
        """What an agent reports about an inverter (its rated power)."""
        await set_nameplate(self.store, account.id, serial, watts, self.clock.now())


def customer_data(
    account_id: int,
    kind: CustomerKind = CustomerKind.PRIVATE,
    country: str = "DE",
    vat_id: str = "",
    vat_state: VatState = VatState.NONE,
    now: datetime = ORDER_DAY,
) -> CustomerData:
    """Customer data of a buyer in Bunde (or elsewhere) with its VAT ID check state."""
    return CustomerData(
        account_id=account_id, kind=kind, name="Anna Sonnig", street="Deichweg 3",
        postcode="26831", city="Bunde", country=country, vat_id=vat_id, vat_state=vat_state,
        updated_at=now,
    )  # fmt: skip


async def save_customer(
    store: Store,
    account_id: int,
    now: datetime,
    *,
    kind: CustomerKind = CustomerKind.PRIVATE,
    country: str = "DE",
    vat_id: str = "",
    vat_state: VatState = VatState.NONE,
) -> None:
    """Store the customer data of :func:`customer_data` for the account."""
    data = customer_data(account_id, kind, country, vat_id, vat_state, now)
    await store.repo(CustomerRepository).save(data)


async def set_nameplate(
    store: Store, account_id: int, serial: str, watts: int, now: datetime
) -> None:
    """Store what the account's agent reported about an inverter (its rated power)."""
    table = inverter_nameplates
    async with store.engine.begin() as conn:
        await conn.execute(
            sa.delete(table).where(table.c.account_id == account_id, table.c.serial == serial)
        )
        await conn.execute(
            table.insert().values(
                account_id=account_id, serial=serial, w_rating=watts, updated_at=now
            )
        )


@pytest.fixture
def rig(checked_store: Store) -> Rig:
    clock = ManualClock(ORDER_DAY)
    store = checked_store
    entitlements = EntitlementService(store, clock)
    billing = BillingService(
        store.repo(BillingRepository), load_catalogues(), clock, BillingConfig(),
        entitlements=entitlements,
    )  # fmt: skip
    tunnels = TunnelRegistry(store, clock, entitlements)
    # no provider configured: bank transfer only, as a gateway without [payments]
    port = PaymentService(store, billing, clock, PaymentsConfig(), providers={})
    licences = LicenceService(
        store, clock, billing=billing, entitlements=entitlements, payments=port,
        methods=port.methods, outbox=Outbox(store.repo(OutboxRepository)), tunnels=tunnels,
    )  # fmt: skip
    return Rig(store, clock, billing, entitlements, licences, tunnels)
