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
    "PLANT_FIELDS",
    "UNKNOWN_NOMINAL_POWER_W",
    "FieldKind",
    "FieldSpec",
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
    if raw is not None and not isinstance(raw, str):
        # NaN, numbers, lists and objects are refused, never stringified (issue 20 item 9)
        raise ValueError("plants.err.text")
    text = "" if raw is None else raw.strip()
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


_YES = frozenset({"1", "true", "on", "yes", "ja"})
_NO = frozenset({"", "0", "false", "off", "no", "nein"})


def _flag(raw: object) -> bool:
    if raw is None or isinstance(raw, bool):
        return bool(raw)
    word = raw.strip().lower() if isinstance(raw, str) else None
    if word in _YES:
        return True
    if word in _NO:
        return False
    raise ValueError("plants.err.flag")


def _country(raw: object) -> str:
    country = _text(raw, 2).upper() or "DE"
    if not (len(country) == 2 and country.isalpha()):
        raise ValueError("plants.err.country")
    return country


def _choice(raw: object) -> PlantType:
    if raw is not None and not isinstance(raw, str):
        raise ValueError("plants.err.choice")
    try:
        return PlantType(raw or PlantType.PV)
    except ValueError:
        raise ValueError("plants.err.choice") from None


def parse_plant_fields(data: Mapping[str, object]) -> PlantFields:
    """Validate a form or JSON object; :class:`InvalidPlantError` names every bad field."""
    problems: dict[str, str] = {}
    values: dict[str, object] = {}
    for spec in PLANT_FIELDS:
        try:
            values[spec.name] = spec.parse(data.get(spec.name))
        except ValueError as exc:
            problems[spec.name] = str(exc)
    for spec in PLANT_FIELDS:
        if spec.required and spec.name not in problems and not values.get(spec.name):
            problems[spec.name] = "plants.err.required"
    if problems:
        raise InvalidPlantError(problems)
    return PlantFields(**values)  # type: ignore[arg-type]


class FieldKind(StrEnum):
    """What a plant field holds; its kind decides parsing, JSON, OpenAPI, form and column."""

    TEXT = "text"
    LONG_TEXT = "long_text"
    COUNTRY = "country"
    FLOAT = "float"
    INT = "int"
    TARIFF = "tariff"
    """ct/kWh as ``Decimal``, stored as integer thousandths of a cent (``<name>`` -> ``mct``)."""
    CHOICE = "choice"
    """A :class:`PlantType`."""
    FLAG = "flag"


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldSpec:
    """One plant field: the one definition parsing, form, JSON, OpenAPI and column follow."""

    name: str
    kind: FieldKind
    required: bool = False
    """The owner must fill it in (the form marks it, the column has no default)."""
    limit: int = 0
    """Longest text (TEXT, LONG_TEXT)."""
    low: float = 0.0
    high: float = 0.0
    """Allowed range (FLOAT, INT)."""

    @property
    def column(self) -> str:
        """The ``plants`` column holding the field."""
        return (
            self.name.removesuffix("_ct") + "_mct" if self.kind is FieldKind.TARIFF else self.name
        )

    @property
    def json_type(self) -> str:
        """The JSON (OpenAPI) type of the field's value."""
        return _JSON_TYPES[self.kind]

    def parse(self, raw: object) -> object:
        """The field's value from a form or JSON value (``ValueError`` with a text id)."""
        match self.kind:
            case FieldKind.TEXT | FieldKind.LONG_TEXT:
                return _text(raw, self.limit)
            case FieldKind.COUNTRY:
                return _country(raw)
            case FieldKind.FLOAT:
                return _float(raw, self.low, self.high)
            case FieldKind.INT:
                return _int(raw, int(self.low), int(self.high))
            case FieldKind.TARIFF:
                return _tariff(raw)
            case FieldKind.CHOICE:
                return _choice(raw)
            case FieldKind.FLAG:
                return _flag(raw)

    def to_json(self, value: object) -> object:
        """The value as the API shows it (the tariff as a decimal string)."""
        if value is None or self.kind not in {FieldKind.TARIFF, FieldKind.CHOICE}:
            return value
        return str(value)

    def to_column(self, value: object) -> object:
        """The value as stored."""
        if self.kind is FieldKind.TARIFF and isinstance(value, Decimal):
            return tariff_to_mct(value)
        return str(value) if self.kind is FieldKind.CHOICE else value

    def from_column(self, stored: object) -> object:
        """The stored value as the field holds it."""
        if self.kind is FieldKind.TARIFF:
            return None if stored is None else mct_to_tariff(int(str(stored)))
        if self.kind is FieldKind.CHOICE:
            return PlantType(str(stored))
        return bool(stored) if self.kind is FieldKind.FLAG else stored


_JSON_TYPES = {
    FieldKind.TEXT: "string",
    FieldKind.LONG_TEXT: "string",
    FieldKind.COUNTRY: "string",
    FieldKind.FLOAT: "number",
    FieldKind.INT: "integer",
    FieldKind.TARIFF: "string",
    FieldKind.CHOICE: "string",
    FieldKind.FLAG: "boolean",
}

#: every field of :class:`PlantFields`, in form order: the one list parsing, the form, the JSON,
#: the OpenAPI schema and the ``plants`` columns are made from (add a field here and there)
PLANT_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(name="name", kind=FieldKind.TEXT, required=True, limit=100),
    FieldSpec(name="description", kind=FieldKind.LONG_TEXT, limit=2000),
    FieldSpec(name="module_name", kind=FieldKind.TEXT, limit=100),
    FieldSpec(name="latitude", kind=FieldKind.FLOAT, low=-90.0, high=90.0),
    FieldSpec(name="longitude", kind=FieldKind.FLOAT, low=-180.0, high=180.0),
    FieldSpec(name="postcode", kind=FieldKind.TEXT, limit=16),
    FieldSpec(name="town", kind=FieldKind.TEXT, limit=100),
    FieldSpec(name="country", kind=FieldKind.COUNTRY, limit=2),
    FieldSpec(name="temp_coefficient", kind=FieldKind.FLOAT, low=-5.0, high=5.0),
    FieldSpec(name="azimuth_deg", kind=FieldKind.INT, low=0, high=359),
    FieldSpec(name="tilt_deg", kind=FieldKind.INT, low=0, high=90),
    FieldSpec(name="module_area_m2", kind=FieldKind.FLOAT, low=0.0, high=10_000_000.0),
    FieldSpec(name="feed_in_tariff_ct", kind=FieldKind.TARIFF),
    FieldSpec(name="plant_type", kind=FieldKind.CHOICE),
    FieldSpec(name="public", kind=FieldKind.FLAG),
)
