"""The billing run (pure): which documents, journal entries and contract ends should exist.

Input: the contracts (each with its catalogue version's product and plan, how many periods are
paid), and the local day. Output: every item that should exist by then, keyed by
``(contract, period, item kind)``. The shell persists only the missing ones, so running twice
at the same instant creates nothing.

Prepaid plans (seed 004): the first invoice covers the one-time fees and the minimum term,
settled by the order's pro-forma (nothing due). From the last period of the minimum term on,
each period start brings a pro-forma offering the next period (valid until the period's end),
until the maximum term. A paid next period is invoiced at its start (prepaid, nothing due); an
unpaid one ends the contract after the current period. In-arrears plans are invoiced the day
after each period, with the amount due and a journal charge.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from cloud_gateway.billing.catalogue import BookingType, Charging, Plan, Product
from cloud_gateway.billing.documents import Draft
from cloud_gateway.billing.periods import Period, period, period_index
from cloud_gateway.billing.pricing import TaxTreatment, Voucher
from cloud_gateway.billing.rendering.view import Allowance, DocumentKind, DocumentLine
from cloud_gateway.errors import StateError

__all__ = [
    "PAYMENT_TERM",
    "ContractSnapshot",
    "ExpectedItem",
    "ItemKind",
    "billing_run",
    "initial_draft",
    "next_event_day",
    "renewal_draft",
]

#: days to pay an invoice with an amount due
PAYMENT_TERM = timedelta(days=14)


class ItemKind(StrEnum):
    """What the run can produce per contract and period."""

    INVOICE = "invoice"
    PROFORMA = "proforma"
    END = "end"


@dataclass(frozen=True, slots=True, kw_only=True)
class ContractSnapshot:
    """A contract as the run sees it."""

    id: int
    product: Product
    plan: Plan
    booking: BookingType
    #: first local day; ``None`` while not activated
    start: date | None
    #: recurring periods paid so far (prepaid plans), including the minimum term
    paid_periods: int = 0
    tax: TaxTreatment
    language: str = "de"
    currency: str = "EUR"
    power_w: int | None = None
    voucher: Voucher | None = None
    reference: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpectedItem:
    """One item that should exist."""

    contract_id: int
    period: int
    kind: ItemKind
    #: the local day it becomes due
    day: date
    draft: Draft | None = None
    #: journal charge in cents (positive) booked with the document, 0 for none
    charge: int = 0

    @property
    def key(self) -> tuple[int, int, str]:
        return (self.contract_id, self.period, self.kind.value)


def _started(c: ContractSnapshot) -> date:
    """The contract's first day; only started contracts have periods."""
    if c.start is None:
        raise StateError(f"contract {c.id} has no start day")
    return c.start


def _periods(c: ContractSnapshot, index: int) -> Period:
    return period(_started(c), index, c.plan.period_unit, c.plan.period_length)


def _draft(
    c: ContractSnapshot, kind: DocumentKind, first: int, count: int, issue: date, *, initial: bool
) -> Draft:
    """A document over ``count`` periods from ``first`` (one-time fees when ``initial``)."""
    tax = c.tax
    lines: list[DocumentLine] = []
    if initial:
        lines += [
            DocumentLine(
                line_id=str(len(lines) + 1),
                name=fee.name.get(c.language),
                unit_price=fee.net,
                net=fee.net,
                vat_category=tax.category,
                vat_rate=tax.rate,
            )
            for fee in c.product.one_time_fees
        ]
    span = (_periods(c, first), _periods(c, first + count - 1)) if c.start else None
    price = c.plan.price(c.power_w)
    lines.append(
        DocumentLine(
            line_id=str(len(lines) + 1),
            name=c.plan.name.get(c.language),
            description=c.product.name.get(c.language),
            quantity=Decimal(count),
            unit_code=c.plan.period_unit.unit_code if c.plan.period_length == 1 else "C62",
            unit_price=price,
            net=price * count,
            vat_category=tax.category,
            vat_rate=tax.rate,
            period_start=span[0].first if span else None,
            period_end=span[1].last if span else None,
        )
    )
    allowances: tuple[Allowance, ...] = ()
    if c.voucher is not None:
        ordinal = 0 if initial else first - c.product.min_periods + 1
        amount = c.voucher.discount(
            product_code=c.product.code, period_index=ordinal, net=sum(x.net for x in lines)
        )
        if amount:
            label = "Gutschein" if c.language == "de" else "Voucher"
            allowances = (
                Allowance(
                    reason=f"{label} {c.voucher.code}",
                    amount=amount,
                    vat_category=tax.category,
                    vat_rate=tax.rate,
                ),
            )
    note = tax.note(c.language)
    return Draft(
        kind=kind,
        issue_date=issue,
        language=c.language,
        currency=c.currency,
        lines=tuple(lines),
        allowances=allowances,
        period_start=span[0].first if span else None,
        period_end=span[1].last if span else None,
        order_reference=c.reference or None,
        notes=(note,) if note else (),
    )


def _prepaid(draft: Draft) -> Draft:
    return dataclasses.replace(draft, prepaid=draft.totals().grand_total)


def initial_draft(c: ContractSnapshot, kind: DocumentKind, issue: date) -> Draft:
    """Setup fees and the minimum term: the order's pro-forma and the first invoice."""
    draft = _draft(c, kind, 0, c.product.min_periods, issue, initial=True)
    return _prepaid(draft) if kind is DocumentKind.INVOICE else draft


def renewal_draft(c: ContractSnapshot, index: int, issue: date) -> Draft:
    """The pro-forma offering period ``index`` alone (a subscription's next period)."""
    return _draft(c, DocumentKind.PROFORMA, index, 1, issue, initial=False)


def _prepaid_items(
    c: ContractSnapshot, today: date, existing: AbstractSet[tuple[int, int, str]]
) -> Iterator[ExpectedItem]:
    start = _started(c)
    unit, length = c.plan.period_unit, c.plan.period_length
    current = period_index(start, today, unit, length)
    if current is None:
        return
    minimum, maximum = c.product.min_periods, c.product.max_periods
    renews = c.booking is BookingType.SUBSCRIPTION
    if (c.id, 0, ItemKind.INVOICE.value) not in existing:
        yield ExpectedItem(
            contract_id=c.id,
            period=0,
            kind=ItemKind.INVOICE,
            day=start,
            draft=initial_draft(c, DocumentKind.INVOICE, start),
        )
    for p in range(minimum - 1, current + 1):
        this = _periods(c, p)
        if p >= minimum:
            if p >= c.paid_periods or (maximum and p >= maximum) or not renews:
                yield ExpectedItem(contract_id=c.id, period=p, kind=ItemKind.END, day=this.first)
                return
            if (c.id, p, ItemKind.INVOICE.value) not in existing:
                draft = _prepaid(_draft(c, DocumentKind.INVOICE, p, 1, this.first, initial=False))
                yield ExpectedItem(
                    contract_id=c.id, period=p, kind=ItemKind.INVOICE, day=this.first, draft=draft
                )
        offers = renews and (not maximum or p + 1 < maximum)
        if offers and (c.id, p + 1, ItemKind.PROFORMA.value) not in existing:
            offer = _draft(c, DocumentKind.PROFORMA, p + 1, 1, this.first, initial=False)
            offer = dataclasses.replace(offer, due_date=this.last)
            yield ExpectedItem(
                contract_id=c.id, period=p + 1, kind=ItemKind.PROFORMA, day=this.first, draft=offer
            )


def _in_arrears_items(
    c: ContractSnapshot, today: date, existing: AbstractSet[tuple[int, int, str]]
) -> Iterator[ExpectedItem]:
    _started(c)
    maximum = c.product.max_periods
    for p in range(maximum) if maximum else itertools.count():
        day = _periods(c, p).last + timedelta(days=1)
        if day > today:
            return
        if (c.id, p, ItemKind.INVOICE.value) in existing:
            continue
        draft = _draft(c, DocumentKind.INVOICE, p, 1, day, initial=p == 0)
        draft = dataclasses.replace(draft, due_date=day + PAYMENT_TERM)
        gross = draft.totals().grand_total
        yield ExpectedItem(
            contract_id=c.id, period=p, kind=ItemKind.INVOICE, day=day, draft=draft, charge=gross
        )
    end = _periods(c, maximum - 1).last + timedelta(days=1)
    yield ExpectedItem(contract_id=c.id, period=maximum, kind=ItemKind.END, day=end)


def billing_run(
    contracts: Iterable[ContractSnapshot],
    today: date,
    existing: AbstractSet[tuple[int, int, str]] = frozenset(),
) -> list[ExpectedItem]:
    """The items that should exist on local day ``today`` and are not in ``existing``.

    ``existing`` holds the keys of the documents already stored; their drafts are not built
    again. Contract ends are always returned (the shell applies each once: an ended contract
    is no longer active).
    """
    items: list[ExpectedItem] = []
    for contract in contracts:
        if contract.start is None:
            continue
        if contract.plan.charging is Charging.PREPAID:
            found = _prepaid_items(contract, today, existing)
        else:
            found = _in_arrears_items(contract, today, existing)
        items.extend(found)
    return items


def next_event_day(c: ContractSnapshot, today: date) -> date | None:
    """The next local day after ``today`` on which the run has something new for ``c``."""
    if c.start is None:
        return None
    if today < c.start:
        return c.start
    unit, length = c.plan.period_unit, c.plan.period_length
    current = period_index(c.start, today, unit, length)
    if current is None:
        raise StateError(f"contract {c.id}: no period holds {today}")
    following = _periods(c, current).last + timedelta(days=1)
    maximum = c.product.max_periods
    if maximum and current + 1 > maximum:
        return None
    return following
