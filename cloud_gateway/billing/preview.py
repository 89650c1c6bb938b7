"""The whole life of one prepaid contract, computed in advance (dry run, pure).

The preview drives the same pure core the billing run uses (:func:`billing_run`,
:func:`initial_draft`, :func:`~cloud_gateway.billing.termination.terminate`) through the
contract's event days, with the customer paying each pro-forma at once up to month
``paid_months``. With ``overdraft`` the pro-formas after that are settled from the payment
account (special extension, R-BIL-11), and the balance ends negative by what is still owed.
``terminate`` ends the service early at the start of that local day (at once: the day is the
first unused one, refunded day-precise; else at the end of the period holding the day).

Nothing is stored: it needs no database (``cloud-gateway contracts preview``, the portal's
preview before ordering).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from cloud_gateway.billing.catalogue import BookingType, Charging, Product
from cloud_gateway.billing.documents import Draft
from cloud_gateway.billing.errors import BillingError
from cloud_gateway.billing.money import VatCategory, format_amount
from cloud_gateway.billing.pricing import Buyer, TaxTreatment, tax_treatment
from cloud_gateway.billing.rendering.view import DocumentKind
from cloud_gateway.billing.run import (
    ContractSnapshot,
    ItemKind,
    billing_run,
    initial_draft,
    next_event_day,
)
from cloud_gateway.billing.termination import terminate as termination_of

if TYPE_CHECKING:
    from cloud_gateway.billing.catalogue import CatalogueSet
    from cloud_gateway.config import BillingConfig

__all__ = ["ContractPreview", "PreviewDocument", "preview_contract", "preview_terms"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PreviewDocument:
    """One document the contract will produce."""

    kind: DocumentKind
    day: date
    first: date | None
    last: date | None
    net: int
    vat: int
    gross: int
    due: int
    """What the customer is asked to pay with it (pro-formas; invoices are prepaid, credit notes
    go to the payment account)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "type": self.kind.value,
            "date": self.day.isoformat(),
            "period": [
                self.first.isoformat() if self.first else None,
                self.last.isoformat() if self.last else None,
            ],
            "net": format_amount(self.net),
            "vat": format_amount(self.vat),
            "gross": format_amount(self.gross),
            "due": format_amount(self.due),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ContractPreview:
    """Service days, documents and the payment account's balance at the end."""

    start: date
    end: date
    documents: tuple[PreviewDocument, ...]
    balance: int
    journal: tuple[tuple[str, int], ...] = field(default=())
    """Payment-account entries ``(kind, signed cents)`` in order."""

    def as_json(self) -> dict[str, Any]:
        """The one JSON object of ``cloud-gateway contracts preview``."""
        return {
            "service": {"start": self.start.isoformat(), "end": self.end.isoformat()},
            "documents": [d.as_json() for d in self.documents],
            "balance": format_amount(self.balance),
        }


def _document(draft: Draft) -> PreviewDocument:
    totals = draft.totals()
    return PreviewDocument(
        kind=draft.kind,
        day=draft.issue_date,
        first=draft.period_start,
        last=draft.period_end,
        net=totals.tax_basis,
        vat=totals.tax_total,
        gross=totals.grand_total,
        due=totals.due if draft.kind is DocumentKind.PROFORMA else 0,
    )


def preview_contract(
    product: Product,
    plan: str,
    start: date,
    *,
    tax: TaxTreatment,
    paid_months: int | None = None,
    terminate: date | None = None,
    at_once: bool = False,
    overdraft: bool = False,
    language: str = "de",
) -> ContractPreview:
    """The life of a contract of ``product``/``plan`` activated on ``start``."""
    chosen = product.plan(plan)
    paid = _paid_months(product, paid_months, overdraft=overdraft)
    if chosen.charging is not Charging.PREPAID:
        raise BillingError(f"{product.code}: the preview covers prepaid plans")
    if terminate is not None and terminate < start:
        raise BillingError("the termination day lies before the start")
    c = ContractSnapshot(
        id=1, product=product, plan=chosen, booking=BookingType.SUBSCRIPTION, start=start,
        paid_periods=product.min_periods, tax=tax, language=language,
    )  # fmt: skip
    documents: list[PreviewDocument] = []
    journal: list[tuple[str, int]] = []

    def settle(gross: int, period: int) -> bool:
        if period < paid:
            journal.extend((("payment", gross), ("charge", -gross)))
            return True
        if overdraft:
            journal.append(("charge", -gross))
            return True
        return False

    offer = initial_draft(c, DocumentKind.PROFORMA, start)
    documents.append(_document(offer))
    settle(offer.totals().grand_total, product.min_periods - 1)
    existing: set[tuple[int, int, str]] = set()
    settled: dict[int, int] = {}
    day: date | None = start
    end: date | None = None
    while day is not None and end is None and (terminate is None or day <= terminate):
        for item in billing_run([c], day, existing):
            if item.kind is ItemKind.END:
                end = item.day - timedelta(days=1)
                break
            if item.draft is None:
                continue
            existing.add(item.key)
            documents.append(_document(item.draft))
            if item.kind is ItemKind.PROFORMA:
                gross = item.draft.totals().grand_total
                if settle(gross, item.period):
                    settled[item.period] = gross
                    c = dataclasses.replace(c, paid_periods=c.paid_periods + 1)
        day = next_event_day(c, day)
    if end is None and terminate is not None:
        stop = termination_of(c, terminate, at_once=at_once)
        end = stop.end
        if stop.credit_note is not None:
            note = _document(stop.credit_note)
            documents.append(note)
            journal.append(("credit", note.gross))
        ahead = sum(g for p, g in settled.items() if p >= stop.ahead_from)
        if ahead:
            journal.append(("credit", ahead))
    if end is None:
        raise BillingError("the contract has no end")  # open-ended plans are not previewed
    return ContractPreview(
        start=start,
        end=end,
        documents=tuple(documents),
        balance=sum(amount for _, amount in journal),
        journal=tuple(journal),
    )


def _paid_months(product: Product, paid_months: int | None, *, overdraft: bool) -> int:
    maximum = product.max_periods
    paid = maximum if paid_months is None else paid_months
    if not 0 <= paid <= (maximum or paid):
        raise BillingError(f"paid months must be between 0 and {maximum}")
    if paid < product.min_periods and not overdraft:
        raise BillingError(
            f"the first pro-forma covers {product.min_periods} months: without payment "
            "(or --overdraft) the service never starts"
        )
    return paid


def preview_terms(
    catalogues: CatalogueSet, config: BillingConfig, product: str, start: date
) -> tuple[Product, TaxTreatment]:
    """What a preview (:func:`preview_contract`) computes with:
    the product of the catalogue in force on ``start`` and the VAT of a consumer in the
    seller's country."""
    found = catalogues.effective(start).product(product)
    tax = tax_treatment(
        Buyer(business=False, country=config.seller_country), found.vat_rate, config.seller_country
    )
    if tax.category is not VatCategory.STANDARD:
        raise BillingError("the preview assumes the seller's VAT")
    return found, tax
