"""A billing service on a migrated store of each backend, driven by a manual clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.billing.catalogue import load_catalogues
from cloud_gateway.billing.documents import view_from_canonical
from cloud_gateway.billing.pricing import Buyer
from cloud_gateway.billing.rendering import render_xml
from cloud_gateway.billing.rendering.view import Party
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.service import BillingService, Customer
from cloud_gateway.config import BillingConfig
from cloud_gateway.store import Store
from tests.support.einvoice import validate_cii
from tunnel.clock import ManualClock

#: 10 February 2026, 10:00 in Berlin
ORDER_DAY = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
async def checked_store(store: Store) -> AsyncIterator[Store]:
    """The store; after the test, every document it holds must pass EN 16931.

    Each stored document is read back from its frozen data, rendered as CII XML and checked
    against the Factur-X EN16931 XSD and the EN 16931 schematron (saxonche): invoices, credit
    notes, pro-formas, reverse-charge and voucher documents alike, as the scenarios made them.
    """
    yield store
    await validate_documents(store)


async def validate_documents(store: Store) -> int:
    """Check every document ``store`` holds against EN 16931 (see ``checked_store``); how many."""
    repo = store.repo(BillingRepository)
    async with repo.transaction() as conn:
        documents = await repo.documents(conn)
    for document in documents:
        xml = render_xml(view_from_canonical(document.canonical.encode()))
        try:
            await asyncio.to_thread(validate_cii, xml)
        except AssertionError as exc:
            raise AssertionError(f"{document.number}: {exc}") from None
    return len(documents)


@pytest.fixture
def billing_clock() -> ManualClock:
    return ManualClock(ORDER_DAY)


@pytest.fixture
def billing(checked_store: Store, billing_clock: ManualClock) -> BillingService:
    return BillingService(
        checked_store.repo(BillingRepository), load_catalogues(), billing_clock, BillingConfig()
    )


@pytest.fixture
async def customer(store: Store, billing_clock: ManualClock) -> Customer:
    account = await store.repo(AccountRepository).create(
        username="smacc",
        email="smacc@example.org",
        password_hash="h",
        created_at=billing_clock.now(),
    )
    return Customer(
        account_id=account.id,
        party=Party(
            name="Hof Janssen",
            street="Deichweg 3",
            postcode="26831",
            city="Bunde",
            customer_number=f"K{account.id:06d}",
        ),
        buyer=Buyer(business=False, country="DE"),
    )
