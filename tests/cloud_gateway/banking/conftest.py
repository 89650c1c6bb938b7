"""A bank service on the billing service of each backend; customers with open pro-formas.

The billing fixtures (``checked_store``: every document must pass EN 16931 after the test)
come from the billing tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.banking.service import BankService
from cloud_gateway.billing.catalogue import BookingType
from cloud_gateway.billing.pricing import Buyer
from cloud_gateway.billing.rendering.view import Party
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.schema import billing_journal
from cloud_gateway.billing.service import BillingService, Customer, OrderLine
from cloud_gateway.store import Store
from tests.cloud_gateway.billing import conftest as billing_fixtures
from tunnel.clock import ManualClock

#: the billing tests' fixtures, used here as they are
checked_store = billing_fixtures.checked_store
billing_clock = billing_fixtures.billing_clock
billing = billing_fixtures.billing

#: a hub package for 12 months: 25.00 net, 29.75 gross
HUB_YEAR = OrderLine(product="hub-remote", plan="12m", booking=BookingType.SINGLE)
GROSS = 2975


@dataclass(frozen=True, slots=True)
class Ordered:
    """A customer with one open pro-forma."""

    account_id: int
    name: str
    order_id: int
    document_id: int
    number: str
    reference: str


@pytest.fixture
def bank(checked_store: Store, billing: BillingService, billing_clock: ManualClock) -> BankService:
    return BankService(checked_store, billing, billing_clock, chunk=4)


async def order_for(
    store: Store, service: BillingService, clock: ManualClock, name: str
) -> Ordered:
    """A new account named ``name`` that ordered :data:`HUB_YEAR` (one open pro-forma)."""
    login = name.lower().replace(" ", ".")
    account = await store.repo(AccountRepository).create(
        username=login, email=f"{login}@example.org", password_hash="h", created_at=clock.now()
    )
    customer = Customer(
        account_id=account.id,
        party=Party(name=name, street="Deichweg 3", postcode="26831", city="Bunde",
                    customer_number=f"K{account.id:06d}"),
        buyer=Buyer(business=False, country="DE"),
    )  # fmt: skip
    placed = await service.place_order(customer, [HUB_YEAR], key=f"order-{login}")
    repo = store.repo(BillingRepository)
    async with repo.transaction() as conn:
        document = await repo.document(conn, placed["proforma_ids"][0])
    return Ordered(
        account_id=account.id,
        name=name,
        order_id=int(placed["order_id"]),
        document_id=document.id,
        number=document.number,
        reference=document.payment_reference or "",
    )


async def balance(store: Store, account_id: int) -> int:
    repo = store.repo(BillingRepository)
    async with repo.transaction() as conn:
        return await repo.balance(conn, account_id)


async def journal_size(store: Store) -> int:
    """Every journal line of every account."""
    async with store.engine.connect() as conn:
        count = await conn.execute(sa.select(sa.func.count()).select_from(billing_journal))
        return int(count.scalar_one())
