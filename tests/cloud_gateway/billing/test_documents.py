"""Finalising, creditor references, canonical form and credit notes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from stdnum import iso11649

from cloud_gateway.billing.documents import (
    Draft,
    canonical_bytes,
    credit_note_for,
    finalise,
    format_number,
    rf_reference,
    sha256_hex,
    signed_total,
    view_from_canonical,
)
from cloud_gateway.billing.money import VatCategory
from cloud_gateway.billing.rendering.view import (
    Allowance,
    BankAccount,
    DocumentKind,
    DocumentLine,
    Party,
)

SELLER = Party(name="Cloud GmbH", vat_id="DE123456789", register="HRB 1")
BANK = BankAccount(iban="DE02120300000000202051", holder="Cloud GmbH")
BUYER = Party(name="Kunde", country="AT", vat_id="ATU12345678")


def _draft(nets: list[int], kind: DocumentKind = DocumentKind.INVOICE, prepaid: int = 0) -> Draft:
    return Draft(
        kind=kind,
        issue_date=date(2026, 3, 1),
        lines=tuple(
            DocumentLine(line_id=str(i), name="x", unit_price=n, net=n) for i, n in enumerate(nets)
        ),
        prepaid=prepaid,
    )


def test_numbers_and_references() -> None:
    assert format_number(DocumentKind.INVOICE, 2026, 42) == "RE-2026-00042"
    assert format_number(DocumentKind.CREDIT_NOTE, 2027, 1) == "GS-2027-00001"
    reference = rf_reference("PR-2026-00001")
    assert reference == "RF98PR202600001"
    assert iso11649.is_valid(reference)


def test_reference_only_when_something_is_due() -> None:
    due = finalise(
        _draft([33600]), number="RE-2026-00001", seller=SELLER, seller_bank=BANK, buyer=BUYER
    )
    assert due.payment_reference == rf_reference("RE-2026-00001")
    paid = finalise(
        _draft([33600], prepaid=39984),
        number="RE-2026-00002",
        seller=SELLER,
        seller_bank=BANK,
        buyer=BUYER,
    )
    assert paid.totals().due == 0
    assert paid.payment_reference is None


def test_canonical_form_roundtrips_and_hash_is_stable() -> None:
    draft = Draft(
        kind=DocumentKind.INVOICE,
        issue_date=date(2026, 3, 1),
        lines=(
            DocumentLine(
                line_id="1",
                name="Monat",
                quantity=Decimal(3),
                unit_code="MON",
                unit_price=33600,
                net=100800,
                period_start=date(2026, 3, 1),
                period_end=date(2026, 5, 31),
                vat_category=VatCategory.REVERSE_CHARGE,
                vat_rate=Decimal(0),
            ),
        ),
        allowances=(
            Allowance(
                reason="Gutschein",
                amount=100,
                vat_category=VatCategory.REVERSE_CHARGE,
                vat_rate=Decimal(0),
            ),
        ),
        due_date=date(2026, 3, 15),
        notes=("Reverse Charge",),
    )
    view = finalise(draft, number="RE-2026-00007", seller=SELLER, seller_bank=BANK, buyer=BUYER)
    data = canonical_bytes(view)
    assert view_from_canonical(data) == view
    assert canonical_bytes(view_from_canonical(data)) == data
    assert len(sha256_hex(data)) == 64
    assert b'"number":"RE-2026-00007"' in data


@given(
    st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=8),
    st.integers(0, 10**6),
)
def test_invoice_plus_full_credit_note_nets_to_zero(nets: list[int], allowance: int) -> None:
    draft = Draft(
        **{
            **{f: getattr(_draft(nets), f) for f in Draft.__dataclass_fields__},
            "allowances": (Allowance(reason="v", amount=min(allowance, sum(nets))),),
        }
    )
    invoice = finalise(draft, number="RE-2026-00001", seller=SELLER, seller_bank=BANK, buyer=BUYER)
    credit = finalise(
        credit_note_for(invoice, date(2026, 3, 2), "Storno"),
        number="GS-2026-00001",
        seller=SELLER,
        seller_bank=BANK,
        buyer=BUYER,
    )
    assert credit.preceding_number == "RE-2026-00001"
    assert credit.payment_reference is None
    assert signed_total(invoice) + signed_total(credit) == 0
    assert invoice.totals().taxes == credit.totals().taxes


@given(st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=8))
def test_totals_equal_the_sum_of_lines(nets: list[int]) -> None:
    totals = _draft(nets).totals()
    assert totals.line_total == totals.tax_basis == sum(nets)
