"""Country rules, allowed characters and VAT ID formats (pure)."""

from __future__ import annotations

import pytest

from cloud_gateway.accounts.customer_rules import (
    CustomerKind,
    Eligibility,
    invalid_characters,
    monitoring_eligibility,
    normalise_vat_id,
    vat_format_ok,
)


@pytest.mark.parametrize(
    ("kind", "country", "answer"),
    [
        (CustomerKind.PRIVATE, "DE", Eligibility.ALLOWED),
        (CustomerKind.PRIVATE, "de", Eligibility.ALLOWED),
        (CustomerKind.PRIVATE, "AT", Eligibility.REFUSED),
        (CustomerKind.PRIVATE, "GR", Eligibility.SERVICE_PARTNER),
        (CustomerKind.PRIVATE, "CH", Eligibility.SERVICE_PARTNER),
        (CustomerKind.BUSINESS, "CH", Eligibility.ALLOWED),
        (CustomerKind.BUSINESS, "US", Eligibility.ALLOWED),
        (CustomerKind.BUSINESS, "DE", Eligibility.ALLOWED),
    ],
)
def test_monitoring_for_german_consumers_and_businesses_anywhere(
    kind: CustomerKind, country: str, answer: Eligibility
) -> None:
    assert monitoring_eligibility(kind, country) == answer


def test_allowed_characters_of_the_seed() -> None:
    assert invalid_characters("AEI Power GmbH (Metzingen) & Co. KG; No. 1 - 'x' [y] *z* !_:") == ""
    assert invalid_characters("Zeichen \u2013 Strich") == ""  # the en dash is allowed
    assert invalid_characters("Müller & Söhne GmbH") == "üö"
    assert invalid_characters("Straße 1/2 #3") == "ß/#"


@pytest.mark.parametrize(
    ("vat_id", "ok"),
    [
        ("DE147167387", True),
        ("de 147.167-387", True),
        ("DE14716738", False),
        ("ATU12345678", True),
        ("AT12345678", False),
        ("NL123456789B01", True),
        ("EL123456789", True),
        ("GR123456789", False),
        ("FR12345678901", True),
        ("XX123", False),
        ("", False),
    ],
)
def test_vat_id_formats(vat_id: str, ok: bool) -> None:
    assert vat_format_ok(vat_id) is ok


def test_normalise() -> None:
    assert normalise_vat_id(" de 147 167 387 ") == "DE147167387"
