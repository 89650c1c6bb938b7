"""The pure billing run with literal dates: seed 004 end to end, in-arrears plans, licences."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

from cloud_gateway.billing.catalogue import BookingType, Charging, load_catalogues
from cloud_gateway.billing.money import VatCategory
from cloud_gateway.billing.pricing import Buyer, TaxTreatment, Voucher, VoucherKind, tax_treatment
from cloud_gateway.billing.rendering.view import DocumentKind
from cloud_gateway.billing.run import (
    ContractSnapshot,
    ExpectedItem,
    ItemKind,
    billing_run,
    initial_draft,
    next_event_day,
)

CATALOGUE = load_catalogues().version("2026-01")
GERMAN = TaxTreatment(category=VatCategory.STANDARD, rate=Decimal(19))


def _satellite(paid: int, start: date | None = date(2026, 3, 1), **kw: object) -> ContractSnapshot:
    product = CATALOGUE.product("satellite-uplink")
    return ContractSnapshot(
        id=7,
        product=product,
        plan=product.plan("monthly"),
        booking=BookingType.SUBSCRIPTION,
        start=start,
        paid_periods=paid,
        tax=GERMAN,
        reference="A-7",
        **kw,  # type: ignore[arg-type]
    )


def _keys(items: list[ExpectedItem]) -> list[tuple[int, str, date]]:
    return [(i.period, i.kind.value, i.day) for i in items]


def test_order_proforma_and_first_invoice_carry_the_seed_004_sums() -> None:
    contract = _satellite(3)
    offer = initial_draft(contract, DocumentKind.PROFORMA, date(2026, 2, 10)).totals()
    assert (offer.tax_basis, offer.tax_total, offer.grand_total, offer.due) == (
        180800,
        34352,
        215152,
        215152,
    )
    [first] = billing_run([contract], date(2026, 3, 1))
    assert first.kind is ItemKind.INVOICE
    assert first.draft is not None
    totals = first.draft.totals()
    assert (totals.grand_total, totals.prepaid, totals.due) == (215152, 215152, 0)
    assert (first.draft.period_start, first.draft.period_end) == (
        date(2026, 3, 1),
        date(2026, 5, 31),
    )


def test_month_three_offers_month_four_and_unpaid_ends_after_month_three() -> None:
    contract = _satellite(3)
    assert _keys(billing_run([contract], date(2026, 4, 30))) == [(0, "invoice", date(2026, 3, 1))]
    items = billing_run([contract], date(2026, 5, 1))
    assert _keys(items) == [(0, "invoice", date(2026, 3, 1)), (3, "proforma", date(2026, 5, 1))]
    offer = items[1].draft
    assert offer is not None
    assert offer.due_date == date(2026, 5, 31)
    assert (offer.period_start, offer.period_end) == (date(2026, 6, 1), date(2026, 6, 30))
    assert offer.totals().grand_total == 39984
    assert _keys(billing_run([contract], date(2026, 6, 1)))[-1] == (3, "end", date(2026, 6, 1))


def test_paid_month_four_is_invoiced_with_nothing_due_and_offers_month_five() -> None:
    items = billing_run([_satellite(4)], date(2026, 6, 1))
    assert _keys(items)[2:] == [(3, "invoice", date(2026, 6, 1)), (4, "proforma", date(2026, 6, 1))]
    invoice = items[2].draft
    assert invoice is not None
    assert (invoice.totals().grand_total, invoice.totals().due) == (39984, 0)


def test_twelve_months_make_nine_monthly_invoices_and_no_pro_forma_in_month_twelve() -> None:
    items = billing_run([_satellite(12)], date(2027, 3, 1))
    invoices = [i for i in items if i.kind is ItemKind.INVOICE]
    offers = [i for i in items if i.kind is ItemKind.PROFORMA]
    assert len(invoices) == 1 + 9
    assert [o.period for o in offers] == list(range(3, 12))
    assert _keys(items)[-1] == (12, "end", date(2027, 3, 1))
    assert sum(i.draft.totals().grand_total for i in invoices if i.draft) == 215152 + 9 * 39984


def test_not_activated_contract_has_nothing() -> None:
    assert billing_run([_satellite(3, start=None)], date(2026, 6, 1)) == []


def test_voucher_for_two_periods_reduces_the_first_invoice_and_month_four() -> None:
    voucher = Voucher(code="SAT10", kind=VoucherKind.PERCENT, value=Decimal(10), periods=2)
    items = billing_run([_satellite(5, voucher=voucher)], date(2026, 7, 1))
    reduced = [
        (i.period, i.kind.value, i.draft.allowances[0].amount)
        for i in items
        if i.draft and i.draft.allowances
    ]
    # the pro-forma for month four and its invoice carry the same allowance; month five none
    assert reduced == [(0, "invoice", 18080), (3, "proforma", 3360), (3, "invoice", 3360)]
    first = items[0].draft
    assert first is not None
    assert first.totals().grand_total == 193637


def test_reverse_charge_note_and_zero_vat() -> None:
    treatment = tax_treatment(
        Buyer(business=True, country="FR", vat_id="FR40303265045", vat_verified=True), Decimal(19)
    )
    contract = dataclasses.replace(_satellite(3), tax=treatment, language="en")
    [first] = billing_run([contract], date(2026, 3, 1))
    assert first.draft is not None
    assert first.draft.totals().tax_total == 0
    assert first.draft.lines[0].name == "Setup fee"
    assert first.draft.notes == (treatment.note_en,)


def test_in_arrears_hub_subscription_is_invoiced_after_each_period_with_a_charge() -> None:
    product = CATALOGUE.product("hub-remote")
    plan = dataclasses.replace(product.plan("1m"), charging=Charging.IN_ARREARS)
    contract = ContractSnapshot(
        id=1,
        product=product,
        plan=plan,
        booking=BookingType.SUBSCRIPTION,
        start=date(2026, 1, 31),
        tax=GERMAN,
    )
    items = billing_run([contract], date(2026, 3, 31))
    assert _keys(items) == [(0, "invoice", date(2026, 3, 1)), (1, "invoice", date(2026, 3, 31))]
    assert [i.charge for i in items] == [357, 357]
    assert items[0].draft is not None
    assert items[0].draft.due_date == date(2026, 3, 15)


def test_single_licence_runs_one_period_then_ends() -> None:
    product = CATALOGUE.product("plant-monitoring")
    contract = ContractSnapshot(
        id=2,
        product=product,
        plan=product.plan("365d"),
        booking=BookingType.SINGLE,
        start=date(2026, 3, 1),
        paid_periods=1,
        tax=GERMAN,
        power_w=28000,
    )
    items = billing_run([contract], date(2027, 3, 1))
    assert _keys(items) == [(0, "invoice", date(2026, 3, 1)), (1, "end", date(2027, 3, 1))]
    assert items[0].draft is not None
    assert items[0].draft.lines[0].net == 8900


def test_next_event_day() -> None:
    contract = _satellite(4)
    assert next_event_day(contract, date(2026, 2, 1)) == date(2026, 3, 1)
    assert next_event_day(contract, date(2026, 3, 1)) == date(2026, 4, 1)
    assert next_event_day(contract, date(2027, 2, 28)) == date(2027, 3, 1)
    assert next_event_day(contract, date(2027, 3, 1)) is None


def test_existing_items_are_not_built_again_but_ends_always_come_back() -> None:
    contract = _satellite(3)
    existing = {(7, 0, "invoice"), (7, 3, "proforma")}
    assert billing_run([contract], date(2026, 5, 1), existing) == []
    assert _keys(billing_run([contract], date(2026, 6, 1), existing)) == [
        (3, "end", date(2026, 6, 1))
    ]
