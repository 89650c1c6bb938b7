"""The document types the rendering tests render: one view each, seed-004 figures underneath."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from cloud_gateway.billing.money import VatCategory
from cloud_gateway.billing.rendering.examples import seed004_invoice
from cloud_gateway.billing.rendering.girocode import creditor_reference
from cloud_gateway.billing.rendering.view import Allowance, DocumentKind, DocumentView, Party

__all__ = ["ALL_KINDS", "all_documents"]

SEED004_GROSS = 215152


def invoice(language: str = "de") -> DocumentView:
    return seed004_invoice(language=language)


def credit_note(language: str = "de") -> DocumentView:
    view = seed004_invoice(
        kind=DocumentKind.CREDIT_NOTE, number="GS-2026-000007", language=language
    )
    return replace(
        view,
        issue_date=date(2026, 12, 20),
        preceding_number="RE-2026-000042",
        preceding_date=date(2026, 12, 1),
        payment_reference=None,
        due_date=None,
    )


def proforma(language: str = "de") -> DocumentView:
    return seed004_invoice(kind=DocumentKind.PROFORMA, number="PF-2026-000011", language=language)


def reverse_charge(language: str = "en") -> DocumentView:
    view = seed004_invoice(number="RE-2026-000043", language=language)
    buyer = Party(
        name="Alpenblick Telekom GmbH",
        street="Mariahilfer Straße 1",
        postcode="1060",
        city="Wien",
        country="AT",
        vat_id="ATU12345675",
        customer_number="K-20001",
    )
    lines = tuple(
        replace(line, vat_category=VatCategory.REVERSE_CHARGE, vat_rate=Decimal(0))
        for line in view.lines
    )
    return replace(view, buyer=buyer, lines=lines)


def voucher(language: str = "de") -> DocumentView:
    view = seed004_invoice(number="RE-2026-000044", language=language)
    allowance = Allowance(reason="Gutschein WINTER10 (10 %)", amount=18080)
    return replace(view, allowances=(allowance,))


def prepaid(language: str = "de") -> DocumentView:
    """The first invoice after a paid pro-forma: everything prepaid, 0.00 due."""
    view = seed004_invoice(number="RE-2026-000045", language=language, prepaid=SEED004_GROSS)
    return replace(view, payment_reference=creditor_reference("RE-2026-000045"))


ALL_KINDS = {
    "invoice": invoice,
    "credit_note": credit_note,
    "proforma": proforma,
    "reverse_charge": reverse_charge,
    "voucher": voucher,
    "prepaid": prepaid,
}


def all_documents() -> dict[str, DocumentView]:
    """Every document type, in German and (reverse charge) English."""
    return {name: build() for name, build in ALL_KINDS.items()}
