"""Early termination of a prepaid contract by the supplier (R-BIL-10), pure.

The supplier ends a running contract either **at once** (the given local day is the first one
not served; the rest of the current period is refunded day-precise) or **at the end of the
current period**. What the customer paid and will not use comes back:

- time already invoiced but not served (the rest of the current period at once; the months of
  the minimum term not yet begun) is offset by a credit note correcting the invoice that
  covered it (the first invoice inside the minimum term, else the current month's invoice);
- periods paid ahead (settled pro-formas, not invoiced yet) are credited as paid.

Both go to the payment account. Day-precise: ``unused days / days of the period`` of the
period's net price, rounded half up to the cent; the VAT is computed on the credit note's
totals (21 unused days of a 31-day month at 336.00 = 227.61 net + 43.25 VAT = 270.86).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from cloud_gateway.billing.documents import Draft
from cloud_gateway.billing.money import round_money
from cloud_gateway.billing.periods import period, period_index
from cloud_gateway.billing.rendering.view import DocumentKind, DocumentLine
from cloud_gateway.billing.run import ContractSnapshot
from cloud_gateway.errors import StateError

__all__ = ["Termination", "day_share", "terminate"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Termination:
    """What ending a contract on a day means."""

    end: date
    """The last day of service."""
    current: int
    """The period the termination falls into."""
    credit_note: Draft | None
    """Credit note for invoiced, unused time (its preceding invoice is filled in by the shell)."""
    corrected_period: int
    """The period key of the invoice the credit note corrects (0: the first invoice)."""
    ahead_from: int
    """Settled pro-formas from this period on were paid ahead and are credited in full."""


def day_share(net: int, unused: int, days: int) -> int:
    """``unused`` of ``days`` of ``net`` cents, rounded half up to the cent."""
    if not 0 <= unused <= days or days < 1:
        raise ValueError(f"unused days {unused} outside a period of {days} days")
    return int(round_money(Decimal(net) * unused / days / 100) * 100)


def _texts(language: str) -> tuple[str, str, str]:
    if language == "en":
        return (
            "{n} of {d} days not used",
            "Early termination by the supplier: unused prepaid fees credited",
            "month(s) of the minimum term not begun",
        )
    return (
        "{n} von {d} Tagen nicht genutzt",
        "Vorzeitige Beendigung durch den Anbieter: ungenutzte Vorauszahlung gutgeschrieben",
        "nicht begonnene Monate der Mindestlaufzeit",
    )


def terminate(c: ContractSnapshot, day: date, *, at_once: bool) -> Termination:
    """End ``c`` on local ``day``: at once (``day`` is the first unused day) or at period end."""
    if c.start is None:
        raise StateError(f"contract {c.id} has not started")
    unit, length = c.plan.period_unit, c.plan.period_length
    current = period_index(c.start, day, unit, length)
    if current is None:
        raise StateError(f"contract {c.id} starts {c.start}, after {day}")
    this = period(c.start, current, unit, length)
    minimum = c.product.min_periods
    last_invoiced = max(minimum - 1, current)
    price = c.plan.price(c.power_w)
    per_day, reason, not_begun = _texts(c.language)
    tax = c.tax
    lines: list[DocumentLine] = []
    unused = (this.last - day).days + 1 if at_once else 0
    if unused:
        days = (this.last - this.first).days + 1
        net = day_share(price, unused, days)
        lines.append(
            DocumentLine(
                line_id="1",
                name=c.plan.name.get(c.language),
                description=per_day.format(n=unused, d=days),
                unit_price=net,
                net=net,
                vat_category=tax.category,
                vat_rate=tax.rate,
                period_start=day,
                period_end=this.last,
            )
        )
    months = last_invoiced - current
    if months:
        first = period(c.start, current + 1, unit, length)
        last = period(c.start, last_invoiced, unit, length)
        lines.append(
            DocumentLine(
                line_id=str(len(lines) + 1),
                name=c.plan.name.get(c.language),
                description=not_begun,
                quantity=Decimal(months),
                unit_code=unit.unit_code if length == 1 else "C62",
                unit_price=price,
                net=price * months,
                vat_category=tax.category,
                vat_rate=tax.rate,
                period_start=first.first,
                period_end=last.last,
            )
        )
    note = tax.note(c.language)
    credit_note = (
        Draft(
            kind=DocumentKind.CREDIT_NOTE,
            issue_date=day if at_once else max(day, this.first),
            language=c.language,
            currency=c.currency,
            lines=tuple(lines),
            period_start=lines[0].period_start,
            period_end=lines[-1].period_end,
            order_reference=c.reference or None,
            notes=(*((note,) if note else ()), reason),
        )
        if lines
        else None
    )
    return Termination(
        end=day - timedelta(days=1) if at_once else this.last,
        current=current,
        credit_note=credit_note,
        corrected_period=0 if current < minimum else current,
        ahead_from=last_invoiced + 1,
    )
