"""Documents before and after finalisation (pure).

A :class:`Draft` is what the billing run or an order decides; finalising it (in the shell, in
one transaction) gives it a number from its range's gap-free sequence, an ISO 11649 creditor
reference when something is due, the seller and buyer, and freezes it as a
:class:`~cloud_gateway.billing.rendering.view.DocumentView`. Its canonical JSON
(:func:`canonical_bytes`) and the SHA-256 over it are stored; the document never changes again.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import orjson
from stdnum import iso11649
from stdnum.iso7064 import mod_97_10

from cloud_gateway.billing.money import VatCategory
from cloud_gateway.billing.rendering.view import (
    Allowance,
    BankAccount,
    DocumentKind,
    DocumentLine,
    DocumentTotals,
    DocumentView,
    Party,
)

__all__ = [
    "NUMBER_PREFIX",
    "Draft",
    "canonical_bytes",
    "credit_note_for",
    "finalise",
    "format_number",
    "range_key",
    "rf_reference",
    "sha256_hex",
    "signed_total",
    "view_from_canonical",
]

#: number prefixes per range: ``RE-2026-00001``, ``GS-2026-00001``, ``PR-2026-00001``
NUMBER_PREFIX = {
    DocumentKind.INVOICE: "RE",
    DocumentKind.CREDIT_NOTE: "GS",
    DocumentKind.PROFORMA: "PR",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Draft:
    """A document as decided, not yet numbered."""

    kind: DocumentKind
    issue_date: date
    language: str = "de"
    currency: str = "EUR"
    lines: tuple[DocumentLine, ...]
    allowances: tuple[Allowance, ...] = ()
    prepaid: int = 0
    due_date: date | None = None
    period_start: date | None = None
    period_end: date | None = None
    order_reference: str | None = None
    notes: tuple[str, ...] = ()
    preceding_number: str | None = None
    preceding_date: date | None = None

    def view(
        self, *, number: str = "", seller: Party, seller_bank: BankAccount, buyer: Party
    ) -> DocumentView:
        """The document view with these parties (``number`` empty for a preview)."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return DocumentView(
            **fields, number=number, seller=seller, seller_bank=seller_bank, buyer=buyer
        )

    def totals(self) -> DocumentTotals:
        """The totals (they depend only on amounts, categories and rates: computed once each)."""
        return _totals(
            tuple((x.vat_category, x.vat_rate, x.net) for x in self.lines),
            tuple((a.vat_category, a.vat_rate, a.amount) for a in self.allowances),
            self.prepaid,
        )


@functools.lru_cache(maxsize=4096)
def _totals(
    lines: tuple[tuple[VatCategory, Decimal, int], ...],
    allowances: tuple[tuple[VatCategory, Decimal, int], ...],
    prepaid: int,
) -> DocumentTotals:
    view = DocumentView(
        kind=DocumentKind.INVOICE,
        number="",
        issue_date=date.min,
        seller=_NOBODY,
        seller_bank=_NO_BANK,
        buyer=_NOBODY,
        lines=tuple(
            DocumentLine(line_id="", name="", unit_price=net, net=net, vat_category=c, vat_rate=r)
            for c, r, net in lines
        ),
        allowances=tuple(
            Allowance(reason="", amount=a, vat_category=c, vat_rate=r) for c, r, a in allowances
        ),
        prepaid=prepaid,
    )
    return view.totals()


_NOBODY = Party(name="")
_NO_BANK = BankAccount(iban="", holder="")


def range_key(kind: DocumentKind, year: int) -> str:
    """The sequence a document of ``kind`` issued in ``year`` draws its number from."""
    return f"{kind.value}/{year}"


def format_number(kind: DocumentKind, year: int, counter: int) -> str:
    """``RE-2026-00042`` for the 42nd invoice of 2026."""
    return f"{NUMBER_PREFIX[kind]}-{year}-{counter:05d}"


def rf_reference(number: str) -> str:
    """The ISO 11649 creditor reference for a document number (``RF`` + check + body)."""
    body = re.sub(r"[^0-9A-Z]", "", number.upper())
    check = mod_97_10.calc_check_digits(body + "RF")
    reference = f"RF{check}{body}"
    return str(iso11649.validate(reference))


def finalise(
    draft: Draft,
    *,
    number: str,
    seller: Party,
    seller_bank: BankAccount,
    buyer: Party,
    totals: DocumentTotals | None = None,
) -> DocumentView:
    """The finalised view: numbered, with a creditor reference when an amount is due.

    ``totals`` may be passed when already known (they do not depend on number or parties).
    """
    due = (totals or draft.totals()).due
    view = draft.view(number=number, seller=seller, seller_bank=seller_bank, buyer=buyer)
    if view.kind is not DocumentKind.CREDIT_NOTE and due > 0:
        view = dataclasses.replace(view, payment_reference=rf_reference(number))
    return view


def credit_note_for(invoice: DocumentView, issue_date: date, reason: str) -> Draft:
    """A credit note reversing ``invoice`` in full (the only way to correct an invoice)."""
    return Draft(
        kind=DocumentKind.CREDIT_NOTE,
        issue_date=issue_date,
        language=invoice.language,
        currency=invoice.currency,
        lines=invoice.lines,
        allowances=invoice.allowances,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        order_reference=invoice.order_reference,
        notes=(*invoice.notes, reason),
        preceding_number=invoice.number,
        preceding_date=invoice.issue_date,
    )


def signed_total(view: DocumentView) -> int:
    """Gross total with the sign of its effect on what the customer owes (credit notes < 0)."""
    total = view.totals().grand_total
    if view.kind is DocumentKind.CREDIT_NOTE:
        return -total
    if view.kind is DocumentKind.PROFORMA:
        return 0
    return total


def _decimal(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not serialisable: {type(value).__name__}")


def canonical_bytes(view: DocumentView) -> bytes:
    """The canonical JSON of a document: what is stored and hashed.

    Compact UTF-8 JSON, object members in the dataclasses' field order, dates as ISO 8601,
    decimals as strings, enumerations as their values.
    """
    return orjson.dumps(view, default=_decimal)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _date(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(value)


def view_from_canonical(data: bytes) -> DocumentView:
    """Read a stored document back (exact inverse of :func:`canonical_bytes`)."""
    raw = json.loads(data)
    lines = tuple(
        DocumentLine(
            **{
                **line,
                "quantity": Decimal(line["quantity"]),
                "vat_category": VatCategory(line["vat_category"]),
                "vat_rate": Decimal(line["vat_rate"]),
                "period_start": _date(line["period_start"]),
                "period_end": _date(line["period_end"]),
            }
        )
        for line in raw.pop("lines")
    )
    allowances = tuple(
        Allowance(
            **{
                **a,
                "vat_category": VatCategory(a["vat_category"]),
                "vat_rate": Decimal(a["vat_rate"]),
            }
        )
        for a in raw.pop("allowances")
    )
    for key in ("issue_date", "due_date", "preceding_date", "period_start", "period_end"):
        raw[key] = _date(raw[key])
    return DocumentView(
        **{
            **raw,
            "kind": DocumentKind(raw["kind"]),
            "seller": Party(**raw["seller"]),
            "seller_bank": BankAccount(**raw["seller_bank"]),
            "buyer": Party(**raw["buyer"]),
            "lines": lines,
            "allowances": allowances,
            "notes": tuple(raw["notes"]),
        }
    )
