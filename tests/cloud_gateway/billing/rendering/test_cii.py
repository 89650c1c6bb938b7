"""The CII XML of every document type passes the Factur-X EN16931 XSD and EN 16931 schematron."""

from __future__ import annotations

from dataclasses import replace

import pytest
from lxml import etree

from cloud_gateway.billing import rendering
from cloud_gateway.billing.rendering import IncompleteDocumentError, render_xml
from cloud_gateway.billing.rendering.view import DocumentView
from tests.cloud_gateway.billing.rendering.documents import ALL_KINDS, reverse_charge
from tests.support.einvoice import InvalidEInvoiceError, schematron_findings, validate_cii

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
SETTLEMENT = "//ram:ApplicableHeaderTradeSettlement"
SUMMATION = f"{SETTLEMENT}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"


def texts(xml: bytes, path: str) -> list[str]:
    return [str(node.text) for node in etree.fromstring(xml).xpath(path, namespaces=NS)]


def text(xml: bytes, path: str) -> str:
    found = texts(xml, path)
    assert len(found) == 1, (path, found)
    return found[0]


@pytest.mark.parametrize("name", sorted(ALL_KINDS))
def test_every_document_type_passes_xsd_and_schematron(name: str) -> None:
    view: DocumentView = ALL_KINDS[name]()
    validate_cii(render_xml(view))


def test_the_validator_fails_on_a_broken_total() -> None:
    xml = render_xml(ALL_KINDS["invoice"]())
    broken = xml.replace(b">2151.52<", b">2151.53<", 1)
    assert broken != xml
    ids = {finding.rule_id for finding in schematron_findings(broken)}
    assert "BR-CO-15" in ids  # grand total = tax basis + VAT
    with pytest.raises(InvalidEInvoiceError, match="BR-CO-15"):
        validate_cii(broken)


def test_the_validator_fails_on_a_schema_violation() -> None:
    xml = render_xml(ALL_KINDS["invoice"]())
    broken = xml.replace(b"<ram:TypeCode>380</ram:TypeCode>", b"", 1)
    assert broken != xml
    with pytest.raises(InvalidEInvoiceError, match="XSD"):
        validate_cii(broken)


def test_seed004_figures_to_the_cent() -> None:
    xml = render_xml(ALL_KINDS["invoice"]())
    assert text(xml, "//rsm:ExchangedDocument/ram:TypeCode") == "380"
    assert text(xml, f"{SUMMATION}/ram:LineTotalAmount") == "1808.00"
    assert text(xml, f"{SUMMATION}/ram:TaxBasisTotalAmount") == "1808.00"
    assert text(xml, f"{SUMMATION}/ram:TaxTotalAmount") == "343.52"
    assert text(xml, f"{SUMMATION}/ram:GrandTotalAmount") == "2151.52"
    assert text(xml, f"{SUMMATION}/ram:DuePayableAmount") == "2151.52"
    assert text(xml, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:CalculatedAmount") == "343.52"
    assert text(xml, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:RateApplicablePercent") == "19.00"
    line_totals = texts(
        xml, "//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount"
    )
    assert line_totals == ["800.00", "336.00", "336.00", "336.00"]


def test_one_month_of_seed004_is_399_84_gross() -> None:
    view = ALL_KINDS["invoice"]()
    xml = render_xml(replace(view, lines=view.lines[1:2]))
    assert text(xml, f"{SUMMATION}/ram:TaxBasisTotalAmount") == "336.00"
    assert text(xml, f"{SUMMATION}/ram:TaxTotalAmount") == "63.84"
    assert text(xml, f"{SUMMATION}/ram:GrandTotalAmount") == "399.84"


def test_payment_means_sepa_transfer_with_iban_and_rf_reference() -> None:
    view = ALL_KINDS["invoice"]()
    xml = render_xml(view)
    means = f"{SETTLEMENT}/ram:SpecifiedTradeSettlementPaymentMeans"
    assert text(xml, f"{means}/ram:TypeCode") == "58"
    assert text(xml, f"{means}/ram:PayeePartyCreditorFinancialAccount/ram:IBANID") == (
        view.seller_bank.iban
    )
    assert text(xml, f"{SETTLEMENT}/ram:PaymentReference") == "RF29RE2026000042"
    due = f"{SETTLEMENT}/ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString"
    assert text(xml, due) == "20261215"


def test_seller_and_buyer_identities() -> None:
    xml = render_xml(ALL_KINDS["reverse_charge"]())
    seller = "//ram:SellerTradeParty"
    assert text(xml, f"{seller}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == (
        "DE123456788"
    )
    assert text(xml, f"{seller}/ram:Description") == "Amtsgericht Aurich HRB 212345"
    assert text(xml, f"{seller}/ram:URIUniversalCommunication/ram:URIID[@schemeID='EM']") == (
        "billing@nordwind-connect.example"
    )
    buyer = "//ram:BuyerTradeParty"
    assert text(xml, f"{buyer}/ram:SpecifiedTaxRegistration/ram:ID") == "ATU12345675"
    assert text(xml, f"{buyer}/ram:PostalTradeAddress/ram:CountryID") == "AT"


def test_reverse_charge_is_category_ae_at_zero_with_reason_and_code() -> None:
    xml = render_xml(ALL_KINDS["reverse_charge"]())
    tax = f"{SETTLEMENT}/ram:ApplicableTradeTax"
    assert text(xml, f"{tax}/ram:CategoryCode") == "AE"
    assert text(xml, f"{tax}/ram:RateApplicablePercent") == "0.00"
    assert text(xml, f"{tax}/ram:CalculatedAmount") == "0.00"
    assert text(xml, f"{tax}/ram:ExemptionReasonCode") == "VATEX-EU-AE"
    assert "Reverse charge" in text(xml, f"{tax}/ram:ExemptionReason")
    assert text(xml, f"{SUMMATION}/ram:GrandTotalAmount") == "1808.00"


def test_reverse_charge_without_buyer_vat_id_is_refused() -> None:
    view = reverse_charge()
    with pytest.raises(IncompleteDocumentError, match="VAT ID"):
        render_xml(replace(view, buyer=replace(view.buyer, vat_id=None)))


def test_credit_note_references_the_invoice() -> None:
    xml = render_xml(ALL_KINDS["credit_note"]())
    assert text(xml, "//rsm:ExchangedDocument/ram:TypeCode") == "381"
    reference = f"{SETTLEMENT}/ram:InvoiceReferencedDocument"
    assert text(xml, f"{reference}/ram:IssuerAssignedID") == "RE-2026-000042"
    assert text(xml, f"{reference}/ram:FormattedIssueDateTime/*") == "20261201"
    # nothing is paid to the seller: no payment means, the terms say where the money goes
    assert texts(xml, f"{SETTLEMENT}/ram:SpecifiedTradeSettlementPaymentMeans") == []
    terms = f"{SETTLEMENT}/ram:SpecifiedTradePaymentTerms/ram:Description"
    assert text(xml, terms) == "Der Betrag wird Ihrem Zahlungskonto gutgeschrieben."


def test_proforma_is_type_325_and_says_it_is_no_tax_invoice() -> None:
    xml = render_xml(ALL_KINDS["proforma"]())
    assert text(xml, "//rsm:ExchangedDocument/ram:TypeCode") == "325"
    assert "Kein Steuerbeleg" in text(xml, "//rsm:ExchangedDocument/ram:IncludedNote/ram:Content")


def test_voucher_is_a_document_allowance_before_tax() -> None:
    xml = render_xml(ALL_KINDS["voucher"]())
    allowance = f"{SETTLEMENT}/ram:SpecifiedTradeAllowanceCharge"
    assert text(xml, f"{allowance}/ram:ChargeIndicator/udt:Indicator") == "false"
    assert text(xml, f"{allowance}/ram:ActualAmount") == "180.80"
    assert text(xml, f"{allowance}/ram:CategoryTradeTax/ram:CategoryCode") == "S"
    assert text(xml, f"{allowance}/ram:CategoryTradeTax/ram:RateApplicablePercent") == "19.00"
    assert text(xml, f"{SUMMATION}/ram:AllowanceTotalAmount") == "180.80"
    assert text(xml, f"{SUMMATION}/ram:TaxBasisTotalAmount") == "1627.20"
    assert text(xml, f"{SUMMATION}/ram:TaxTotalAmount") == "309.17"  # 1627.20 x 19 % = 309.168


def test_prepaid_invoice_has_nothing_due() -> None:
    xml = render_xml(ALL_KINDS["prepaid"]())
    assert text(xml, f"{SUMMATION}/ram:TotalPrepaidAmount") == "2151.52"
    assert text(xml, f"{SUMMATION}/ram:DuePayableAmount") == "0.00"
    terms = f"{SETTLEMENT}/ram:SpecifiedTradePaymentTerms"
    assert text(xml, f"{terms}/ram:Description") == "Der Betrag ist bereits beglichen."
    assert texts(xml, f"{terms}/ram:DueDateDateTime") == []


def test_the_xml_is_deterministic() -> None:
    assert render_xml(ALL_KINDS["voucher"]()) == render_xml(ALL_KINDS["voucher"]())


def test_the_public_api() -> None:
    assert set(rendering.__all__) == {
        "EInvoiceError",
        "IncompleteDocumentError",
        "RenderingError",
        "render_document",
        "render_xml",
    }
