"""Prices, vouchers and the VAT treatment of a customer (pure).

Vouchers are document-level allowances applied before tax (EN 16931 BG-20), so the VAT per
rate is computed on the reduced totals. Reverse charge (category AE, 0 %) applies to business
customers in another EU member state whose VAT ID the VIES check confirmed; everybody else pays
German VAT at the product's rate. The reason is printed on the document as a note.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from cloud_gateway.billing.errors import VoucherError
from cloud_gateway.billing.money import VatCategory, cents, from_cents

__all__ = [
    "EU_COUNTRIES",
    "UNKNOWN_INVERTER_W",
    "Buyer",
    "TaxTreatment",
    "Voucher",
    "VoucherKind",
    "plant_power_w",
    "tax_treatment",
]

#: an inverter of unknown type counts with this nominal power (SiteLink rule)
UNKNOWN_INVERTER_W = 20_000

#: EU member states (ISO 3166-1 alpha-2); Greece's VAT prefix "EL" is mapped to "GR" by callers
EU_COUNTRIES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)

_REVERSE_CHARGE_NOTE = {
    "de": "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge, § 13b UStG, "
    "Art. 196 MwStSystRL). USt-IdNr. des Leistungsempfängers: {vat_id}",
    "en": "Reverse charge: VAT is due by the recipient (Art. 196 Council Directive "
    "2006/112/EC). Recipient's VAT ID: {vat_id}",
}


def plant_power_w(inverters: Iterable[int | None]) -> int:
    """Total nominal power of a plant; an inverter of unknown type (``None``) counts 20,000 W."""
    return sum(UNKNOWN_INVERTER_W if w is None else w for w in inverters)


@dataclass(frozen=True, slots=True, kw_only=True)
class Buyer:
    """What the VAT treatment depends on (from the account's customer data)."""

    business: bool
    country: str
    vat_id: str = ""
    #: the VIES check confirmed ``vat_id`` (``VatState.VALID``)
    vat_verified: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class TaxTreatment:
    """The VAT category and rate of a customer's lines, and the note explaining it."""

    category: VatCategory
    rate: Decimal
    #: document notes, ``{"de": ..., "en": ...}``; empty for plain German VAT
    note_de: str = ""
    note_en: str = ""

    def note(self, language: str) -> str:
        return self.note_en if language == "en" else self.note_de


def tax_treatment(buyer: Buyer, product_rate: Decimal, seller_country: str = "DE") -> TaxTreatment:
    """Reverse charge for verified EU businesses outside the seller's country, else German VAT."""
    if (
        buyer.business
        and buyer.vat_verified
        and buyer.vat_id
        and buyer.country != seller_country
        and buyer.country in EU_COUNTRIES
    ):
        return TaxTreatment(
            category=VatCategory.REVERSE_CHARGE,
            rate=Decimal(0),
            note_de=_REVERSE_CHARGE_NOTE["de"].format(vat_id=buyer.vat_id),
            note_en=_REVERSE_CHARGE_NOTE["en"].format(vat_id=buyer.vat_id),
        )
    return TaxTreatment(category=VatCategory.STANDARD, rate=product_rate)


class VoucherKind(StrEnum):
    """Percentage of the net amount, or a fixed net amount."""

    PERCENT = "percent"
    FIXED = "fixed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Voucher:
    """A voucher as issued by the operator."""

    code: str
    kind: VoucherKind
    #: percent (``Decimal("10")``) or fixed net amount in cents (``Decimal(500)``)
    value: Decimal
    #: how many billing periods it applies to; 1 = once (the first document only)
    periods: int = 1
    #: product codes it is valid for; empty: every product
    products: frozenset[str] = frozenset()
    #: last day it can be redeemed (Europe/Berlin), ``None``: no expiry
    valid_until: date | None = None
    #: how often it can be redeemed in all, ``None``: unlimited
    max_uses: int | None = None

    def __post_init__(self) -> None:
        if self.periods < 1:
            raise ValueError("a voucher applies to at least one period")
        if self.value <= 0 or (self.kind is VoucherKind.PERCENT and self.value > 100):
            raise ValueError("voucher value out of range")

    def check_redeemable(self, *, product_code: str, day: date, uses: int) -> None:
        """Raise :class:`VoucherError` unless it can be redeemed for this product today."""
        if self.products and product_code not in self.products:
            raise VoucherError(f"voucher {self.code} is not valid for {product_code}")
        if self.valid_until is not None and day > self.valid_until:
            raise VoucherError(f"voucher {self.code} expired on {self.valid_until.isoformat()}")
        if self.max_uses is not None and uses >= self.max_uses:
            raise VoucherError(f"voucher {self.code} is used up")

    def discount(self, *, product_code: str, period_index: int, net: int) -> int:
        """The allowance in cents on ``net`` for the ``period_index``-th billed period."""
        if period_index >= self.periods or (self.products and product_code not in self.products):
            return 0
        if self.kind is VoucherKind.PERCENT:
            return min(net, cents(from_cents(net) * self.value / 100))
        return min(net, int(self.value))
