"""The public plant list: only public, licensed plants, only the allowed fields."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import UTC, datetime
from decimal import Decimal

from cloud_gateway.monitoring.public import (
    PlantFigures,
    PublicPlant,
    PublicQuery,
    PublicSort,
    public_page,
)
from cloud_gateway.plants.model import Plant, PlantFields

_CREATED = datetime(2026, 3, 1, tzinfo=UTC)
SECRET = "Geheimhof-Müller"


def _plant(plant_id: int, *, public: bool, town: str, postcode: str, secret: str = "") -> Plant:
    return Plant(
        id=plant_id,
        account_id=9000 + plant_id,
        fields=PlantFields(
            name=f"{secret}Anlage {plant_id}",
            description=f"{secret} owner mail {secret.lower()}@example.org",
            module_name=f"{secret}Modul",
            latitude=52.123456 + plant_id,
            longitude=13.654321,
            postcode=postcode,
            town=town,
            country="DE",
            temp_coefficient=-0.37,
            azimuth_deg=180,
            tilt_deg=30,
            module_area_m2=41.5,
            feed_in_tariff_ct=Decimal("8.111"),
            public=public,
        ),
        trial_started_at=_CREATED,
        created_at=_CREATED,
    )


def _figures(plant_id: int, total_wh: float | None, *, licensed: bool = True) -> PlantFigures:
    return PlantFigures(
        plant_id=plant_id,
        licensed=licensed,
        generator_w=8300.0,
        ac_power_w=4100.0 + plant_id,
        energy_today_wh=12_000.0,
        energy_total_wh=total_wh,
    )


PLANTS = [
    _plant(1, public=True, town="Berlin", postcode="10115"),
    _plant(2, public=False, town="Zossen", postcode="15806", secret=SECRET),
    _plant(3, public=True, town="Aachen", postcode="52062"),
    _plant(4, public=True, town="Dresden", postcode="01067"),
    _plant(5, public=True, town="Unlizenziert", postcode="99999", secret=SECRET),
]
FIGURES = {
    1: _figures(1, 5_000_000.0),
    2: _figures(2, 9_999_999.0),
    3: _figures(3, 7_000_000.0),
    4: _figures(4, None),
    5: _figures(5, 8_000_000.0, licensed=False),
}


def test_only_public_licensed_plants_and_only_allowed_fields() -> None:
    page = public_page(PLANTS, FIGURES, PublicQuery())
    assert [p.town for p in page.plants] == ["Aachen", "Berlin", "Dresden"]  # by total, None last
    assert page.total == 3
    assert {f.name for f in fields(PublicPlant)} == {
        "country",
        "postcode",
        "town",
        "generator_w",
        "ac_power_w",
        "energy_today_wh",
        "energy_total_wh",
        "latitude",
        "longitude",
    }
    text = json.dumps(page.as_json(), ensure_ascii=False)
    for leak in (SECRET, "Anlage", "Modul", "example.org", "8.111", "9001", "-0.37", "41.5"):
        assert leak not in text
    assert page.plants[0] == PublicPlant(
        country="DE",
        postcode="52062",
        town="Aachen",
        generator_w=8300.0,
        ac_power_w=4103.0,
        energy_today_wh=12_000.0,
        energy_total_wh=7_000_000.0,
        latitude=55.12,
        longitude=13.65,
    )


def test_sorting_and_paging() -> None:
    by_town = PublicQuery.from_params({"sort": "town"})
    assert (by_town.sort, by_town.descending) == (PublicSort.TOWN, False)
    assert [p.town for p in public_page(PLANTS, FIGURES, by_town).plants] == [
        "Aachen",
        "Berlin",
        "Dresden",
    ]
    desc = PublicQuery.from_params({"sort": "postcode", "order": "desc"})
    assert [p.postcode for p in public_page(PLANTS, FIGURES, desc).plants] == [
        "52062",
        "10115",
        "01067",
    ]
    second = PublicQuery.from_params({"sort": "town", "page": "2", "per_page": "2"})
    page = public_page(PLANTS, FIGURES, second)
    assert [p.town for p in page.plants] == ["Dresden"]
    assert (page.pages, page.total) == (2, 3)
    assert page.as_json()["order"] == "asc"


def test_unreadable_query_takes_defaults() -> None:
    query = PublicQuery.from_params(
        {"sort": "name", "order": "sideways", "page": "-3", "per_page": "100000"}
    )
    assert query == PublicQuery(sort=PublicSort.TOTAL, descending=True, page=1, per_page=200)
    assert PublicQuery.from_params({"page": "zwei"}).page == 1
