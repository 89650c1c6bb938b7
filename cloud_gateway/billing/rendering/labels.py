"""Texts and number/date formats of a rendered document, German first, English switchable.

Numbers and dates follow the document language's conventions through ``babel``
(``1.808,00 €`` and ``05.12.2026`` in German, ``€1,808.00`` and ``5 Dec 2026`` in English).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import MappingProxyType
from typing import Final

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

from cloud_gateway.billing.money import from_cents
from cloud_gateway.billing.rendering.errors import IncompleteDocumentError
from cloud_gateway.billing.rendering.view import DocumentKind

__all__ = [
    "LANGUAGES",
    "Labels",
    "labels_for",
]

LANGUAGES: Final = ("de", "en")
_LOCALES: Final = MappingProxyType({"de": "de_DE", "en": "en_GB"})

_TEXTS: Final = MappingProxyType(
    {
        "de": MappingProxyType(
            {
                "title.invoice": "Rechnung",
                "title.credit_note": "Gutschrift",
                "title.proforma": "Proforma-Rechnung",
                "proforma.notice": "Kein Steuerbeleg. Die Rechnung folgt nach Zahlungseingang.",
                "number": "Nummer",
                "issue_date": "Datum",
                "due_date": "Fällig am",
                "period": "Leistungszeitraum",
                "customer_number": "Kundennummer",
                "order_reference": "Auftrag",
                "buyer_vat_id": "USt-IdNr. des Kunden",
                "preceding": "Zur Rechnung",
                "col.pos": "Pos.",
                "col.item": "Leistung",
                "col.quantity": "Menge",
                "col.unit_price": "Einzelpreis",
                "col.vat": "USt.",
                "col.net": "Netto",
                "allowance": "Nachlass",
                "line_total": "Summe der Positionen",
                "tax_basis": "Nettobetrag",
                "vat": "USt. {rate} % auf {basis}",
                "vat_ae": "USt. 0 % (Reverse Charge) auf {basis}",
                "grand_total": "Gesamtbetrag",
                "prepaid": "Bereits bezahlt",
                "due": "Zu zahlen",
                "nothing_due": "Der Betrag ist bereits beglichen.",
                "credited": "Der Betrag wird Ihrem Zahlungskonto gutgeschrieben.",
                "pay_by_transfer": "Bitte überweisen Sie {amount} bis {date} auf das Konto unten.",
                "pay_now": "Bitte überweisen Sie {amount} auf das Konto unten.",
                "payment_reference": "Verwendungszweck (Referenz)",
                "girocode": "GiroCode: mit der Banking-App scannen",
                "payment_terms": "Zahlbar bis {date} ohne Abzug.",
                "payment_terms_now": "Zahlbar sofort ohne Abzug.",
                "reverse_charge": (
                    "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge, "
                    "Art. 196 MwSt-Systemrichtlinie)"
                ),
                "footer.register": "Register",
                "footer.vat_id": "USt-IdNr.",
                "footer.tax_number": "Steuernummer",
                "footer.bank": "Bank",
                "page": "Seite",
            }
        ),
        "en": MappingProxyType(
            {
                "title.invoice": "Invoice",
                "title.credit_note": "Credit note",
                "title.proforma": "Pro-forma invoice",
                "proforma.notice": "Not a tax invoice. The invoice follows once paid.",
                "number": "Number",
                "issue_date": "Date",
                "due_date": "Due date",
                "period": "Service period",
                "customer_number": "Customer number",
                "order_reference": "Order",
                "buyer_vat_id": "Customer VAT ID",
                "preceding": "Corrects invoice",
                "col.pos": "No.",
                "col.item": "Item",
                "col.quantity": "Qty",
                "col.unit_price": "Unit price",
                "col.vat": "VAT",
                "col.net": "Net",
                "allowance": "Allowance",
                "line_total": "Sum of lines",
                "tax_basis": "Net amount",
                "vat": "VAT {rate} % on {basis}",
                "vat_ae": "VAT 0 % (reverse charge) on {basis}",
                "grand_total": "Total",
                "prepaid": "Already paid",
                "due": "Amount due",
                "nothing_due": "This amount has been paid already.",
                "credited": "The amount is credited to your payment account.",
                "pay_by_transfer": "Please transfer {amount} by {date} to the account below.",
                "pay_now": "Please transfer {amount} to the account below.",
                "payment_reference": "Payment reference",
                "girocode": "GiroCode: scan with your banking app",
                "payment_terms": "Payable by {date} without deduction.",
                "payment_terms_now": "Payable immediately without deduction.",
                "reverse_charge": (
                    "Reverse charge: VAT to be accounted for by the recipient "
                    "(Art. 196 Council Directive 2006/112/EC)"
                ),
                "footer.register": "Register",
                "footer.vat_id": "VAT ID",
                "footer.tax_number": "Tax number",
                "footer.bank": "Bank",
                "page": "Page",
            }
        ),
    }
)


class Labels:
    """The texts and formats of one document language."""

    __slots__ = ("_currency", "_locale", "_texts", "language")

    def __init__(self, language: str, currency: str) -> None:
        self.language = language
        self._locale = _LOCALES[language]
        self._texts = _TEXTS[language]
        self._currency = currency

    def __getitem__(self, key: str) -> str:
        return self._texts[key]

    def title(self, kind: DocumentKind) -> str:
        """The document title (Rechnung, Gutschrift, Proforma-Rechnung)."""
        return self._texts[f"title.{kind.value}"]

    def money(self, amount: int) -> str:
        """Cents as a currency amount in the document's language (``1.808,00 €``)."""
        return format_currency(
            from_cents(amount), self._currency, locale=self._locale, decimal_quantization=True
        )

    def plain(self, amount: int) -> str:
        """Cents as a plain number with two places (``1.808,00``)."""
        return format_decimal(from_cents(amount), format="#,##0.00", locale=self._locale)

    def number(self, value: Decimal) -> str:
        """A quantity or rate, without trailing zeros (``1,5``, ``19``)."""
        return format_decimal(value.normalize(), format="#,##0.###", locale=self._locale)

    def date(self, value: dt.date) -> str:
        """A date in the document language (``05.12.2026``, ``5 Dec 2026``)."""
        return format_date(value, format="medium", locale=self._locale)

    def settlement(self, kind: DocumentKind, due: int, due_date: dt.date | None) -> str:
        """How the amount is settled (BT-20): credited, already paid, or payable by a date."""
        if kind is DocumentKind.CREDIT_NOTE:
            return self._texts["credited"]
        if due <= 0:
            return self._texts["nothing_due"]
        if due_date is not None:
            return self._texts["payment_terms"].format(date=self.date(due_date))
        return self._texts["payment_terms_now"]

    def period(self, start: dt.date, end: dt.date) -> str:
        """A date range, joined by an en dash (``01.12.2026 - 28.02.2027`` with the dash)."""
        return f"{self.date(start)} \N{EN DASH} {self.date(end)}"


def labels_for(language: str, currency: str = "EUR") -> Labels:
    """The :class:`Labels` of ``language`` (``de`` or ``en``)."""
    if language not in _TEXTS:
        raise IncompleteDocumentError(f"unsupported document language {language!r} (de or en)")
    return Labels(language, currency)
