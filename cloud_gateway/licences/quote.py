"""What monitoring licences cost (pure): tiers by plant power, VAT per rate on the total.

Seed 002 §11-14, R-MON-10/13/14:

- a licence runs 365 or 730 days; its price is the catalogue tier of the plant's total nominal
  power, where an inverter of unknown type counts 20,000 W (:func:`plant_power_w`);
- several plants in one order: one line per plant, VAT computed once per rate on the total
  (EN 16931 BR-CO-17), never per line;
- after a power increase the remaining value of the ended licence is credited, day-precise and
  rounded half-up to the cent (:func:`credit_cents`).

Everything is integer cents; ``Decimal`` only in between.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from cloud_gateway.billing.catalogue import Family, Product
from cloud_gateway.billing.money import TaxSubtotal, VatCategory, cents, from_cents, vat_breakdown
from cloud_gateway.billing.pricing import TaxTreatment, plant_power_w
from cloud_gateway.entitlements.plant_rules import Credit
from cloud_gateway.licences.errors import QuoteError

__all__ = [
    "LICENCE_PRODUCT",
    "LicenceTerm",
    "PlantPower",
    "Quote",
    "QuoteLine",
    "credit_cents",
    "parse_watts",
    "quote",
    "standard_tax",
]

#: the catalogue product every monitoring licence is sold as
LICENCE_PRODUCT = "plant-monitoring"


class LicenceTerm(StrEnum):
    """The two runtimes of a licence; the value is the catalogue plan code."""

    DAYS_365 = "365d"
    DAYS_730 = "730d"

    @property
    def days(self) -> int:
        return 365 if self is LicenceTerm.DAYS_365 else 730

    @classmethod
    def parse(cls, raw: object) -> LicenceTerm:
        """``"365"``, ``"365d"`` or ``365`` (730 alike); else a :class:`QuoteError`."""
        text = str(raw).strip().removesuffix("d")
        for term in cls:
            if text == str(term.days):
                return term
        raise QuoteError(f"a licence runs 365 or 730 days, not {raw!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class PlantPower:
    """A plant as the price sees it: its inverters' nominal powers (``None``: unknown type)."""

    plant_id: int
    name: str
    inverters: tuple[int | None, ...]

    @property
    def power_w(self) -> int:
        """Total nominal power; unknown inverters at 20,000 W."""
        return plant_power_w(self.inverters)

    @property
    def unknown_inverters(self) -> int:
        """How many inverters count with the assumed 20,000 W."""
        return sum(1 for w in self.inverters if w is None)


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteLine:
    """One plant's licence in a quote."""

    plant: PlantPower
    term: LicenceTerm
    net: int
    """Net price of the tier in cents."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Quote:
    """The price of an order of licences, as shown before "Jetzt kostenpflichtig bestellen"."""

    lines: tuple[QuoteLine, ...]
    tax: tuple[TaxSubtotal, ...]
    credit: int = 0
    """Remaining value of ended licences credited against the total (cents, gross)."""

    @property
    def net(self) -> int:
        return sum(line.net for line in self.lines)

    @property
    def vat(self) -> int:
        return sum(t.tax for t in self.tax)

    @property
    def gross(self) -> int:
        return self.net + self.vat

    @property
    def due(self) -> int:
        """What is left to pay after the credit (never below zero; the rest stays as credit)."""
        return max(0, self.gross - self.credit)


def quote(
    product: Product,
    plants: Sequence[PlantPower],
    term: LicenceTerm,
    tax: TaxTreatment,
    *,
    credit: int = 0,
) -> Quote:
    """Price ``term`` licences for ``plants`` (at least one, each once) under ``tax``."""
    if product.family is not Family.PLANT_LICENCE:
        raise QuoteError(f"{product.code} is not a plant licence")
    if not plants:
        raise QuoteError("choose at least one plant")
    ids = [p.plant_id for p in plants]
    if len(set(ids)) != len(ids):
        raise QuoteError("a plant can only be licensed once per order")
    if credit < 0:
        raise QuoteError("a credit cannot be negative")
    empty = [p.name for p in plants if not p.inverters]
    if empty:
        raise QuoteError(f"no inverters to monitor in {', '.join(empty)}")
    plan = product.plan(term.value)
    lines = tuple(QuoteLine(plant=p, term=term, net=plan.price(p.power_w)) for p in plants)
    subtotals = vat_breakdown((tax.category, tax.rate, line.net) for line in lines)
    return Quote(lines=lines, tax=subtotals, credit=credit)


def credit_cents(credit: Credit, paid_gross: int) -> int:
    """The remaining value of an ended licence that cost ``paid_gross`` cents, to the cent.

    Remaining days over booked days, rounded half-up (:meth:`Credit.value`).
    """
    if paid_gross < 0:
        raise QuoteError("a paid amount cannot be negative")
    return cents(credit.value(from_cents(paid_gross)))


def parse_watts(raw: str) -> list[int | None]:
    """Inverters to add as typed: ``"5000, ,3000"`` -> ``[5000, None, 3000]`` (empty: unknown
    type); a grouping dot is allowed (``5.000``); anything else is a :class:`QuoteError`."""
    out: list[int | None] = []
    for part in raw.split(","):
        text = part.strip().replace(".", "")
        if not text:
            out.append(None)
            continue
        if not text.isascii() or not text.isdigit() or not 0 < int(text) < 10_000_000:
            raise QuoteError(f"not a power in watts: {part!r}")
        out.append(int(text))
    return out


def standard_tax(product: Product) -> TaxTreatment:
    """German VAT at the product's rate (what a price preview shows without a buyer)."""
    return TaxTreatment(category=VatCategory.STANDARD, rate=Decimal(product.tax_rate))
