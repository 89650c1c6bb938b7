"""Bank data: the IBAN check (schwifty) and the page that keeps what was typed."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloud_gateway.portal.bank import check_bank_details
from cloud_gateway.portal.errors import InvalidIbanError
from cloud_gateway.portal.repository import PortalRepository
from tests.cloud_gateway.portal.support import accept_terms, logged_in, text_of
from tests.support.gateway import gateway_harness
from tunnel.clock import ManualClock


def test_valid_iban_is_normalised_and_the_bic_filled_in() -> None:
    details = check_bank_details("  Anna   Alt ", "de02 1203 0000 0000 2020 51")
    assert details.holder == "Anna Alt"
    assert details.iban == "DE02120300000000202051"
    assert details.iban_display == "DE02 1203 0000 0000 2020 51"
    assert details.bic == "BYLADEM1001"


@pytest.mark.parametrize(
    ("iban", "reason"),
    [
        ("DE02120300000000202052", "checksum"),
        ("DE0212030000000020205", "length"),
        ("XX02120300000000202051", "country"),
        ("DE02 1203 0000 0000 2020 5!", "format"),
        ("", "empty"),
    ],
)
def test_invalid_ibans_are_refused_with_a_reason(iban: str, reason: str) -> None:
    with pytest.raises(InvalidIbanError) as caught:
        check_bank_details("Anna", iban)
    assert caught.value.reason == reason


def test_a_given_bic_must_be_valid() -> None:
    with pytest.raises(InvalidIbanError) as caught:
        check_bank_details("Anna", "DE02120300000000202051", "NOTABIC")
    assert caught.value.reason == "bic"


async def test_bank_page_refuses_an_invalid_iban_clearly_and_stores_a_valid_one(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        anna = await gw.create_account("anna")
        await accept_terms(gw, anna.id)
        async with logged_in(gw, "anna") as browser:
            wrong = {"csrf_token": browser.token, "holder": "Anna Alt",
                     "iban": "DE02 1203 0000 0000 2020 52", "bic": ""}  # fmt: skip
            async with browser.http.post("/portal/account/bank", data=wrong) as resp:
                html = await resp.text()
            assert resp.status == 422
            assert "Die Prüfziffer stimmt nicht" in text_of(html)
            assert 'value="DE02 1203 0000 0000 2020 52"' in html  # nothing typed is lost
            assert 'value="Anna Alt"' in html
            assert await gw.gateway.store.repo(PortalRepository).bank(anna.id) is None

            right = {**wrong, "iban": "de02120300000000202051"}
            async with browser.http.post("/portal/account/bank", data=right) as resp:
                html = await resp.text()
            assert resp.status == 200
            assert resp.url.path == "/portal/account/bank"
            assert 'id="bank-saved"' in html
            assert "DE02 1203 0000 0000 2020 51 (BYLADEM1001)" in text_of(html)
        stored = await gw.gateway.store.repo(PortalRepository).bank(anna.id)
        assert stored is not None
        assert stored.details.iban == "DE02120300000000202051"
        assert stored.updated_at == clock.now()
