"""The EPC069-12 payload: fields, amounts, and the documents that get none."""

from __future__ import annotations

import io
from dataclasses import replace
from decimal import Decimal

import pytest
import zxingcpp
from PIL import Image
from segno import helpers
from stdnum import iso11649

from cloud_gateway.billing.rendering import IncompleteDocumentError, RenderingError
from cloud_gateway.billing.rendering.girocode import creditor_reference, epc_payload, girocode
from cloud_gateway.billing.rendering.labels import labels_for
from tests.cloud_gateway.billing.rendering.documents import invoice, proforma


def test_payload_fields_in_epc069_12_order() -> None:
    payload = epc_payload(invoice())
    assert payload == (
        b"BCD\n002\n1\nSCT\nBYLADEM1001\nNordwind Connect GmbH\nDE02120300000000202051\n"
        b"EUR2151.52\n\nRF29RE2026000042"
    )


def test_payload_is_what_segnos_epc_helper_encodes() -> None:
    """segno's helper puts the RF reference into the structured field, as this module does."""
    view = invoice()
    helper_code = helpers.make_epc_qr(
        name=view.seller_bank.holder,
        iban=view.seller_bank.iban,
        amount=Decimal("2151.52"),
        reference=view.payment_reference,
        bic=view.seller_bank.bic,
        encoding=1,
    )
    image = io.BytesIO()
    helper_code.save(image, kind="png", scale=4)
    image.seek(0)
    (decoded,) = zxingcpp.read_barcodes(Image.open(image))
    assert decoded.text.encode() == epc_payload(view)


def test_amount_keeps_two_places_and_the_bic_may_be_empty() -> None:
    view = proforma()
    one_line = replace(view, lines=view.lines[:1], seller_bank=replace(view.seller_bank, bic=""))
    payload = epc_payload(one_line)
    assert payload is not None
    fields = payload.decode().split("\n")
    assert fields[4] == ""
    assert fields[7] == "EUR952.00"  # 800.00 net + 152.00 VAT


def test_a_partly_prepaid_document_asks_for_the_rest() -> None:
    payload = epc_payload(replace(invoice(), prepaid=100000))
    assert payload is not None
    assert payload.decode().split("\n")[7] == "EUR1151.52"


def test_the_qr_code_is_level_m_and_small_enough() -> None:
    code = girocode(invoice())
    assert code is not None
    assert code.error == "M"
    assert isinstance(code.version, int)
    assert code.version <= 13


def test_creditor_reference_is_a_valid_rf_reference() -> None:
    assert creditor_reference("5390 0754 7034") == "RF18539007547034"  # ISO 11649's example
    reference = creditor_reference("pf-2026-1")
    assert reference.startswith("RF")
    assert reference.endswith("PF20261")
    assert iso11649.is_valid(reference)
    assert creditor_reference("Ü-Ä 7") == creditor_reference("7")  # only A-Z and 0-9 count
    with pytest.raises(IncompleteDocumentError):
        creditor_reference("--")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"payment_reference": None}, "no payment reference"),
        ({"payment_reference": "RF00RE2026000042"}, "checksum"),
        ({"currency": "CHF"}, "EUR"),
    ],
)
def test_an_amount_due_without_a_usable_transfer_is_refused(
    change: dict[str, object], message: str
) -> None:
    view = replace(invoice(), **change)  # type: ignore[arg-type]
    with pytest.raises(IncompleteDocumentError, match=message):
        epc_payload(view)


def test_a_broken_iban_is_refused() -> None:
    view = invoice()
    broken = replace(view, seller_bank=replace(view.seller_bank, iban="DE02120300000000202052"))
    with pytest.raises(RenderingError, match="checksum"):
        girocode(broken)


def test_unsupported_document_language_is_refused() -> None:
    with pytest.raises(IncompleteDocumentError, match="fr"):
        labels_for("fr")
