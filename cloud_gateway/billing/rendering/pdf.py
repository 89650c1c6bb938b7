"""The human page of a document (A4, German or English), drawn with reportlab's canvas.

Letterhead, buyer address and facts, title, lines table, sums with VAT per rate, payment block
with the GiroCode, notes, and the footer with register, VAT ID and bank on every page. The
canvas runs in reportlab's invariant mode, so the same view gives the same bytes.
"""

from __future__ import annotations

import io
from typing import Final

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from cloud_gateway.billing.money import VatCategory
from cloud_gateway.billing.rendering.labels import Labels, labels_for
from cloud_gateway.billing.rendering.pdfcanvas import (
    FONT,
    add_output_intent,
    draw_qr,
    draw_text,
    register_fonts,
)
from cloud_gateway.billing.rendering.view import DocumentKind, DocumentTotals, DocumentView

__all__ = ["render_page"]

_WIDTH, _HEIGHT = A4
_LEFT: Final = 22 * mm
_RIGHT: Final = _WIDTH - 18 * mm
_BOTTOM: Final = 38 * mm  # the footer sits below
# table columns: right edges (x) of the numeric columns, left edge of the item text
_COL_POS: Final = _LEFT
_COL_ITEM: Final = _LEFT + 11 * mm
_COL_QTY: Final = _LEFT + 107 * mm
_COL_PRICE: Final = _LEFT + 132 * mm
_COL_VAT: Final = _LEFT + 146 * mm
_COL_NET: Final = _RIGHT
_QR_SIZE: Final = 32 * mm


def render_page(
    view: DocumentView, qr: segno.QRCode | None, *, output_intent: bool = True
) -> bytes:
    """The PDF page(s) of ``view``, not yet PDF/A-3; ``qr`` is drawn when given.

    ``output_intent=False`` leaves out the sRGB output intent PDF/A needs: the bare page the
    benchmark compares with.
    """
    register_fonts()
    labels = labels_for(view.language, view.currency)
    buffer = io.BytesIO()
    canvas = Canvas(
        buffer,
        pagesize=A4,
        invariant=True,
        pageCompression=1,
        pdfVersion=(1, 7),
        initialFontName=FONT,  # type: ignore[arg-type]  # the stubs say float; never Helvetica
        initialFontSize=9,
    )
    title = f"{labels.title(view.kind)} {view.number}"
    canvas.setTitle(title)
    canvas.setAuthor(view.seller.name)
    canvas.setSubject(f"{title} {view.buyer.name}")
    canvas.setCreator("cloud_gateway billing")
    if output_intent:
        add_output_intent(canvas)
    _Page(canvas, view, labels, qr).draw()
    canvas.save()
    return buffer.getvalue()


class _Page:
    """Draws one document top-down; :meth:`_need` starts a new page when space runs out."""

    def __init__(
        self, canvas: Canvas, view: DocumentView, labels: Labels, qr: segno.QRCode | None
    ) -> None:
        self.c = canvas
        self.view = view
        self.labels = labels
        self.qr = qr
        self.totals: DocumentTotals = view.totals()
        self.y = 0.0
        self.page = 1

    def draw(self) -> None:
        self._letterhead()
        self._address_and_facts()
        self._title()
        self._lines()
        self._sums()
        self._payment()
        self._notes()
        self._footer()

    # -- layout helpers ---------------------------------------------------------------------
    def _text(self, x: float, text: str, *, size: float = 9, bold: bool = False) -> None:
        draw_text(self.c, x, self.y, text, size=size, bold=bold)

    def _right(self, x: float, text: str, *, size: float = 9, bold: bool = False) -> None:
        draw_text(self.c, x, self.y, text, size=size, bold=bold, right=True)

    def _need(self, height: float) -> None:
        if self.y - height >= _BOTTOM:
            return
        self._footer()
        self.c.showPage()
        self.page += 1
        self.y = _HEIGHT - 25 * mm
        self._text(_LEFT, f"{self.labels.title(self.view.kind)} {self.view.number}", bold=True)
        self._right(_RIGHT, f"{self.labels['page']} {self.page}")
        self.y -= 10 * mm

    # -- blocks -----------------------------------------------------------------------------
    def _letterhead(self) -> None:
        seller = self.view.seller
        self.y = _HEIGHT - 22 * mm
        self._text(_LEFT, seller.name, size=15, bold=True)
        self.y -= 5 * mm
        self._text(_LEFT, _one_line(seller.street, f"{seller.postcode} {seller.city}"), size=8)
        if seller.email:
            self._right(_RIGHT, seller.email, size=8)

    def _address_and_facts(self) -> None:
        view, labels, buyer = self.view, self.labels, self.view.buyer
        top = _HEIGHT - 50 * mm
        self.y = top + 6 * mm
        sender = _one_line(view.seller.name, view.seller.street, view.seller.city)
        self._text(_LEFT, sender, size=6.5)
        self.y = top
        for field in (buyer.name, buyer.street, f"{buyer.postcode} {buyer.city}".strip()):
            for row in simpleSplit(field, FONT, 10, 90 * mm):  # the window of a DL envelope
                self._text(_LEFT, row, size=10)
                self.y -= 4.6 * mm
        if buyer.country != view.seller.country:
            self._text(_LEFT, buyer.country, size=10)
        facts = [
            (labels["number"], view.number),
            (labels["issue_date"], labels.date(view.issue_date)),
        ]
        if view.due_date and self.totals.due > 0:
            facts.append((labels["due_date"], labels.date(view.due_date)))
        if view.period_start and view.period_end:
            facts.append((labels["period"], labels.period(view.period_start, view.period_end)))
        if buyer.customer_number:
            facts.append((labels["customer_number"], buyer.customer_number))
        if view.order_reference:
            facts.append((labels["order_reference"], view.order_reference))
        if buyer.vat_id:
            facts.append((labels["buyer_vat_id"], buyer.vat_id))
        if view.preceding_number and view.preceding_date:
            preceding = f"{view.preceding_number} ({labels.date(view.preceding_date)})"
            facts.append((labels["preceding"], preceding))
        self.y = top
        for label, value in facts:
            self._text(_LEFT + 100 * mm, label, size=8)
            self._right(_RIGHT, value, size=8)
            self.y -= 4.2 * mm
        self.y = min(self.y, top - 5 * 4.6 * mm) - 8 * mm

    def _title(self) -> None:
        self._text(
            _LEFT, f"{self.labels.title(self.view.kind)} {self.view.number}", size=15, bold=True
        )
        self.y -= 6 * mm
        if self.view.kind is DocumentKind.PROFORMA:
            self._text(_LEFT, self.labels["proforma.notice"], size=9, bold=True)
            self.y -= 6 * mm
        self.y -= 2 * mm

    def _table_header(self) -> None:
        labels = self.labels
        self._text(_COL_POS, labels["col.pos"], size=8, bold=True)
        self._text(_COL_ITEM, labels["col.item"], size=8, bold=True)
        self._right(_COL_QTY, labels["col.quantity"], size=8, bold=True)
        self._right(_COL_PRICE, labels["col.unit_price"], size=8, bold=True)
        self._right(_COL_VAT, labels["col.vat"], size=8, bold=True)
        self._right(_COL_NET, labels["col.net"], size=8, bold=True)
        self.y -= 2 * mm
        self.c.setLineWidth(0.5)
        self.c.line(_LEFT, self.y, _RIGHT, self.y)
        self.y -= 4.5 * mm

    def _lines(self) -> None:
        labels = self.labels
        self._table_header()
        for line in self.view.lines:
            details = simpleSplit(line.description, FONT, 7.5, _COL_QTY - _COL_ITEM - 25 * mm)
            if line.period_start and line.period_end:
                details.append(labels.period(line.period_start, line.period_end))
            names = simpleSplit(line.name, FONT, 9, _COL_QTY - _COL_ITEM - 18 * mm) or [""]
            self._need((len(names) + len(details)) * 4 * mm + 2 * mm)
            self._text(_COL_POS, line.line_id)
            self._right(_COL_QTY, labels.number(line.quantity))
            self._right(_COL_PRICE, labels.plain(line.unit_price))
            self._right(_COL_VAT, f"{labels.number(line.vat_rate)} %")
            self._right(_COL_NET, labels.plain(line.net))
            for row in names:
                self._text(_COL_ITEM, row)
                self.y -= 4 * mm
            for row in details:
                self._text(_COL_ITEM, row, size=7.5)
                self.y -= 3.6 * mm
            self.y -= 1.5 * mm
        self.c.line(_LEFT, self.y + 2 * mm, _RIGHT, self.y + 2 * mm)
        self.y -= 2 * mm

    def _sum_row(self, label: str, amount: str, *, bold: bool = False) -> None:
        self._need(5 * mm)
        self._right(_COL_PRICE + 14 * mm, label, bold=bold)
        self._right(_COL_NET, amount, bold=bold)
        self.y -= 4.6 * mm

    def _sums(self) -> None:
        labels, totals = self.labels, self.totals
        if self.view.allowances:
            self._sum_row(labels["line_total"], labels.money(totals.line_total))
            for allowance in self.view.allowances:
                reason = f"{labels['allowance']}: {allowance.reason}"
                self._sum_row(reason, "-" + labels.money(allowance.amount))
        self._sum_row(labels["tax_basis"], labels.money(totals.tax_basis))
        for tax in totals.taxes:
            key = "vat_ae" if tax.category is VatCategory.REVERSE_CHARGE else "vat"
            label = labels[key].format(rate=labels.number(tax.rate), basis=labels.money(tax.basis))
            self._sum_row(label, labels.money(tax.tax))
        self._sum_row(labels["grand_total"], labels.money(totals.grand_total), bold=True)
        if totals.prepaid:
            self._sum_row(labels["prepaid"], "-" + labels.money(totals.prepaid))
            self._sum_row(labels["due"], labels.money(totals.due), bold=True)
        self.y -= 4 * mm

    def _payment(self) -> None:
        view, labels, due = self.view, self.labels, self.totals.due
        if view.kind is DocumentKind.CREDIT_NOTE or due <= 0:
            self._need(6 * mm)
            self._text(_LEFT, labels.settlement(view.kind, due, view.due_date))
            self.y -= 8 * mm
            return
        height = _QR_SIZE + 8 * mm if self.qr is not None else 22 * mm
        self._need(height)
        top = self.y
        amount = labels.money(due)
        if view.due_date:
            request = labels["pay_by_transfer"].format(
                amount=amount, date=labels.date(view.due_date)
            )
        else:
            request = labels["pay_now"].format(amount=amount)
        text_width = _RIGHT - _LEFT - _QR_SIZE - 10 * mm
        for row in simpleSplit(request, FONT, 9, text_width):
            self._text(_LEFT, row)
            self.y -= 4.6 * mm
        bank = view.seller_bank
        rows = [
            ("IBAN", _grouped(bank.iban)),
            ("BIC", bank.bic),
            (labels["payment_reference"], view.payment_reference or view.number),
        ]
        for label, value in rows:
            if value:
                self._text(_LEFT, label, size=8)
                self._text(_LEFT + 48 * mm, value, size=9, bold=True)
                self.y -= 4.6 * mm
        if self.qr is not None:
            draw_qr(self.c, self.qr, _RIGHT - _QR_SIZE, top - _QR_SIZE + 3 * mm, _QR_SIZE)
            self.c.setFont(FONT, 6.5)
            self.c.drawRightString(_RIGHT, top - _QR_SIZE, labels["girocode"])
        self.y = min(self.y, top - _QR_SIZE) - 6 * mm

    def _notes(self) -> None:
        notes = list(self.view.notes)
        if any(t.category is VatCategory.REVERSE_CHARGE for t in self.totals.taxes):
            notes.insert(0, self.labels["reverse_charge"])
        for note in notes:
            for row in simpleSplit(note, FONT, 8.5, _RIGHT - _LEFT):
                self._need(5 * mm)
                self._text(_LEFT, row, size=8.5)
                self.y -= 4.2 * mm
            self.y -= 1.5 * mm

    def _footer(self) -> None:
        seller, bank, labels = self.view.seller, self.view.seller_bank, self.labels
        columns = [
            [seller.name, seller.street, f"{seller.postcode} {seller.city}", seller.email or ""],
            [
                f"{labels['footer.register']}: {seller.register}" if seller.register else "",
                f"{labels['footer.vat_id']}: {seller.vat_id}" if seller.vat_id else "",
                f"{labels['footer.tax_number']}: {seller.tax_number}" if seller.tax_number else "",
            ],
            [
                f"{labels['footer.bank']}: {bank.bank_name}" if bank.bank_name else "",
                f"IBAN {_grouped(bank.iban)}",
                f"BIC {bank.bic}" if bank.bic else "",
            ],
        ]
        self.c.setLineWidth(0.3)
        self.c.line(_LEFT, 30 * mm, _RIGHT, 30 * mm)
        self.c.setFont(FONT, 6.5)
        width = (_RIGHT - _LEFT) / len(columns)
        for index, column in enumerate(columns):
            y = 26 * mm
            for row in (r for r in column if r):
                self.c.drawString(_LEFT + index * width, y, row)
                y -= 3 * mm


def _grouped(iban: str) -> str:
    compact = iban.replace(" ", "")
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def _one_line(*parts: str) -> str:
    return " · ".join(p.strip() for p in parts if p and p.strip())
