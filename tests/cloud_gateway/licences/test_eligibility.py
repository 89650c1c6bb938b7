"""Who may buy a licence (R-MON-3/4), with literal customer data."""

from __future__ import annotations

import pytest

from cloud_gateway.accounts.customer_rules import CustomerKind, VatState
from cloud_gateway.accounts.repository_customers import CustomerData
from cloud_gateway.i18n import Language
from cloud_gateway.licences.eligibility import Refusal, purchase_refusal
from cloud_gateway.licences.texts import LICENCE_TEXTS
from tests.cloud_gateway.licences.conftest import customer_data


def customer(
    kind: CustomerKind, country: str, vat_id: str = "", vat_state: VatState = VatState.NONE
) -> CustomerData:
    return customer_data(1, kind, country, vat_id, vat_state)


P, B = CustomerKind.PRIVATE, CustomerKind.BUSINESS


@pytest.mark.parametrize(
    ("data", "refusal"),
    [
        (customer(P, "DE"), None),
        (customer(P, "AT"), Refusal.CONSUMER_ABROAD),
        (customer(P, "FR"), Refusal.CONSUMER_ABROAD),
        (customer(P, "GR"), Refusal.SERVICE_PARTNER),
        (customer(P, "CH"), Refusal.SERVICE_PARTNER),
        (customer(B, "CH"), None),  # businesses anywhere
        (customer(B, "DE"), None),  # a business without a VAT ID: nothing to wait for
        (customer(B, "AT", "ATU12345678", VatState.VALID), None),
        (customer(B, "AT", "ATU12345678", VatState.PENDING), Refusal.VAT_UNRESOLVED),
        (customer(B, "DE", "DE123456789", VatState.NONE), Refusal.VAT_UNRESOLVED),
        (customer(B, "AT", "ATU12345678", VatState.INVALID), Refusal.VAT_INVALID),
        (customer(B, "AT", "ATX", VatState.FORMAT_INVALID), Refusal.VAT_INVALID),
        (None, Refusal.NO_CUSTOMER_DATA),
    ],
)
def test_purchase_refusal(data: CustomerData | None, refusal: Refusal | None) -> None:
    assert purchase_refusal(data) is refusal


@pytest.mark.parametrize("reason", list(Refusal))
def test_every_refusal_has_a_message_in_both_languages(reason: Refusal) -> None:
    texts = LICENCE_TEXTS[f"lic.refusal.{reason.value}"]
    assert texts[Language.DE]
    assert texts[Language.EN]
    assert texts[Language.DE] != texts[Language.EN]
