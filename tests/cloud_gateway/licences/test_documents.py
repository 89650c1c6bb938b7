"""The contract document: every plant listed, pages added as needed, the notice for consumers."""

from __future__ import annotations

from datetime import date

from cloud_gateway.i18n import Language
from cloud_gateway.licences.documents import contract_terms_pdf
from cloud_gateway.licences.quote import LicenceTerm, PlantPower, quote
from tests.cloud_gateway.billing.rendering.test_document import page_texts
from tests.cloud_gateway.licences.test_quote import PRODUCT, VAT


def test_a_long_order_continues_on_the_next_page() -> None:
    plants = [PlantPower(plant_id=i, name=f"Anlage {i:02d}", inverters=(5000,)) for i in range(60)]
    priced = quote(PRODUCT, plants, LicenceTerm.DAYS_730, VAT)
    pdf = contract_terms_pdf(
        order_id=7, quote=priced, language=Language.DE, day_of=date(2026, 2, 10), withdrawal=True
    )
    texts = page_texts(pdf)
    assert len(texts) >= 2
    everything = "\n".join(texts)
    assert all(f"Anlage {i:02d}" in everything for i in range(60))
    assert "10. Februar 2026" in texts[0]
    assert "6.354,60" in everything  # 60 * 89.00 = 5,340.00 + 19 % = 6,354.60
    assert "Widerrufsbelehrung" in texts[-1]
