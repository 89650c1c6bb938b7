"""The complete document: PDF/A-3 page with factur-x.xml, GiroCode that scans, de/en labels."""

from __future__ import annotations

import functools
import io
import re
from dataclasses import replace
from decimal import Decimal
from typing import Any

import facturx
import pypdf
import pypdfium2
import pytest
import zxingcpp
from stdnum import iso11649

from cloud_gateway.billing.rendering import render_document, render_xml
from cloud_gateway.billing.rendering.girocode import epc_payload
from cloud_gateway.billing.rendering.pdf import render_page
from cloud_gateway.billing.rendering.view import DocumentLine, DocumentView
from tests.cloud_gateway.billing.rendering.documents import (
    ALL_KINDS,
    credit_note,
    invoice,
    prepaid,
    proforma,
    reverse_charge,
)
from tests.support.einvoice import validate_pdf


@functools.cache
def rendered(name: str, language: str | None = None) -> bytes:
    build = ALL_KINDS[name]
    return render_document(build() if language is None else build(language))


def page_texts(pdf: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(pdf)
    try:
        return [str(page.get_textpage().get_text_bounded()) for page in document]
    finally:
        document.close()


def qr_codes(pdf: bytes) -> list[str]:
    """Every QR code found on the rasterised pages (150 dpi, as a scanned print would be)."""
    document = pypdfium2.PdfDocument(pdf)
    found: list[str] = []
    try:
        for page in document:
            image = page.render(scale=150 / 72, grayscale=True).to_pil()
            found += [
                str(code.text)
                for code in zxingcpp.read_barcodes(image)
                if code.format == zxingcpp.BarcodeFormat.QRCode
            ]
    finally:
        document.close()
    return found


@pytest.mark.parametrize("name", sorted(ALL_KINDS))
def test_every_document_is_a_factur_x_pdf_whose_xml_validates(name: str) -> None:
    pdf = rendered(name)
    xml = validate_pdf(pdf)
    assert xml == render_xml(ALL_KINDS[name]())


def test_the_girocode_on_the_page_decodes_to_an_epc069_12_payload() -> None:
    view = invoice()
    codes = qr_codes(rendered("invoice"))
    assert len(codes) == 1
    lines = codes[0].split("\n")
    assert lines[:4] == ["BCD", "002", "1", "SCT"]
    assert lines[4] == view.seller_bank.bic
    assert lines[5] == "Nordwind Connect GmbH"
    assert lines[6] == "DE02120300000000202051"
    assert lines[7] == "EUR2151.52"  # seed 004: 1,808.00 net + 343.52 VAT
    assert lines[8] == ""  # no purpose code
    assert lines[9] == view.payment_reference
    assert iso11649.is_valid(lines[9])
    assert len(lines) == 10  # a structured reference, so no unstructured text line
    assert codes[0].encode() == epc_payload(view)


def test_the_proforma_carries_a_girocode_too() -> None:
    codes = qr_codes(rendered("proforma"))
    assert len(codes) == 1
    assert codes[0].split("\n")[7] == "EUR2151.52"


@pytest.mark.parametrize("name", ["prepaid", "credit_note"])
def test_a_document_with_nothing_to_transfer_has_no_qr_code(name: str) -> None:
    assert qr_codes(rendered(name)) == []
    assert epc_payload(ALL_KINDS[name]()) is None


def test_pdf_a3_with_the_xml_attached_as_factur_x_xml() -> None:
    pdf = rendered("invoice")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    root: Any = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data()
    assert b"<pdfaid:part>3</pdfaid:part>" in xmp
    assert b"<pdfaid:conformance>B</pdfaid:conformance>" in xmp
    assert b"EN 16931" in xmp  # the Factur-X conformance level in the extension schema
    (attachment,) = [a.get_object() for a in root["/AF"]]
    assert attachment["/F"] == "factur-x.xml"
    assert attachment["/AFRelationship"] == "/Data"
    filename, xml = facturx.get_xml_from_pdf(pdf, check_xsd=False)
    assert filename == "factur-x.xml"
    assert xml == render_xml(invoice())
    intent = root["/OutputIntents"][0].get_object()
    assert intent["/S"] == "/GTS_PDFA1"
    assert intent["/DestOutputProfile"].get_object()["/N"] == 3
    for page in reader.pages:  # every font embedded, as PDF/A requires
        resources: Any = page["/Resources"]
        for font in resources["/Font"].values():
            descriptor = font.get_object()["/FontDescriptor"].get_object()
            assert "/FontFile2" in descriptor


def test_german_labels_numbers_and_dates() -> None:
    (text,) = page_texts(rendered("invoice"))
    for expected in (
        "Rechnung RE-2026-000042",
        "Leistungszeitraum",
        "01.12.2026 \N{EN DASH} 28.02.2027",
        "Nettobetrag",
        "1.808,00 €",
        "USt. 19 % auf 1.808,00 €",
        "343,52 €",
        "Gesamtbetrag",
        "2.151,52 €",
        "Bitte überweisen Sie 2.151,52 € bis 15.12.2026",
        "RF29RE2026000042",
        "DE02 1203 0000 0000 2020 51",
        "Amtsgericht Aurich HRB 212345",
        "USt-IdNr.: DE123456788",
    ):
        assert expected in text, expected


def test_english_labels_numbers_and_dates() -> None:
    (text,) = page_texts(rendered("invoice", "en"))
    for expected in ("Invoice RE-2026-000042", "Net amount", "€1,808.00", "VAT 19 % on"):
        assert expected in text, expected
    assert "Total" in text
    assert "€2,151.52" in text
    assert "15 Dec 2026" in text
    assert "Rechnung" not in text


def test_titles_and_notes_of_the_other_document_types() -> None:
    (proforma_text,) = page_texts(render_document(proforma()))
    assert "Proforma-Rechnung PF-2026-000011" in proforma_text
    assert "Kein Steuerbeleg" in proforma_text
    (credit_text,) = page_texts(render_document(credit_note()))
    assert "Gutschrift GS-2026-000007" in credit_text
    assert "RE-2026-000042 (01.12.2026)" in credit_text
    assert "Bitte überweisen" not in credit_text
    assert "Zahlungskonto gutgeschrieben" in credit_text
    (reverse_text,) = page_texts(rendered("reverse_charge"))
    assert "Reverse charge: VAT to be accounted for by the recipient" in reverse_text
    assert "ATU12345675" in reverse_text
    assert "€1,808.00" in reverse_text
    (prepaid_text,) = page_texts(render_document(prepaid()))
    assert "Bereits bezahlt" in prepaid_text
    assert "Der Betrag ist bereits beglichen." in prepaid_text
    assert "0,00 €" in prepaid_text
    (voucher_text,) = page_texts(rendered("voucher"))
    assert "Nachlass: Gutschein WINTER10 (10 %)" in voucher_text
    assert "-180,80 €" in voucher_text


def test_a_long_document_continues_on_further_pages() -> None:
    view = invoice()
    line = view.lines[1]
    lines = tuple(replace(line, line_id=str(n)) for n in range(1, 61))
    long_view: DocumentView = replace(view, lines=lines)
    pdf = render_document(long_view)
    texts = page_texts(pdf)
    assert len(texts) >= 3
    assert "Seite 2" in texts[1]
    assert "20.160,00 €" in "".join(texts)  # 60 x 336.00 net
    assert "Bitte überweisen Sie 23.990,40 €" in texts[-1]
    validate_pdf(pdf)
    assert len(qr_codes(pdf)) == 1


def test_a_long_buyer_name_is_wrapped_in_the_address_window() -> None:
    view = invoice()
    name = "Genossenschaft für Breitband und Satellitenversorgung der Nordseeinseln eG"
    (text,) = page_texts(render_document(replace(view, buyer=replace(view.buyer, name=name))))
    assert "Genossenschaft für Breitband und\r\nSatellitenversorgung der Nordseeinseln eG" in text


def test_the_same_view_gives_the_same_bytes() -> None:
    view = reverse_charge()
    assert render_page(view, None) == render_page(view, None)
    first = render_document(view)
    assert render_document(view) == first
    # factur-x's wall-clock stamps are pinned to the issue date, in the info dict and the XMP
    assert b"(D\\07220261201000000" in first
    assert b"<xmp:CreateDate>2026-12-01T00:00:00+00:00<" in first
    # and no other instant is left (a render in another second gives the same bytes)
    assert set(re.findall(rb"\(D\\072(\d{14})", first)) == {b"20261201000000"}
    assert set(re.findall(rb">(\d{4}-\d\d-\d\dT[\d:]{8})\+00:00<", first)) == {
        b"2026-12-01T00:00:00"
    }


def test_quantities_and_prices_in_the_document_language() -> None:
    view = invoice("en")
    half = DocumentLine(
        line_id="9",
        name="Support",
        quantity=Decimal("1.5"),
        unit_code="HUR",
        unit_price=8000,
        net=12000,
    )
    (text,) = page_texts(render_document(replace(view, lines=(*view.lines, half))))
    assert "1.5" in text
    assert "120.00" in text
    (german,) = page_texts(render_document(replace(invoice(), lines=(*view.lines, half))))
    assert "1,5" in german
