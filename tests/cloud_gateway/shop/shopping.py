"""Helpers of the shop tests: customer data, vouchers, paying, the EN 16931 check."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

from cloud_gateway.accounts.customer_rules import CustomerKind
from cloud_gateway.accounts.repository_customers import CustomerData, CustomerRepository
from cloud_gateway.billing.documents import view_from_canonical
from cloud_gateway.billing.pricing import Voucher, VoucherKind
from cloud_gateway.billing.rendering import render_xml
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.service import BillingService
from cloud_gateway.http.keys import BILLING
from cloud_gateway.store import Store
from tests.support.einvoice import validate_cii
from tests.support.gateway import GatewayHarness

__all__ = ["billing_of", "give_customer_data", "issue_vouchers", "pay_and_activate", "validate"]


def billing_of(gw: GatewayHarness) -> BillingService:
    """The running gateway's own billing service."""
    return gw.gateway.runner.app[BILLING]


async def give_customer_data(gw: GatewayHarness, account_id: int, name: str) -> None:
    await gw.gateway.store.repo(CustomerRepository).save(
        CustomerData(
            account_id=account_id,
            kind=CustomerKind.PRIVATE,
            name=name,
            street="Sonnenweg 1",
            postcode="10115",
            city="Berlin",
            country="DE",
            updated_at=gw.clock.now(),
        )
    )


async def issue_vouchers(gw: GatewayHarness) -> None:
    """CCU10: 10 % on Komfort; OLD: expired before the tests' days."""
    billing = billing_of(gw)
    await billing.add_voucher(
        Voucher(
            code="CCU10",
            kind=VoucherKind.PERCENT,
            value=Decimal(10),
            products=frozenset({"hub-comfort"}),
        ),
        key="voucher:CCU10",
    )
    await billing.add_voucher(
        Voucher(
            code="OLD", kind=VoucherKind.FIXED, value=Decimal(100), valid_until=date(2020, 1, 1)
        ),
        key="voucher:OLD",
    )


async def pay_and_activate(gw: GatewayHarness, account_id: int, order_id: int) -> None:
    """The money arrives for each open pro-forma of the order, then the order starts."""
    billing, repo = billing_of(gw), gw.gateway.store.repo(BillingRepository)
    async with repo.transaction() as conn:
        contracts = await repo.contracts(conn, order_id=order_id)
        docs = [d for c in contracts for d in await repo.documents(conn, contract_id=c.id)]
    for doc in docs:
        assert doc.payment_reference is not None
        await billing.record_payment(
            account_id, doc.due, doc.payment_reference, key=f"bank:{doc.number}"
        )
    await billing.activate(order_id, key=f"activate:{order_id}")


async def validate(store: Store) -> int:
    """Every stored document passes the EN 16931 XSD and schematron; returns how many."""
    repo = store.repo(BillingRepository)
    async with repo.transaction() as conn:
        documents = await repo.documents(conn)
    for document in documents:
        xml = render_xml(view_from_canonical(document.canonical.encode()))
        await asyncio.to_thread(validate_cii, xml)
    return len(documents)
