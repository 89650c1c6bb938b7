"""The order form of a prepaid service contract (PDF, German or English), pure.

The customer receives it with the order confirmation and sends it back signed; its receipt is
the delivery reservation "Eingang Bestellformular" the back office confirms (R-BIL-4). It lists
the service number, the order, the customer, the site checked by the provider, the resource's
fixed settings, the fees and the term. Drawn in reportlab's invariant mode: the same form gives
the same bytes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Final

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from cloud_gateway.billing.catalogue import Product
from cloud_gateway.billing.rendering.labels import labels_for
from cloud_gateway.billing.rendering.pdfcanvas import draw_text, register_fonts
from cloud_gateway.billing.rendering.view import Party
from cloud_gateway.contracts.provider import Site
from cloud_gateway.contracts.texts import contract_text
from cloud_gateway.i18n import Language

__all__ = ["OrderForm", "render_order_form"]

_LEFT: Final = 22 * mm
_RIGHT: Final = A4[0] - 18 * mm
_LINE: Final = 6 * mm


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderForm:
    """What the order form states."""

    order_id: int
    service_number: str
    ordered_on: date
    customer: Party
    seller: Party
    product: Product
    plan: str
    site: Site
    wished_start: date | None
    language: str = "de"


def render_order_form(form: OrderForm) -> bytes:
    """The order form as PDF bytes."""
    register_fonts()
    lang = Language.EN if form.language == "en" else Language.DE
    labels = labels_for(form.language)

    def t(key: str) -> str:
        return contract_text(lang, key)

    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True, pageCompression=1)
    canvas.setTitle(f"{t('form.title')} {form.service_number}")
    y = A4[1] - 25 * mm
    draw_text(canvas, _LEFT, y, form.seller.name, size=9, bold=False)
    y -= 14 * mm
    draw_text(canvas, _LEFT, y, t("form.title"), size=16, bold=True)
    y -= 2 * _LINE

    def row(label: str, value: str) -> None:
        nonlocal y
        draw_text(canvas, _LEFT, y, label, size=10, bold=True)
        draw_text(canvas, _LEFT + 55 * mm, y, value, size=10, bold=False)
        y -= _LINE

    product = form.product
    plan = product.plan(form.plan)
    row(t("form.service_number"), form.service_number)
    row(t("form.order"), f"A-{form.order_id} · {labels.date(form.ordered_on)}")
    address = ", ".join(
        x for x in (form.customer.street, f"{form.customer.postcode} {form.customer.city}") if x
    )
    row(t("form.customer"), form.customer.name)
    if address.strip(", "):
        row("", address)
    row(t("form.product"), product.name.get(form.language))
    row(t("form.site"), f"{form.site.latitude}, {form.site.longitude} (WGS 84)")
    for setting in product.resource.settings if product.resource else ():
        if setting.value:
            row(setting.name.get(form.language), setting.value)
    for fee in product.one_time_fees:
        row(fee.name.get(form.language), t("form.net").format(amount=labels.money(fee.net)))
    row(plan.name.get(form.language), t("form.net").format(amount=labels.money(plan.price())))
    row(
        t("form.term"),
        t("form.term_value").format(low=product.min_periods, high=product.max_periods),
    )
    row(t("form.payment"), t("form.payment_value"))
    start = labels.date(form.wished_start) if form.wished_start else t("form.start_asap")
    row(t("form.start"), start)
    y -= _LINE
    for line in t("form.instructions").split("\n"):
        draw_text(canvas, _LEFT, y, line, size=9, bold=False)
        y -= 5 * mm
    y -= 3 * _LINE
    canvas.line(_LEFT, y, _LEFT + 70 * mm, y)
    canvas.line(_RIGHT - 70 * mm, y, _RIGHT, y)
    y -= 5 * mm
    draw_text(canvas, _LEFT, y, t("form.place_date"), size=8, bold=False)
    draw_text(canvas, _RIGHT - 70 * mm, y, t("form.signature"), size=8, bold=False)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
