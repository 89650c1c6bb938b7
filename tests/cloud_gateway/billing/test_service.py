"""Seed 004 end to end on both backends: order, payment, activation, monthly run, rerun."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from cloud_gateway.accounts.customer_rules import CustomerKind, VatState
from cloud_gateway.accounts.repository_customers import CustomerData
from cloud_gateway.billing.catalogue import BookingType, load_catalogues
from cloud_gateway.billing.documents import view_from_canonical
from cloud_gateway.billing.errors import (
    BillingError,
    IdempotencyError,
    OverdraftError,
    SoldOutError,
    VoucherError,
)
from cloud_gateway.billing.model import StoredDocument
from cloud_gateway.billing.money import VatCategory
from cloud_gateway.billing.pricing import Buyer, Voucher, VoucherKind
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.service import (
    BillingService,
    Customer,
    OrderLine,
    RunReport,
    customer_from_data,
)
from cloud_gateway.billing.states import ContractState, OrderState
from cloud_gateway.config import BillingConfig
from cloud_gateway.entitlements.service import EntitlementService
from cloud_gateway.entitlements.windows import Booking, WindowKind
from cloud_gateway.store import Store
from tunnel.clock import ManualClock

SATELLITE = OrderLine(product="satellite-uplink", plan="monthly")


def _at(day: date) -> datetime:
    """09:00 UTC on ``day`` (10:00 or 11:00 in Berlin)."""
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)


async def _documents(store: Store, account_id: int) -> list[StoredDocument]:
    repo = store.repo(BillingRepository)
    async with repo.transaction() as conn:
        return await repo.documents(conn, account_id=account_id)


async def _balance(store: Store, account_id: int) -> int:
    repo = store.repo(BillingRepository)
    async with repo.transaction() as conn:
        return await repo.balance(conn, account_id)


async def _rerun_creates_nothing(billing: BillingService) -> None:
    assert await billing.run() == RunReport()


async def _ordered_and_active(
    billing: BillingService, store: Store, customer: Customer, clock: ManualClock
) -> int:
    placed = await billing.place_order(customer, [SATELLITE], key="order-1")
    [proforma] = await _documents(store, customer.account_id)
    assert (proforma.kind, proforma.number, proforma.gross, proforma.due) == (
        "proforma", "PR-2026-00001", 215152, 215152,
    )  # fmt: skip
    assert proforma.due_date is None  # R-BIL-9: the first pro-forma has no deadline
    assert proforma.payment_reference == "RF98PR202600001"
    await billing.wish_start(placed["order_id"], date(2026, 3, 1), key="wish-1")
    await billing.confirm_reservation(placed["order_id"], "order_form", key="res-1")
    paid = await billing.record_payment(
        customer.account_id, 215152, "RF98 PR20 2600 001", key="bank-1"
    )
    assert paid["settled_document_id"] == proforma.id
    assert await _balance(store, customer.account_id) == 0
    # confirmed and paid: activated at once, starting on the wished day (R-BIL-5)
    repo = store.repo(BillingRepository)
    async with repo.transaction() as conn:
        order = await repo.order(conn, placed["order_id"])
        [contract] = await repo.contracts(conn, order_id=order.id)
    assert (order.state, contract.start_day) == (OrderState.ACTIVE, date(2026, 3, 1))
    clock.set(_at(date(2026, 3, 1)))
    return int(placed["order_id"])


async def test_seed_004_first_invoice_then_unpaid_month_four_ends_the_service(
    billing: BillingService, store: Store, customer: Customer, billing_clock: ManualClock
) -> None:
    await _ordered_and_active(billing, store, customer, billing_clock)
    assert await billing.run() == RunReport(documents=1)
    invoice = (await _documents(store, customer.account_id))[-1]
    assert (invoice.number, invoice.net, invoice.tax, invoice.gross, invoice.due) == (
        "RE-2026-00001", 180800, 34352, 215152, 0,
    )  # fmt: skip
    assert invoice.payment_reference is None  # nothing due: prepaid by the pro-forma
    await _rerun_creates_nothing(billing)

    billing_clock.set(_at(date(2026, 5, 1)))  # month 3 starts: pro-forma for month 4
    assert await billing.run() == RunReport(documents=1)
    offer = (await _documents(store, customer.account_id))[-1]
    assert (offer.number, offer.gross, offer.due_date) == (
        "PR-2026-00002",
        39984,
        date(2026, 5, 31),
    )
    await _rerun_creates_nothing(billing)

    billing_clock.set(_at(date(2026, 6, 1)))  # not paid: the service ends after month 3
    assert await billing.run() == RunReport(ended=1)
    repo = store.repo(BillingRepository)
    async with repo.transaction() as conn:
        [contract] = await repo.contracts(conn)
    assert (contract.state, contract.ended_on) == (ContractState.ENDED, date(2026, 5, 31))
    # a late payment cannot extend the ended service: it stays on the account as credit
    late = await billing.record_payment(
        customer.account_id, 39984, offer.payment_reference or "", key="bank-2"
    )
    assert late["settled_document_id"] is None
    assert await _balance(store, customer.account_id) == 39984
    await _rerun_creates_nothing(billing)


async def test_paid_month_four_is_invoiced_and_surplus_stays_as_credit(
    billing: BillingService, store: Store, customer: Customer, billing_clock: ManualClock
) -> None:
    await _ordered_and_active(billing, store, customer, billing_clock)
    billing_clock.set(_at(date(2026, 5, 1)))
    assert await billing.run() == RunReport(documents=2)
    offer = (await _documents(store, customer.account_id))[-1]
    await billing.record_payment(
        customer.account_id, 40000, offer.payment_reference or "", key="b-2"
    )
    billing_clock.set(_at(date(2026, 6, 1)))
    assert await billing.run() == RunReport(documents=2)  # invoice month 4, pro-forma month 5
    kinds = [
        (d.kind.value, d.number, d.period) for d in await _documents(store, customer.account_id)
    ]
    assert kinds[-2:] == [("invoice", "RE-2026-00002", 3), ("proforma", "PR-2026-00003", 4)]
    assert await _balance(store, customer.account_id) == 16
    await _rerun_creates_nothing(billing)


async def test_retries_return_the_first_result_and_change_nothing(
    billing: BillingService, store: Store, customer: Customer
) -> None:
    first = await billing.place_order(customer, [SATELLITE], key="order-x")
    again = await billing.place_order(customer, [SATELLITE], key="order-x")
    assert first == again
    assert len(await _documents(store, customer.account_id)) == 1
    await billing.record_payment(customer.account_id, 100, "nothing", key="pay-x")
    await billing.record_payment(customer.account_id, 100, "nothing", key="pay-x")
    assert await _balance(store, customer.account_id) == 100
    with pytest.raises(IdempotencyError):
        await billing.record_payment(customer.account_id, 100, "nothing", key="order-x")
    await _rerun_creates_nothing(billing)


async def test_overdraft_settles_a_pro_forma_without_payment(
    billing: BillingService, store: Store, customer: Customer
) -> None:
    placed = await billing.place_order(customer, [SATELLITE], key="o")
    [proforma_id] = placed["proforma_ids"]
    with pytest.raises(OverdraftError):
        await billing.settle_from_account(proforma_id, key="s-1")
    await billing.set_overdraft_limit(customer.account_id, 300000, key="limit-1")
    await billing.settle_from_account(proforma_id, key="s-2")
    assert await _balance(store, customer.account_id) == -215152
    await billing.record_payment(customer.account_id, 215152, "transfer", key="p")
    assert await _balance(store, customer.account_id) == 0
    await _rerun_creates_nothing(billing)


async def test_credit_note_reverses_an_invoice_onto_the_account(
    billing: BillingService, store: Store, customer: Customer, billing_clock: ManualClock
) -> None:
    await _ordered_and_active(billing, store, customer, billing_clock)
    await billing.run()
    invoice = (await _documents(store, customer.account_id))[-1]
    result = await billing.credit_note(invoice.id, "Storno: Testauftrag", key="cn-1")
    note = (await _documents(store, customer.account_id))[-1]
    assert (note.id, note.number, note.gross, note.preceding_id) == (
        result["document_id"], "GS-2026-00001", 215152, invoice.id,
    )  # fmt: skip
    assert await _balance(store, customer.account_id) == 215152
    # a retry answers the same; a second correction of the invoice is refused
    assert await billing.credit_note(invoice.id, "Storno: Testauftrag", key="cn-1") == result
    with pytest.raises(BillingError, match="corrected by GS-2026-00001 already"):
        await billing.credit_note(invoice.id, "noch einmal", key="cn-2")
    assert await _balance(store, customer.account_id) == 215152
    await _rerun_creates_nothing(billing)


def test_customer_from_data_uses_the_vies_state() -> None:
    data = CustomerData(
        account_id=42, kind=CustomerKind.BUSINESS, name="Wien Solar GmbH", street="Ring 1",
        postcode="1010", city="Wien", country="AT", vat_id="ATU12345678",
        vat_state=VatState.VALID, updated_at=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    customer = customer_from_data(data, "en")
    assert customer.party.customer_number == "K000042"
    assert customer.buyer == Buyer(
        business=True, country="AT", vat_id="ATU12345678", vat_verified=True
    )
    pending = customer_from_data(dataclasses.replace(data, vat_state=VatState.PENDING))
    assert not pending.buyer.vat_verified


async def test_refund_only_from_credit_and_sold_out_products(
    billing: BillingService, store: Store, customer: Customer
) -> None:
    await billing.record_payment(customer.account_id, 5000, "surplus", key="p")
    with pytest.raises(OverdraftError):
        await billing.refund(customer.account_id, 5001, "back", key="r-1")
    await billing.refund(customer.account_id, 5000, "back", key="r-2")
    await billing.refund(customer.account_id, 5000, "back", key="r-2")  # a retry
    assert await _balance(store, customer.account_id) == 0
    await billing.place_order(customer, [SATELLITE] * 50, key="fifty")
    with pytest.raises(SoldOutError):
        await billing.place_order(customer, [SATELLITE], key="one-more")
    await _rerun_creates_nothing(billing)


async def test_voucher_and_reverse_charge_on_the_order_pro_forma(
    billing: BillingService, store: Store, customer: Customer
) -> None:
    voucher = Voucher(
        code="SAT10", kind=VoucherKind.PERCENT, value=Decimal(10), periods=2,
        products=frozenset({"satellite-uplink"}), max_uses=1,
    )  # fmt: skip
    await billing.add_voucher(voucher, key="v")
    line = OrderLine(product="satellite-uplink", plan="monthly", voucher="SAT10")
    await billing.place_order(customer, [line], key="o-1")
    [offer] = await _documents(store, customer.account_id)
    assert (offer.net, offer.tax, offer.gross) == (162720, 30917, 193637)
    with pytest.raises(VoucherError, match="used up"):
        await billing.place_order(customer, [line], key="o-2")
    vienna = dataclasses.replace(
        customer,
        buyer=Buyer(business=True, country="AT", vat_id="ATU12345678", vat_verified=True),
    )
    await billing.place_order(vienna, [SATELLITE], key="o-3")
    reverse = (await _documents(store, customer.account_id))[-1]
    assert (reverse.net, reverse.tax, reverse.gross) == (180800, 0, 180800)
    view = view_from_canonical(reverse.canonical.encode())
    assert view.lines[0].vat_category is VatCategory.REVERSE_CHARGE
    assert any("ATU12345678" in note and "Reverse Charge" in note for note in view.notes)
    await _rerun_creates_nothing(billing)


@pytest.mark.postgresql
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_concurrent_payments_settle_a_pro_forma_once(
    billing: BillingService, store: Store, customer: Customer
) -> None:
    placed = await billing.place_order(customer, [SATELLITE], key="o")
    [proforma_id] = placed["proforma_ids"]
    results = await asyncio.gather(
        *(
            billing.record_payment(customer.account_id, 215152, "RF98PR202600001", key=f"p{i}")
            for i in range(8)
        )
    )
    assert [r["settled_document_id"] for r in results].count(proforma_id) == 1
    assert await _balance(store, customer.account_id) == 7 * 215152  # the rest is credit
    await _rerun_creates_nothing(billing)


async def test_termination_credits_paid_months_ahead(
    billing: BillingService, store: Store, customer: Customer, billing_clock: ManualClock
) -> None:
    await _ordered_and_active(billing, store, customer, billing_clock)
    repo = store.repo(BillingRepository)
    async with repo.transaction() as conn:
        [contract] = await repo.contracts(conn)
    billing_clock.set(_at(date(2026, 5, 1)))
    await billing.run()
    offer = (await _documents(store, customer.account_id))[-1]
    await billing.record_payment(
        customer.account_id, 39984, offer.payment_reference or "", key="p4"
    )
    billing_clock.set(_at(date(2026, 5, 20)))  # still in month 3; month 4 is paid ahead
    result = await billing.terminate(contract.id, key="t-1")
    assert result == {"ended_on": "2026-05-31", "credited": 39984, "credit_note_id": None}
    assert await billing.terminate(contract.id, key="t-1") == result
    assert await _balance(store, customer.account_id) == 39984
    billing_clock.set(_at(date(2026, 6, 1)))
    await _rerun_creates_nothing(billing)
    async with repo.transaction() as conn:
        [contract] = await repo.contracts(conn)
    assert (contract.state, contract.ended_on) == (ContractState.ENDED, date(2026, 5, 31))


async def test_an_activated_hub_package_becomes_a_window_through_the_entitlement_service(
    store: Store, billing_clock: ManualClock, customer: Customer
) -> None:
    entitlements = EntitlementService(store, billing_clock)
    billing = BillingService(
        store.repo(BillingRepository),
        load_catalogues(),
        billing_clock,
        BillingConfig(),
        entitlements=entitlements,
    )
    line = OrderLine(product="hub-remote", plan="12m", booking=BookingType.SINGLE)
    placed = await billing.place_order(customer, [line], key="hub-order")
    [proforma] = await _documents(store, customer.account_id)
    assert (proforma.net, proforma.gross) == (2500, 2975)  # 25.00 net + 19 % VAT
    before = await entitlements.account_windows(customer.account_id)
    assert [w.kind for w in before] == [WindowKind.TRIAL]  # nothing for money not received
    paid = await billing.record_payment(
        customer.account_id, proforma.gross, proforma.payment_reference or "", key="pay"
    )
    assert paid["activated"]  # a shop product starts on payment (#12 item 3)
    # a retried payment (same key) books nothing twice
    assert (
        await billing.record_payment(
            customer.account_id, proforma.gross, proforma.payment_reference or "", key="pay"
        )
        == paid
    )
    async with store.repo(BillingRepository).transaction() as conn:
        order = await store.repo(BillingRepository).order(conn, placed["order_id"])
    assert order.state is OrderState.ACTIVE
    windows = await entitlements.account_windows(customer.account_id)
    [package] = [w for w in windows if w.kind is WindowKind.PACKAGE]
    [trial] = [w for w in windows if w.kind is WindowKind.TRIAL]
    assert package.booking is Booking.SINGLE
    assert package.start == trial.end  # a package booked in the trial starts after it
    assert (package.end - package.start).days == 365  # 10 Feb 2026 .. 9 Feb 2027
    await _rerun_creates_nothing(billing)  # the first invoice came with the activation
    kinds = sorted(d.kind for d in await _documents(store, customer.account_id))
    assert kinds == ["invoice", "proforma"]
