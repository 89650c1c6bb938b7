"""Example documents with the seed-004 figures, for the demo, the benchmark and the tests.

Seed 004 (SMACC prepaid service): a one-time setup fee of 800.00 EUR net and three monthly
fees of 336.00 EUR net, all prepaid: 1,808.00 net, 343.52 VAT (19 %), 2,151.52 gross.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from cloud_gateway.billing.money import VatCategory
from cloud_gateway.billing.rendering.girocode import creditor_reference
from cloud_gateway.billing.rendering.view import (
    BankAccount,
    DocumentKind,
    DocumentLine,
    DocumentView,
    Party,
)

__all__ = ["EXAMPLE_BANK", "EXAMPLE_BUYER", "EXAMPLE_SELLER", "seed004_invoice"]

EXAMPLE_SELLER = Party(
    name="Nordwind Connect GmbH",
    street="Hafenstraße 12",
    postcode="26789",
    city="Leer",
    country="DE",
    vat_id="DE123456788",
    tax_number="61/123/45678",
    register="Amtsgericht Aurich HRB 212345",
    email="billing@nordwind-connect.example",
)

EXAMPLE_BANK = BankAccount(
    iban="DE02120300000000202051",
    bic="BYLADEM1001",
    bank_name="Deutsche Kreditbank",
    holder="Nordwind Connect GmbH",
)

EXAMPLE_BUYER = Party(
    name="Küstenfunk Seeberg KG",
    street="Deichweg 3",
    postcode="26506",
    city="Norden",
    country="DE",
    email="buchhaltung@kuestenfunk.example",
    customer_number="K-10042",
)


def seed004_invoice(
    *,
    kind: DocumentKind = DocumentKind.INVOICE,
    number: str = "RE-2026-000042",
    language: str = "de",
    prepaid: int = 0,
) -> DocumentView:
    """Setup fee plus three prepaid months (seed 004), due in 14 days, with an RF reference."""
    months = (
        (date(2026, 12, 1), date(2026, 12, 31)),
        (date(2027, 1, 1), date(2027, 1, 31)),
        (date(2027, 2, 1), date(2027, 2, 28)),
    )
    lines = [
        DocumentLine(
            line_id="1",
            name="Einrichtungsgebühr Satelliten-Breitband" if language == "de" else "Setup fee",
            unit_price=80000,
            net=80000,
            vat_category=VatCategory.STANDARD,
            vat_rate=Decimal(19),
        )
    ]
    lines += [
        DocumentLine(
            line_id=str(index),
            name="Monatsgebühr Satelliten-Breitband" if language == "de" else "Monthly fee",
            quantity=Decimal(1),
            unit_code="MON",
            unit_price=33600,
            net=33600,
            period_start=start,
            period_end=end,
        )
        for index, (start, end) in enumerate(months, start=2)
    ]
    return DocumentView(
        kind=kind,
        number=number,
        issue_date=date(2026, 12, 1),
        language=language,
        seller=EXAMPLE_SELLER,
        seller_bank=EXAMPLE_BANK,
        buyer=EXAMPLE_BUYER,
        lines=tuple(lines),
        prepaid=prepaid,
        due_date=date(2026, 12, 15),
        payment_reference=creditor_reference(number),
        period_start=months[0][0],
        period_end=months[-1][1],
        order_reference="B-2026-0815",
    )
