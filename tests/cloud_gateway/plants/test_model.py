"""Plant fields: validation per field, the tariff as Decimal without floats."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cloud_gateway.plants.errors import InvalidPlantError
from cloud_gateway.plants.model import (
    UNKNOWN_NOMINAL_POWER_W,
    Inverter,
    PlantType,
    mct_to_tariff,
    parse_plant_fields,
    tariff_to_mct,
)
from tunnel.clock import ManualClock


def test_form_values_are_parsed_with_german_decimal_commas() -> None:
    fields = parse_plant_fields(
        {
            "name": " Scheune ",
            "latitude": "48,5383",
            "longitude": "9.2833",
            "country": "de",
            "temp_coefficient": "-0,37",
            "azimuth_deg": "180",
            "module_area_m2": "52.5",
            "feed_in_tariff_ct": "8,110",
            "plant_type": "pv_thermal",
            "public": "on",
        }
    )
    assert fields.name == "Scheune"
    assert fields.latitude == pytest.approx(48.5383)
    assert fields.country == "DE"
    assert fields.feed_in_tariff_ct == Decimal("8.110")
    assert fields.plant_type is PlantType.PV_THERMAL
    assert fields.public is True


def test_every_bad_field_is_named() -> None:
    with pytest.raises(InvalidPlantError) as caught:
        parse_plant_fields(
            {
                "name": "",
                "latitude": "91",
                "azimuth_deg": "12.5",
                "feed_in_tariff_ct": "8.1234",
                "country": "Deutschland",
                "plant_type": "wind",
            }
        )
    assert caught.value.problems == {
        "name": "plants.err.required",
        "latitude": "plants.err.range",
        "azimuth_deg": "plants.err.number",
        "feed_in_tariff_ct": "plants.err.precision",
        "country": "plants.err.too_long",
        "plant_type": "plants.err.choice",
    }


def test_json_floats_are_refused_for_money_but_strings_and_ints_work() -> None:
    with pytest.raises(InvalidPlantError):
        parse_plant_fields({"name": "x", "feed_in_tariff_ct": 8.11})
    assert parse_plant_fields({"name": "x", "feed_in_tariff_ct": 8}).feed_in_tariff_ct == Decimal(8)


def test_tariff_is_stored_as_integer_thousandths_of_a_cent() -> None:
    assert tariff_to_mct(Decimal("8.110")) == 8110
    assert mct_to_tariff(8110) == Decimal("8.110")
    assert mct_to_tariff(tariff_to_mct(Decimal("12.345"))) == Decimal("12.345")


def test_unknown_inverters_count_as_20000_w() -> None:
    now = ManualClock().now()
    unknown = Inverter(id=1, plant_id=1, serial="A", name="", activated_at=now)
    known = Inverter(id=2, plant_id=1, serial="B", name="", activated_at=now, nominal_power_w=6000)
    assert unknown.counted_power_w == UNKNOWN_NOMINAL_POWER_W == 20_000
    assert known.counted_power_w == 6000


def test_one_field_spec_per_plant_field_drives_columns_and_json() -> None:
    from dataclasses import fields  # noqa: PLC0415

    from cloud_gateway.plants.model import PLANT_FIELDS, PlantFields  # noqa: PLC0415
    from cloud_gateway.plants.schema import plants  # noqa: PLC0415

    assert [s.name for s in PLANT_FIELDS] == [f.name for f in fields(PlantFields)]
    assert {s.column for s in PLANT_FIELDS} <= set(plants.c.keys())
    assert next(s for s in PLANT_FIELDS if s.name == "feed_in_tariff_ct").column == (
        "feed_in_tariff_mct"
    )
