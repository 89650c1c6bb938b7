"""The repair quote as a PDF page (German or English), drawn with reportlab like the documents.

A quote is an offer, not a tax document: it has no number from a billing range and no
e-invoice XML. It names the repair order, the device, the work quoted, net, VAT and gross.
"""

from __future__ import annotations

import io
from typing import Final

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from cloud_gateway.billing.rendering.labels import labels_for
from cloud_gateway.billing.rendering.pdfcanvas import FONT, draw_text, register_fonts
from cloud_gateway.billing.rendering.view import Party
from cloud_gateway.localdays import local_date
from cloud_gateway.support.model import RepairOrder
from cloud_gateway.support.service import quote_gross, repair_number

__all__ = ["render_quote"]

_WIDTH, _HEIGHT = A4
_LEFT: Final = 22 * mm
_RIGHT: Final = _WIDTH - 18 * mm

_LABELS: Final = {
    "de": {
        "title": "Angebot zum Reparaturauftrag",
        "customer": "Kunde",
        "device": "Gerät",
        "serial": "Seriennummer",
        "fault": "Fehlerbild",
        "work": "Leistung",
        "net": "Nettobetrag",
        "vat": "Umsatzsteuer 19 %",
        "gross": "Gesamtbetrag",
        "date": "Datum",
        "terms": "Nach Annahme im Kundenportal erhalten Sie eine Proforma-Rechnung zur Zahlung "
        "per Überweisung. Die Reparatur beginnt nach Zahlungseingang.",
    },
    "en": {
        "title": "Quote for repair order",
        "customer": "Customer",
        "device": "Device",
        "serial": "Serial number",
        "fault": "Fault",
        "work": "Work",
        "net": "Net amount",
        "vat": "VAT 19 %",
        "gross": "Total",
        "date": "Date",
        "terms": "After you accept it in the customer portal you receive a pro-forma invoice "
        "to pay by bank transfer. The repair starts when the payment has arrived.",
    },
}


def render_quote(repair: RepairOrder, seller: Party, language: str) -> bytes:
    """The quote's PDF bytes (same input, same bytes: reportlab's invariant mode)."""
    if repair.quote_net is None:
        raise ValueError(f"repair order {repair.id} has no quote")
    register_fonts()
    words = _LABELS["en" if language == "en" else "de"]
    money = labels_for(language)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True, pageCompression=1)
    title = f"{words['title']} {repair_number(repair.id)}"
    canvas.setTitle(title)
    canvas.setAuthor(seller.name)
    y = _HEIGHT - 25 * mm
    draw_text(canvas, _LEFT, y, seller.name, size=10, bold=True)
    y -= 5 * mm
    address = ", ".join(p for p in (seller.street, f"{seller.postcode} {seller.city}".strip()) if p)
    draw_text(canvas, _LEFT, y, address, size=8, bold=False)
    y -= 18 * mm
    draw_text(canvas, _LEFT, y, title, size=14, bold=True)
    y -= 10 * mm
    facts = (
        (words["date"], money.date(local_date(repair.updated_at))),
        (words["customer"], f"{repair.contact_name} <{repair.contact_email}>"),
        (words["device"], repair.device_model or "-"),
        (words["serial"], repair.device_serial),
    )
    for label, value in facts:
        draw_text(canvas, _LEFT, y, f"{label}:", size=9, bold=True)
        draw_text(canvas, _LEFT + 35 * mm, y, value, size=9, bold=False)
        y -= 5.5 * mm
    for label, text in ((words["fault"], repair.fault), (words["work"], repair.quote_text)):
        y -= 4 * mm
        draw_text(canvas, _LEFT, y, label, size=10, bold=True)
        for line in simpleSplit(text, FONT, 9, _RIGHT - _LEFT)[:12]:
            y -= 5 * mm
            draw_text(canvas, _LEFT, y, line, size=9, bold=False)
    y -= 12 * mm
    gross = quote_gross(repair.quote_net)
    sums = (
        (words["net"], repair.quote_net, False),
        (words["vat"], gross - repair.quote_net, False),
        (words["gross"], gross, True),
    )
    for label, amount, bold in sums:
        draw_text(canvas, _RIGHT - 70 * mm, y, label, size=10, bold=bold)
        draw_text(canvas, _RIGHT, y, money.money(amount), size=10, bold=bold, right=True)
        y -= 6 * mm
    y -= 8 * mm
    for line in simpleSplit(words["terms"], FONT, 8, _RIGHT - _LEFT):
        draw_text(canvas, _LEFT, y, line, size=8, bold=False)
        y -= 4.5 * mm
    canvas.save()
    return buffer.getvalue()
