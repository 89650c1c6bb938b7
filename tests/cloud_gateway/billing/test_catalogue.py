"""The shipped catalogue and the loader's errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cloud_gateway.billing.catalogue import (
    BookingType,
    Catalogue,
    CatalogueSet,
    Charging,
    Family,
    PaymentMedium,
    PeriodUnit,
    load_catalogues,
)
from cloud_gateway.billing.errors import CatalogueError, UnknownProductError
from cloud_gateway.billing.pricing import plant_power_w


def test_shipped_catalogue_has_the_seed_004_contract() -> None:
    product = load_catalogues().effective(date(2026, 6, 1)).product("satellite-uplink")
    assert product.family is Family.SERVICE_CONTRACT
    assert [(f.code, f.net, f.charging) for f in product.one_time_fees] == [
        ("setup", 80000, Charging.PREPAID)
    ]
    plan = product.plan("monthly")
    assert (plan.price(), plan.charging, plan.period_unit) == (
        33600,
        Charging.PREPAID,
        PeriodUnit.MONTH,
    )
    assert (product.min_periods, product.max_periods) == (3, 12)
    assert product.payment_media == (PaymentMedium.BANK_TRANSFER,)
    assert [r.name.get("de") for r in product.reservations] == ["Eingang Bestellformular"]
    assert product.shop_released
    assert product.available_quantity == 50


def test_hub_packages_have_four_runtimes_and_both_booking_types() -> None:
    catalogue = load_catalogues().effective(date(2026, 1, 1))
    hubs = [p for p in catalogue.products if p.family is Family.HUB_PACKAGE]
    assert len(hubs) == 3
    for hub in hubs:
        assert [p.period_length for p in hub.plans] == [1, 6, 12, 24]
        assert set(hub.booking_types) == {BookingType.SINGLE, BookingType.SUBSCRIPTION}
    assert catalogue.product("hub-remote").plan("12m").price() == 2500
    assert catalogue.product("hub-remote").name.get("en") == "Remote access"


def test_licence_tiers_count_unknown_inverters_as_20_kw() -> None:
    plan = load_catalogues().version("2026-01").product("plant-monitoring").plan("365d")
    assert plant_power_w([8000, None]) == 28000
    assert plan.price(plant_power_w([8000])) == 4900
    assert plan.price(10000) == 4900
    assert plan.price(10001) == 8900
    assert plan.price(plant_power_w([8000, None])) == 8900
    assert plan.price(plant_power_w([None] * 6)) == 34900
    with pytest.raises(UnknownProductError):
        plan.price()


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


_HEADER = 'version = "{v}"\neffective_from = "{d}"\n'
_PRODUCT = """
[[products]]
code = "p"
family = "hub_package"
name = {{ de = "P", en = "P" }}
text = {{ de = "", en = "" }}
[[products.plans]]
code = "1m"
name = {{ de = "x", en = "x" }}
period_unit = "month"
period_length = 1
amount = "{amount}"
"""


def test_newer_version_takes_effect_on_its_day_and_old_one_stays_readable(tmp_path: Path) -> None:
    old = _write(
        tmp_path, "a.toml", _HEADER.format(v="1", d="2026-01-01") + _PRODUCT.format(amount="3.00")
    )
    new = _write(
        tmp_path, "b.toml", _HEADER.format(v="2", d="2026-07-01") + _PRODUCT.format(amount="4.00")
    )
    versions = load_catalogues([new, old])
    assert versions.effective(date(2026, 6, 30)).version == "1"
    assert versions.effective(date(2026, 7, 1)).product("p").plan("1m").price() == 400
    assert versions.version("1").product("p").plan("1m").price() == 300
    with pytest.raises(UnknownProductError):
        versions.effective(date(2025, 12, 31))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (_PRODUCT.format(amount="3.001"), "products[0].plans[0]: amount: must be >= 0"),
        (_PRODUCT.format(amount="drei"), "products[0].plans[0]: amount: not a decimal"),
        (_PRODUCT.format(amount="3.00").replace("hub_package", "car"), "products[0].family"),
        (
            _PRODUCT.format(amount="3.00").replace('code = "p"', 'code = "p"\ncolour = 1'),
            "products[0].colour: unknown key",
        ),
    ],
)
def test_loader_errors_name_file_and_key(tmp_path: Path, body: str, message: str) -> None:
    path = _write(tmp_path, "bad.toml", _HEADER.format(v="1", d="2026-01-01") + body)
    with pytest.raises(CatalogueError) as caught:
        load_catalogues([path])
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_duplicate_versions_are_refused() -> None:
    one = Catalogue(version="1", effective_from="2026-01-01", products=())
    with pytest.raises(CatalogueError):
        CatalogueSet((one, one))
