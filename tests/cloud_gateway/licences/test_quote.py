"""Licence prices with literal values: tiers at their edges, unknown inverters, VAT, credit."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from cloud_gateway.billing.catalogue import load_catalogues
from cloud_gateway.billing.money import VatCategory
from cloud_gateway.billing.pricing import Buyer, TaxTreatment, tax_treatment
from cloud_gateway.entitlements.plant_rules import Credit
from cloud_gateway.entitlements.windows import Window, WindowKind
from cloud_gateway.licences.errors import QuoteError
from cloud_gateway.licences.quote import (
    LicenceTerm,
    PlantPower,
    credit_cents,
    quote,
    standard_tax,
)

PRODUCT = load_catalogues().version("2026-01").product("plant-monitoring")
VAT = standard_tax(PRODUCT)


def one(watts: int | None, term: LicenceTerm = LicenceTerm.DAYS_365) -> int:
    return quote(PRODUCT, [PlantPower(plant_id=1, name="A", inverters=(watts,))], term, VAT).net


@pytest.mark.parametrize(
    ("watts", "net_365", "net_730"),
    [
        (1, 4900, 8900),
        (10_000, 4900, 8900),
        (10_001, 8900, 15900),
        (30_000, 8900, 15900),
        (30_001, 17900, 31900),
        (100_000, 17900, 31900),
        (100_001, 34900, 62900),
        (2_000_000, 34900, 62900),
    ],
)
def test_tiers_at_their_edges(watts: int, net_365: int, net_730: int) -> None:
    assert one(watts, LicenceTerm.DAYS_365) == net_365
    assert one(watts, LicenceTerm.DAYS_730) == net_730


def test_an_unknown_inverter_counts_20000_w() -> None:
    plant = PlantPower(plant_id=1, name="Scheune", inverters=(None,))
    assert plant.power_w == 20_000
    assert plant.unknown_inverters == 1
    assert one(None) == 8900  # 20 kW: the "up to 30 kW" tier, not "up to 10 kW"
    # 5 kW known + one unknown = 25 kW; two unknown = 40 kW, the next tier
    assert PlantPower(plant_id=1, name="", inverters=(5000, None)).power_w == 25_000
    two_unknown = PlantPower(plant_id=1, name="", inverters=(None, None))
    assert quote(PRODUCT, [two_unknown], LicenceTerm.DAYS_365, VAT).net == 17900


def test_several_plants_vat_once_per_rate_on_the_total() -> None:
    plants = [
        PlantPower(plant_id=1, name="Scheune", inverters=(4000, 6000)),  # 10,000 W
        PlantPower(plant_id=2, name="Halle", inverters=(6000, None)),  # 26,000 W
    ]
    priced = quote(PRODUCT, plants, LicenceTerm.DAYS_365, VAT)
    assert [line.net for line in priced.lines] == [4900, 8900]
    (sub,) = priced.tax
    assert (sub.category, sub.rate, sub.basis, sub.tax) == (
        VatCategory.STANDARD,
        Decimal(19),
        13800,
        2622,
    )
    assert (priced.net, priced.vat, priced.gross) == (13800, 2622, 16422)


def test_vat_rounds_half_up_on_the_total_not_per_line() -> None:
    # a rate with a half cent per line shows the difference
    seven = TaxTreatment(category=VatCategory.STANDARD, rate=Decimal("7.5"))
    plants = [PlantPower(plant_id=i, name=str(i), inverters=(1000,)) for i in range(1, 4)]
    priced = quote(PRODUCT, plants, LicenceTerm.DAYS_365, seven)
    # per line 49.00 * 7.5 % = 3.675 -> 3.68, three lines 11.04; on the total 147.00 -> 11.025
    # -> 11.03 (half up)
    assert priced.vat == 1103


def test_reverse_charge_for_a_verified_eu_business() -> None:
    buyer = Buyer(business=True, country="AT", vat_id="ATU12345678", vat_verified=True)
    tax = tax_treatment(buyer, PRODUCT.vat_rate)
    priced = quote(PRODUCT, [PlantPower(plant_id=1, name="", inverters=(8000,))],
                   LicenceTerm.DAYS_730, tax)  # fmt: skip
    assert (priced.net, priced.vat, priced.gross) == (8900, 0, 8900)


def test_credit_reduces_what_is_due_never_below_zero() -> None:
    plants = [PlantPower(plant_id=1, name="", inverters=(8000,))]
    priced = quote(PRODUCT, plants, LicenceTerm.DAYS_365, VAT, credit=1598)
    assert (priced.gross, priced.credit, priced.due) == (5831, 1598, 4233)
    assert quote(PRODUCT, plants, LicenceTerm.DAYS_365, VAT, credit=9999).due == 0


def test_credit_to_the_cent() -> None:
    window = Window(
        kind=WindowKind.LICENCE,
        start=datetime(2026, 1, 1, tzinfo=UTC),
        end=datetime(2027, 1, 1, tzinfo=UTC),
        source="billing:contract:1",
        licensed_power_w=10_000,
    )
    credit = Credit(window=window, remaining_days=100, total_days=365)
    # 58.31 * 100 / 365 = 15.9753... -> 15.98
    assert credit_cents(credit, 5831) == 1598
    # 105.91 * 249 / 365 = 72.2506... -> 72.25; 105.91 * 73 / 730 = 10.591 -> 10.59
    assert credit_cents(Credit(window=window, remaining_days=249, total_days=365), 10591) == 7225
    assert credit_cents(Credit(window=window, remaining_days=73, total_days=730), 10591) == 1059
    assert credit_cents(Credit(window=window, remaining_days=0, total_days=365), 5831) == 0


@pytest.mark.parametrize(("raw", "term"), [("365", "365d"), ("730d", "730d"), (365, "365d")])
def test_term_parsing(raw: object, term: str) -> None:
    assert LicenceTerm.parse(raw).value == term


@pytest.mark.parametrize("raw", ["", "30", "366", "abc", None])
def test_other_terms_are_refused(raw: object) -> None:
    with pytest.raises(QuoteError):
        LicenceTerm.parse(raw)


def test_a_plant_once_per_order_and_at_least_one() -> None:
    plant = PlantPower(plant_id=1, name="", inverters=(1000,))
    with pytest.raises(QuoteError):
        quote(PRODUCT, [plant, plant], LicenceTerm.DAYS_365, VAT)
    with pytest.raises(QuoteError):
        quote(PRODUCT, [], LicenceTerm.DAYS_365, VAT)
    with pytest.raises(QuoteError):  # nothing to monitor yet
        quote(PRODUCT, [PlantPower(plant_id=2, name="", inverters=())], LicenceTerm.DAYS_365, VAT)
    hub = load_catalogues().version("2026-01").product("hub-remote")
    with pytest.raises(QuoteError):
        quote(hub, [plant], LicenceTerm.DAYS_365, VAT)
