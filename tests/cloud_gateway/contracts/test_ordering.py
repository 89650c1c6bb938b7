"""Ordering a service contract against the simulated provider (HTTP), on both backends.

The pre-check refuses coordinates outside the coverage, times out, answers slowly, accepts;
only an accepted site is ordered, with a service number and one mail carrying the order form
and the pro-forma as PDFs.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.service import BillingService, Customer
from cloud_gateway.contracts.errors import PrecheckRefusedError, ProviderUnavailableError
from cloud_gateway.contracts.provider import Site
from cloud_gateway.notify.repository import OutboxRepository
from cloud_gateway.store import Store
from simulator.satellite import SatelliteSimulator
from tests.cloud_gateway.contracts.conftest import contract_service
from tests.support.einvoice import validate_pdf
from tunnel.clock import ManualClock

LEER = Site(latitude=Decimal("53.231"), longitude=Decimal("7.461"))
NAIROBI = Site(latitude=Decimal("-1.286"), longitude=Decimal("36.817"))


async def _stored(store: Store) -> tuple[int, int]:
    repo = store.repo(BillingRepository)
    async with repo.transaction() as conn:
        return len(await repo.contracts(conn)), len(await repo.documents(conn))


async def test_precheck_refuses_outside_the_coverage_and_nothing_is_ordered(
    checked_store: Store, billing: BillingService, billing_clock: ManualClock,
    customer: Customer, satellite: SatelliteSimulator,
) -> None:  # fmt: skip
    service = contract_service(checked_store, billing, billing_clock, satellite.url)
    with pytest.raises(PrecheckRefusedError) as refused:
        await service.order(
            customer, product="satellite-uplink", plan="monthly", site=NAIROBI, key="o"
        )
    assert refused.value.reason == "outside_coverage"
    assert satellite.requests == 1
    assert await _stored(checked_store) == (0, 0)
    assert await checked_store.repo(OutboxRepository).list_recent() == []


async def test_precheck_timing_out_orders_nothing_and_a_slow_answer_is_accepted(
    checked_store: Store, billing: BillingService, billing_clock: ManualClock,
    customer: Customer, satellite: SatelliteSimulator,
) -> None:  # fmt: skip
    satellite.hang = True
    impatient = contract_service(checked_store, billing, billing_clock, satellite.url, 0.3)
    with pytest.raises(ProviderUnavailableError) as unavailable:
        await impatient.order(
            customer, product="satellite-uplink", plan="monthly", site=LEER, key="o"
        )
    assert unavailable.value.timed_out
    assert await _stored(checked_store) == (0, 0)
    satellite.hang, satellite.delay_s = False, 0.2  # slow, but within the 5 s timeout
    patient = contract_service(checked_store, billing, billing_clock, satellite.url)
    result = await patient.order(
        customer, product="satellite-uplink", plan="monthly", site=LEER, key="o"
    )
    assert result["service_number"].startswith("SAT-")
    assert await _stored(checked_store) == (1, 1)
    satellite.available = False  # maintenance: 503
    with pytest.raises(ProviderUnavailableError) as down:
        await patient.order(
            customer, product="satellite-uplink", plan="monthly", site=LEER, key="o2"
        )
    assert not down.value.timed_out


async def test_accepted_order_has_a_service_number_and_one_mail_with_both_pdfs(
    checked_store: Store, billing: BillingService, billing_clock: ManualClock,
    customer: Customer, satellite: SatelliteSimulator,
) -> None:  # fmt: skip
    service = contract_service(checked_store, billing, billing_clock, satellite.url)
    result = await service.order(
        customer, product="satellite-uplink", plan="monthly", site=LEER,
        wished_start=date(2026, 3, 1), key="order-1",
    )  # fmt: skip
    satellite.available = False  # a retry does not ask the provider again
    again = await service.order(
        customer, product="satellite-uplink", plan="monthly", site=LEER,
        wished_start=date(2026, 3, 1), key="order-1",
    )  # fmt: skip
    assert again == result
    assert satellite.requests == 1
    [contract_id] = result["contract_ids"]
    assert result["service_number"] == f"SAT-{contract_id:06d}"
    assert result["precheck_reference"] == "SIM-PC-00000001"
    assert await _stored(checked_store) == (1, 1)
    outbox = checked_store.repo(OutboxRepository)
    [mail] = await outbox.list_recent()
    assert mail.recipient == "smacc@example.org"
    assert result["service_number"] in mail.subject
    assert "PR-2026-00001" in mail.body
    assert "2.151,52" in mail.body  # the pro-forma's gross in German
    assert "01.03.2026" in mail.body  # the wished start
    form, proforma = await outbox.attachments(mail.id)
    assert form.filename == f"Bestellformular-{result['service_number']}.pdf"
    assert form.data.startswith(b"%PDF")
    assert proforma.filename == "PR-2026-00001.pdf"
    xml = validate_pdf(proforma.data)  # PDF/A-3 with the EN 16931 XML: XSD and schematron
    assert b"PR-2026-00001" in xml
    view = await service.view(contract_id, customer.account_id)
    assert view.order.open_reservations == ("order_form",)
    assert view.order.wished_start == date(2026, 3, 1)
    assert view.service is not None
    assert view.service.site == LEER
    assert view.months == ()  # not started


def test_site_coordinates_are_checked() -> None:
    assert Site.of("53.2310001", 7.461).latitude == Decimal("53.231000")
    for lat, lon in [("91", "0"), ("0", "181"), ("x", "1"), (None, "1")]:
        with pytest.raises(ValueError, match="no coordinates"):
            Site.of(lat, lon)
