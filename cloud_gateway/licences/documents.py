"""The contract document sent with the order confirmation (R-MON-11): a one-page PDF.

It names the order, the plants with their licensed power, the term and the total, and the
contract terms in the chosen contract language. Drawn with reportlab (the PDF library of the
money core) using its embedded Vera font, so umlauts and the euro sign print. Pure: bytes in
memory, no file I/O.
"""

from __future__ import annotations

import io
import textwrap
from datetime import date

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from cloud_gateway.billing.rendering.pdfcanvas import draw_text, register_fonts
from cloud_gateway.i18n import Language
from cloud_gateway.licences.quote import Quote
from cloud_gateway.licences.texts import day, money, power

__all__ = ["contract_terms_pdf"]

_TERMS = {
    Language.DE: (
        "Vertragsbedingungen AE SiteLink Monitoring",
        [
            (
                "1. Gegenstand: Überwachung der genannten Photovoltaikanlagen für die gewählte "
                "Nutzungsdauer von 365 bzw. 730 Tagen ab Freischaltung."
            ),
            (
                "2. Preis: nach der Gesamtnennleistung der Wechselrichter der Anlage; "
                "Wechselrichter "
                "unbekannten Typs zählen mit 20.000 W. Unzutreffende Angaben zur Nennleistung "
                "berechtigen zur Nachberechnung."
            ),
            (
                "3. Vertragsschluss: mit unserer Auftragsbestätigung. Die Freischaltung erfolgt "
                "unverzüglich nach Eingang der Zahlung."
            ),
            (
                "4. Leistungserhöhung: überschreitet die Anlage die lizenzierte Leistung, endet "
                "die "
                "Lizenz; der Restwert wird auf eine neue Lizenz ab diesem Tag angerechnet."
            ),
            (
                "5. Ende: die Lizenz endet automatisch mit ihrer Laufzeit; eine Kündigung ist "
                "nicht "
                "nötig. Ab 40 Tagen vor dem Ende kann sie erneuert werden."
            ),
            (
                "Es gelten die Nutzungsbedingungen für AE SiteLink, die Allgemeinen "
                "Geschäftsbedingungen für Dienstleistungen und die Datenschutzerklärung."
            ),
        ],
        ("Bestellung", "Datum", "Anlage", "Leistung", "Nutzungsdauer", "Tage", "Gesamtpreis"),
    ),
    Language.EN: (
        "Contract terms AE SiteLink Monitoring",
        [
            (
                "1. Subject: monitoring of the plants named below for the chosen term of 365 or "
                "730 days from activation."
            ),
            (
                "2. Price: by the total nominal power of the plant's inverters; inverters of "
                "unknown "
                "type count as 20,000 W. Incorrect power information entitles us to charge the "
                "difference."
            ),
            (
                "3. Contract: concluded with our order acknowledgement. Access is activated as "
                "soon "
                "as the payment has arrived."
            ),
            (
                "4. Power increase: when the plant exceeds the licensed power, the licence ends; "
                "its "
                "remaining value is credited against a new licence from that day."
            ),
            (
                "5. End: the licence ends automatically with its term; no cancellation is needed. "
                "It can be renewed from 40 days before its end."
            ),
            (
                "The terms of use for AE SiteLink, the general terms and conditions for services "
                "and "
                "the privacy policy apply."
            ),
        ],
        ("Order", "Date", "Plant", "Power", "Term", "days", "Total price"),
    ),
}


_WITHDRAWAL = (
    "Widerrufsbelehrung",
    [
        (
            "Widerrufsrecht: Sie haben das Recht, binnen vierzehn Tagen ohne Angabe von Gründen "
            "diesen Vertrag zu widerrufen. Die Widerrufsfrist beträgt vierzehn Tage ab dem Tag des "
            "Vertragsabschlusses."
        ),
        (
            "Um Ihr Widerrufsrecht auszuüben, müssen Sie uns mittels einer eindeutigen Erklärung "
            "(z. B. ein mit der Post versandter Brief oder eine E-Mail) über Ihren Entschluss, "
            "diesen Vertrag zu widerrufen, informieren. Zur Wahrung der Widerrufsfrist reicht es "
            "aus, dass Sie die Mitteilung vor Ablauf der Widerrufsfrist absenden."
        ),
        (
            "Folgen des Widerrufs: Wenn Sie diesen Vertrag widerrufen, erstatten wir Ihnen alle "
            "Zahlungen unverzüglich und spätestens binnen vierzehn Tagen ab dem Tag, an dem die "
            "Mitteilung über Ihren Widerruf bei uns eingegangen ist. Haben Sie verlangt, dass die "
            "Dienstleistung während der Widerrufsfrist beginnen soll, zahlen Sie einen "
            "angemessenen Betrag für die bis dahin erbrachte Leistung."
        ),
    ],
)
_BOTTOM = 60.0


class _Page:
    """A text cursor over A4 pages: a new page when the current one is full."""

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas
        self.top = A4[1] - 60
        self.y = self.top

    def line(self, text: str, *, size: float = 9, bold: bool = False, step: float = 13) -> None:
        if self.y < _BOTTOM:
            self.canvas.showPage()
            self.y = self.top
        draw_text(self.canvas, 50, self.y, text, size=size, bold=bold)
        self.y -= step

    def paragraph(self, text: str) -> None:
        for part in textwrap.wrap(text, 100):
            self.line(part)
        self.y -= 5


def contract_terms_pdf(
    *, order_id: int, quote: Quote, language: Language, day_of: date, withdrawal: bool = False
) -> bytes:
    """The contract document of a licence order as PDF bytes; ``withdrawal`` adds the
    Widerrufsbelehrung (German consumers)."""
    register_fonts()
    title, clauses, labels = _TERMS[language]
    order_l, date_l, plant_l, power_l, term_l, days_l, total_l = labels
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setTitle(title)
    page = _Page(canvas)
    page.line(title, size=14, bold=True, step=28)
    draw_text(canvas, 300, page.y, f"{date_l}: {day(language, day_of)}", size=10, bold=False)
    page.line(f"{order_l}: A-{order_id}", size=10, step=24)
    for line in quote.lines:
        text = (
            f"{plant_l}: {line.plant.name} · {power_l}: {power(language, line.plant.power_w)} · "
            f"{term_l}: {line.term.days} {days_l}"
        )
        draw_text(canvas, 545, page.y, money(language, line.net), size=10, bold=False, right=True)
        page.line(text, size=10, step=16)
    page.y -= 6
    draw_text(canvas, 545, page.y, money(language, quote.gross), size=11, bold=True, right=True)
    page.line(total_l, size=11, bold=True, step=30)
    for clause in clauses:
        page.paragraph(clause)
    if withdrawal:
        heading, paragraphs = _WITHDRAWAL
        page.y -= 10
        page.line(heading, size=11, bold=True, step=18)
        for text in paragraphs:
            page.paragraph(text)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
