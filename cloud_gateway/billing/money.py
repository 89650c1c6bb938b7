"""Money arithmetic: integer cents in storage, ``Decimal`` with ``ROUND_HALF_UP`` in between.

VAT is computed per rate on the document totals, never per line (EN 16931 BR-CO-17:
the VAT amount of a category and rate is its taxable amount times the rate, rounded to the
cent). Everything here is pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

__all__ = [
    "CENT",
    "TaxSubtotal",
    "VatCategory",
    "cents",
    "format_amount",
    "from_cents",
    "round_money",
    "typed_cents",
    "vat_breakdown",
]

CENT = Decimal("0.01")


class VatCategory(StrEnum):
    """UNTDID 5305 VAT category codes the product uses."""

    STANDARD = "S"
    REVERSE_CHARGE = "AE"  # EU business customer outside Germany, VAT ID verified: 0 %


def round_money(value: Decimal) -> Decimal:
    """Round to the cent, half up (never banker's rounding)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def cents(value: Decimal) -> int:
    """A money amount as integer cents, rounded half up."""
    return int(round_money(value) * 100)


def typed_cents(raw: str) -> int | None:
    """Euros as a person types them (``1234,50`` or ``1234.50``) in cents; None unless a
    finite amount of 0 or more with at most two decimals."""
    try:
        amount = Decimal(raw.strip().replace(",", "."))
        if not amount.is_finite() or amount < 0 or amount != amount.quantize(CENT):
            return None
    except InvalidOperation:  # not a number, or too many digits to quantize
        return None
    return cents(amount)


def from_cents(amount: int) -> Decimal:
    """Integer cents as a ``Decimal`` with two places."""
    return (Decimal(amount) / 100).quantize(CENT)


def format_amount(amount: int) -> str:
    """Cents as the plain two-decimal string used in XML and JSON (``"1808.00"``)."""
    return str(from_cents(amount))


@dataclass(frozen=True, slots=True, kw_only=True)
class TaxSubtotal:
    """The VAT of one category and rate on a document (EN 16931 BG-23)."""

    category: VatCategory
    #: percent, e.g. ``Decimal("19")``; ``Decimal("0")`` for reverse charge
    rate: Decimal
    #: taxable amount in cents (lines minus allowances of this category and rate)
    basis: int
    #: VAT in cents: ``basis * rate / 100`` rounded half up
    tax: int


def vat_breakdown(items: Iterable[tuple[VatCategory, Decimal, int]]) -> tuple[TaxSubtotal, ...]:
    """Group ``(category, rate, net cents)`` items and compute the VAT per group.

    Allowances enter as negative net amounts. Groups come out sorted by category, then rate.
    """
    basis: dict[tuple[VatCategory, Decimal], int] = {}
    for category, rate, net in items:
        key = (category, rate.normalize())
        basis[key] = basis.get(key, 0) + net
    return tuple(
        TaxSubtotal(
            category=category,
            rate=rate,
            basis=amount,
            tax=cents(from_cents(amount) * rate / 100),
        )
        for (category, rate), amount in sorted(basis.items(), key=lambda kv: (kv[0][0], kv[0][1]))
    )
