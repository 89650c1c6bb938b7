"""The document view: everything a rendered document shows, and nothing else.

The money core builds a :class:`DocumentView` from its own records; the renderers (CII XML,
PDF/A-3, GiroCode) read only this. Amounts are integer cents; totals are derived here, once,
by :func:`~cloud_gateway.billing.money.vat_breakdown` (VAT per rate on totals, BR-CO-17).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from cloud_gateway.billing.money import TaxSubtotal, VatCategory, vat_breakdown

__all__ = [
    "Allowance",
    "BankAccount",
    "DocumentKind",
    "DocumentLine",
    "DocumentTotals",
    "DocumentView",
    "Party",
]


class DocumentKind(StrEnum):
    """The three document types; the value is what storage and the API use."""

    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    PROFORMA = "proforma"

    @property
    def type_code(self) -> str:
        """UNTDID 1001 document type code (BT-3)."""
        return {"invoice": "380", "credit_note": "381", "proforma": "325"}[self.value]


@dataclass(frozen=True, slots=True, kw_only=True)
class BankAccount:
    """Where the customer pays to (BG-17)."""

    iban: str
    bic: str = ""
    bank_name: str = ""
    #: the account holder's name printed in the GiroCode
    holder: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Party:
    """Seller or buyer (BG-4 / BG-7)."""

    name: str
    street: str = ""
    postcode: str = ""
    city: str = ""
    #: ISO 3166-1 alpha-2
    country: str = "DE"
    #: VAT identification number, e.g. ``DE123456789`` (BT-31 / BT-48)
    vat_id: str | None = None
    #: local tax number (BT-32), seller only
    tax_number: str | None = None
    #: commercial register entry, seller only (e.g. "Amtsgericht Leer HRB 12345")
    register: str | None = None
    email: str | None = None
    #: the seller's customer number for the buyer (BT-46), buyer only
    customer_number: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentLine:
    """One invoice line (BG-25); ``net`` is quantity times unit price, rounded to the cent."""

    line_id: str
    name: str
    description: str = ""
    quantity: Decimal = Decimal(1)
    #: UN/ECE rec. 20 unit: ``C62`` piece, ``MON`` month, ``DAY`` day, ``ANN`` year
    unit_code: str = "C62"
    unit_price: int
    net: int
    vat_category: VatCategory = VatCategory.STANDARD
    vat_rate: Decimal = Decimal(19)
    period_start: date | None = None
    period_end: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Allowance:
    """A document-level allowance (BG-20), e.g. a voucher; applied before tax."""

    reason: str
    amount: int
    vat_category: VatCategory = VatCategory.STANDARD
    vat_rate: Decimal = Decimal(19)


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentTotals:
    """BG-22 document totals in cents."""

    line_total: int
    allowance_total: int
    tax_basis: int
    taxes: tuple[TaxSubtotal, ...]
    tax_total: int
    grand_total: int
    prepaid: int
    due: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentView:
    """A document as rendered: invoice, credit note or pro-forma."""

    kind: DocumentKind
    number: str
    issue_date: date
    #: ``de`` or ``en``
    language: str = "de"
    currency: str = "EUR"
    seller: Party
    seller_bank: BankAccount
    buyer: Party
    lines: tuple[DocumentLine, ...]
    allowances: tuple[Allowance, ...] = ()
    #: amount already paid in cents (BT-113), e.g. a first invoice settled by its pro-forma
    prepaid: int = 0
    due_date: date | None = None
    #: structured creditor reference (ISO 11649 "RF…"), printed and put in the GiroCode
    payment_reference: str | None = None
    #: the invoice a credit note corrects (BT-25, BT-26)
    preceding_number: str | None = None
    preceding_date: date | None = None
    #: the service period of the whole document (BG-14)
    period_start: date | None = None
    period_end: date | None = None
    #: order or contract reference shown to the buyer (BT-13)
    order_reference: str | None = None
    #: free-text notes (BT-22), e.g. the reverse-charge reason
    notes: tuple[str, ...] = field(default_factory=tuple)

    def totals(self) -> DocumentTotals:
        """Line total, allowances, VAT per category and rate, grand total, amount due."""
        items = [(line.vat_category, line.vat_rate, line.net) for line in self.lines]
        items += [(a.vat_category, a.vat_rate, -a.amount) for a in self.allowances]
        taxes = vat_breakdown(items)
        line_total = sum(line.net for line in self.lines)
        allowance_total = sum(a.amount for a in self.allowances)
        tax_basis = line_total - allowance_total
        tax_total = sum(t.tax for t in taxes)
        grand_total = tax_basis + tax_total
        return DocumentTotals(
            line_total=line_total,
            allowance_total=allowance_total,
            tax_basis=tax_basis,
            taxes=taxes,
            tax_total=tax_total,
            grand_total=grand_total,
            prepaid=self.prepaid,
            due=grand_total - self.prepaid,
        )
