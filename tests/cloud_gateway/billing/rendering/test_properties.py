"""Properties: for random lines, rates and vouchers the XML's tax totals are view.totals()."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from cloud_gateway.billing.money import VatCategory, format_amount
from cloud_gateway.billing.rendering import render_xml
from cloud_gateway.billing.rendering.view import Allowance, DocumentLine, DocumentView
from tests.cloud_gateway.billing.rendering.documents import reverse_charge
from tests.support.einvoice import validate_cii

NS = {"ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}
TAXES = "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"
SUMMATION = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation"
RATES = st.sampled_from(
    [
        (VatCategory.STANDARD, Decimal(19)),
        (VatCategory.STANDARD, Decimal(7)),
        (VatCategory.REVERSE_CHARGE, Decimal(0)),
    ]
)


@st.composite
def lines(draw: st.DrawFn) -> DocumentLine:
    category, rate = draw(RATES)
    quantity = Decimal(draw(st.integers(min_value=1, max_value=2400))) / 100
    unit_price = draw(st.integers(min_value=1, max_value=5_000_000))
    net = int((quantity * unit_price).quantize(Decimal(1), rounding="ROUND_HALF_UP"))
    return DocumentLine(
        line_id="0",
        name="Posten",
        quantity=quantity,
        unit_code="C62",
        unit_price=unit_price,
        net=net,
        vat_category=category,
        vat_rate=rate,
    )


@st.composite
def documents(draw: st.DrawFn) -> DocumentView:
    drawn = draw(st.lists(lines(), min_size=1, max_size=8))
    numbered = tuple(replace(line, line_id=str(n)) for n, line in enumerate(drawn, start=1))
    allowances: tuple[Allowance, ...] = ()
    if draw(st.booleans()):
        target = draw(st.sampled_from(numbered))
        amount = draw(st.integers(min_value=1, max_value=max(1, target.net)))
        allowances = (
            Allowance(
                reason="Gutschein",
                amount=amount,
                vat_category=target.vat_category,
                vat_rate=target.vat_rate,
            ),
        )
    view = replace(reverse_charge(language="de"), lines=numbered, allowances=allowances)
    prepaid = draw(st.integers(min_value=0, max_value=max(0, view.totals().grand_total)))
    return replace(view, prepaid=prepaid)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_xml_tax_totals_equal_the_view_totals_and_validate(view: DocumentView) -> None:
    xml = render_xml(view)
    root = etree.fromstring(xml)
    totals = view.totals()
    found = sorted(
        (
            node.findtext("ram:CategoryCode", namespaces=NS),
            Decimal(node.findtext("ram:RateApplicablePercent", namespaces=NS)),
            node.findtext("ram:BasisAmount", namespaces=NS),
            node.findtext("ram:CalculatedAmount", namespaces=NS),
        )
        for node in root.xpath(TAXES, namespaces=NS)
    )
    expected = sorted(
        (t.category.value, t.rate, format_amount(t.basis), format_amount(t.tax))
        for t in totals.taxes
    )
    assert found == expected

    def summed(name: str) -> str:
        return str(root.xpath(f"{SUMMATION}/ram:{name}", namespaces=NS)[0].text)

    assert summed("TaxTotalAmount") == format_amount(totals.tax_total)
    assert summed("GrandTotalAmount") == format_amount(totals.grand_total)
    assert summed("DuePayableAmount") == format_amount(totals.due)
    # XSD and the EN 16931 schematron (about 20 ms an example once Saxon has compiled it)
    validate_cii(xml)
