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

from cloud_gateway.billing.rendering.pdfcanvas import FONT, draw_text, register_fonts
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


def contract_terms_pdf(*, order_id: int, quote: Quote, language: Language, day_of: date) -> bytes:
    """The contract document of a licence order as PDF bytes."""
    register_fonts()
    title, clauses, labels = _TERMS[language]
    order_l, date_l, plant_l, power_l, term_l, days_l, total_l = labels
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setTitle(title)
    _, height = A4
    y = height - 60
    draw_text(canvas, 50, y, title, size=14, bold=True)
    y -= 28
    draw_text(canvas, 50, y, f"{order_l}: A-{order_id}", size=10, bold=False)
    draw_text(canvas, 300, y, f"{date_l}: {day(language, day_of)}", size=10, bold=False)
    y -= 24
    for line in quote.lines:
        text = (
            f"{plant_l}: {line.plant.name} · {power_l}: {power(language, line.plant.power_w)} · "
            f"{term_l}: {line.term.days} {days_l}"
        )
        draw_text(canvas, 50, y, text, size=10, bold=False)
        draw_text(canvas, 545, y, money(language, line.net), size=10, bold=False, right=True)
        y -= 16
    y -= 6
    draw_text(canvas, 50, y, total_l, size=11, bold=True)
    draw_text(canvas, 545, y, money(language, quote.gross), size=11, bold=True, right=True)
    y -= 30
    canvas.setFont(FONT, 9)
    for clause in clauses:
        for part in textwrap.wrap(clause, 100):
            draw_text(canvas, 50, y, part, size=9, bold=False)
            y -= 13
        y -= 5
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
