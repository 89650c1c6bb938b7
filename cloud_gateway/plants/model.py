"""Plants and inverters as the owner sees them, and validation of what the owner enters (pure).

R-MON-5: a plant has a free name, description and module name; its location, the modules'
power temperature coefficient, orientation and area, the feed-in tariff; type "PV" or
"PV-Thermieanlage"; and the "Öffentliche Anlage" flag. R-MON-10: an inverter whose nominal
power is unknown counts as 20,000 W.

The feed-in tariff is ``Decimal`` ct/kWh with at most three decimals; it is stored as integer
thousandths of a cent (``mct``), never as a float.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from cloud_gateway.plants.errors import InvalidPlantError

__all__ = [
    "UNKNOWN_NOMINAL_POWER_W",
    "Inverter",
    "Plant",
    "PlantFields",
    "PlantType",
    "mct_to_tariff",
    "parse_plant_fields",
    "tariff_to_mct",
]

UNKNOWN_NOMINAL_POWER_W = 20_000
_MILLI = Decimal("0.001")


class PlantType(StrEnum):
    """What the plant's modules feed."""

    PV = "pv"
    """Electricity ("PV")."""
    PV_THERMAL = "pv_thermal"
    """Hot water through a PV heater ("PV-Thermieanlage")."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PlantFields:
    """Everything the owner enters about a plant."""

    name: str
    """Free name, 1 to 100 characters."""
    description: str = ""
    """Free text."""
    module_name: str = ""
    """Module type as the owner calls it; no effect on monitoring."""
    latitude: float | None = None
    """Degrees north, -90..90."""
    longitude: float | None = None
    """Degrees east, -180..180."""
    postcode: str = ""
    """Postcode of the site."""
    town: str = ""
    """Town of the site."""
    country: str = "DE"
    """ISO 3166-1 alpha-2 country code."""
    temp_coefficient: float | None = None
    """Power temperature coefficient of the modules, %/K (typically -0.3 .. -0.5)."""
    azimuth_deg: int | None = None
    """Orientation: 0 north, 90 east, 180 south, 270 west."""
    tilt_deg: int | None = None
    """Module tilt from horizontal, 0..90."""
    module_area_m2: float | None = None
    """Total module area, m²."""
    feed_in_tariff_ct: Decimal | None = None
    """Feed-in tariff, ct/kWh, three decimals at most."""
    plant_type: PlantType = PlantType.PV
    """PV or PV-Thermieanlage."""
    public: bool = False
    """Shown on the public map and list."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Plant:
    """A stored plant."""

    id: int
    account_id: int
    fields: PlantFields
    trial_started_at: datetime | None
    """When its first inverter was activated (R-MON-8); ``None`` before that."""
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Inverter:
    """An inverter registered in a plant, with what its agent reported about it."""

    id: int
    plant_id: int
    serial: str
    name: str
    activated_at: datetime
    nominal_power_w: int | None = None
    """SunSpec model 120 ``WRtg`` as reported by the agent, if any."""
    manufacturer: str = ""
    model: str = ""

    @property
    def counted_power_w(self) -> int:
        """The nominal power used for licences: reported, or 20,000 W when unknown."""
        return self.nominal_power_w or UNKNOWN_NOMINAL_POWER_W


def tariff_to_mct(tariff: Decimal) -> int:
    """ct/kWh -> integer thousandths of a cent."""
    return int((tariff / _MILLI).to_integral_value(ROUND_HALF_UP))


def mct_to_tariff(mct: int) -> Decimal:
    """Integer thousandths of a cent -> ct/kWh."""
    return (Decimal(mct) * _MILLI).quantize(_MILLI)


def _text(raw: object, limit: int) -> str:
    text = "" if raw is None else str(raw).strip()
    if len(text) > limit:
        raise ValueError("plants.err.too_long")
    return text


def _float(raw: object, low: float, high: float) -> float | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise ValueError("plants.err.number")  # noqa: TRY004 - collected per field as a text id
    try:
        value = float(str(raw).strip().replace(",", "."))
    except ValueError:
        raise ValueError("plants.err.number") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError("plants.err.range")
    return value


def _int(raw: object, low: int, high: int) -> int | None:
    value = _float(raw, low, high)
    if value is None:
        return None
    if value != int(value):
        raise ValueError("plants.err.number")
    return int(value)


def _tariff(raw: object) -> Decimal | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool | float):
        # floats lose cents: send a string or an integer (collected per field as a text id)
        raise ValueError("plants.err.number")  # noqa: TRY004
    try:
        value = Decimal(str(raw).strip().replace(",", "."))
    except InvalidOperation:
        raise ValueError("plants.err.number") from None
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(1000):
        raise ValueError("plants.err.range")
    if value != value.quantize(_MILLI):
        raise ValueError("plants.err.precision")
    return value.quantize(_MILLI)


def _flag(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    return str(raw or "").strip().lower() in {"1", "true", "on", "yes", "ja"}


def parse_plant_fields(data: Mapping[str, object]) -> PlantFields:
    """Validate a form or JSON object; :class:`InvalidPlantError` names every bad field."""
    problems: dict[str, str] = {}
    values: dict[str, object] = {}
    checks = {
        "name": lambda v: _text(v, 100),
        "description": lambda v: _text(v, 2000),
        "module_name": lambda v: _text(v, 100),
        "latitude": lambda v: _float(v, -90.0, 90.0),
        "longitude": lambda v: _float(v, -180.0, 180.0),
        "postcode": lambda v: _text(v, 16),
        "town": lambda v: _text(v, 100),
        "country": lambda v: _text(v, 2).upper() or "DE",
        "temp_coefficient": lambda v: _float(v, -5.0, 5.0),
        "azimuth_deg": lambda v: _int(v, 0, 359),
        "tilt_deg": lambda v: _int(v, 0, 90),
        "module_area_m2": lambda v: _float(v, 0.0, 10_000_000.0),
        "feed_in_tariff_ct": _tariff,
        "public": _flag,
    }
    for key, check in checks.items():
        try:
            values[key] = check(data.get(key))
        except ValueError as exc:
            problems[key] = str(exc)
    if not problems.get("name") and not values.get("name"):
        problems["name"] = "plants.err.required"
    country = values.get("country")
    if isinstance(country, str) and not (len(country) == 2 and country.isalpha()):
        problems["country"] = "plants.err.country"
    try:
        values["plant_type"] = PlantType(str(data.get("plant_type") or PlantType.PV))
    except ValueError:
        problems["plant_type"] = "plants.err.choice"
    if problems:
        raise InvalidPlantError(problems)
    return PlantFields(**values)  # type: ignore[arg-type]
