"""The public plant list and map (R-MON-6) as a pure projection: allowed fields only.

A plant appears only when its owner marked it "Öffentliche Anlage" and it is licensed
(R-MON-16: only licensed plants' data is served). Of it, only these leave the gateway:
country, postcode, town, generator power, current AC power, today's energy, total energy, and
the coordinates for the map marker, rounded to two decimals (about 1 km) so the marker does
not point at a house. No name, description, module name, tariff, id or owner data: a
:class:`PublicPlant` has no field that could carry them.

The list sorts by any shown column (missing values last, ties by country, postcode, town)
and pages; :meth:`PublicQuery.from_params` reads the query string leniently (a public page
shows the defaults rather than an error).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from cloud_gateway.plants.model import Plant

__all__ = [
    "DEFAULT_PER_PAGE",
    "MAX_PER_PAGE",
    "PlantFigures",
    "PublicPage",
    "PublicPlant",
    "PublicQuery",
    "PublicSort",
    "public_page",
]

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
_COORDINATE_DECIMALS = 2


class PublicSort(StrEnum):
    """Columns the public list sorts by."""

    COUNTRY = "country"
    POSTCODE = "postcode"
    TOWN = "town"
    GENERATOR = "generator_w"
    POWER = "ac_power_w"
    TODAY = "energy_today_wh"
    TOTAL = "energy_total_wh"


_DEFAULT_SORT = PublicSort.TOTAL


@dataclass(frozen=True, slots=True, kw_only=True)
class PlantFigures:
    """What the shell measured for one plant (telemetry and forecast)."""

    plant_id: int
    licensed: bool
    """Whether a trial or licence covers now (R-MON-16)."""
    generator_w: float | None
    """Installed power, W peak (``forecast.PlantGenerators.plant.dc_power_w``)."""
    ac_power_w: float | None
    """Current AC power of all inverters, W."""
    energy_today_wh: float | None
    energy_total_wh: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicPlant:
    """One row of the public list and one map marker: the allowed fields, nothing else."""

    country: str
    postcode: str
    town: str
    generator_w: float | None
    ac_power_w: float | None
    energy_today_wh: float | None
    energy_total_wh: float | None
    latitude: float | None
    """Rounded to two decimals; ``None`` (no marker) when the owner gave no location."""
    longitude: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicQuery:
    """Sorting and paging of the public list."""

    sort: PublicSort = _DEFAULT_SORT
    """Default: total energy, largest first; other columns ascend by default."""
    descending: bool = True
    page: int = 1
    """1-based."""
    per_page: int = DEFAULT_PER_PAGE

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> PublicQuery:
        """``?sort=town&order=asc&page=2&per_page=20``; anything unreadable takes its default."""
        try:
            sort = PublicSort(params.get("sort", _DEFAULT_SORT))
        except ValueError:
            sort = _DEFAULT_SORT
        order = params.get("order", "")
        descending = order == "desc" if order in {"asc", "desc"} else sort is _DEFAULT_SORT
        return cls(
            sort=sort,
            descending=descending,
            page=_int(params.get("page"), 1, 1, 1_000_000),
            per_page=_int(params.get("per_page"), DEFAULT_PER_PAGE, 1, MAX_PER_PAGE),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicPage:
    """One page of the public list (all markers of that page for the map)."""

    plants: tuple[PublicPlant, ...]
    query: PublicQuery
    total: int
    """Public plants over all pages."""

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.query.per_page))

    def as_json(self) -> dict[str, Any]:
        """The same page for ``?format=json``."""
        return {
            "plants": [asdict(p) for p in self.plants],
            "page": self.query.page,
            "per_page": self.query.per_page,
            "pages": self.pages,
            "total": self.total,
            "sort": self.query.sort.value,
            "order": "desc" if self.query.descending else "asc",
        }


def _int(raw: str | None, default: int, low: int, high: int) -> int:
    try:
        value = int(raw or "")
    except ValueError:
        return default
    return min(max(value, low), high)


def _coordinate(value: float | None) -> float | None:
    return None if value is None else round(value, _COORDINATE_DECIMALS)


def _project(plant: Plant, figures: PlantFigures) -> PublicPlant:
    fields = plant.fields
    return PublicPlant(
        country=fields.country,
        postcode=fields.postcode,
        town=fields.town,
        generator_w=figures.generator_w,
        ac_power_w=figures.ac_power_w,
        energy_today_wh=figures.energy_today_wh,
        energy_total_wh=figures.energy_total_wh,
        latitude=_coordinate(fields.latitude),
        longitude=_coordinate(fields.longitude),
    )


def public_page(
    plants: Iterable[Plant], figures: Mapping[int, PlantFigures], query: PublicQuery
) -> PublicPage:
    """The public plants (public flag set and licensed) sorted and paged by ``query``."""
    rows = [
        (plant.id, _project(plant, figures[plant.id]))
        for plant in plants
        if plant.fields.public and plant.id in figures and figures[plant.id].licensed
    ]
    # ties and missing values: a fixed order, missing values last whatever the direction
    rows.sort(key=lambda r: (r[1].country, r[1].postcode, r[1].town, r[0]))
    present = [r for r in rows if getattr(r[1], query.sort.value) not in (None, "")]
    missing = [r for r in rows if getattr(r[1], query.sort.value) in (None, "")]
    present.sort(key=lambda r: getattr(r[1], query.sort.value), reverse=query.descending)
    ordered = present + missing
    start = (query.page - 1) * query.per_page
    return PublicPage(
        plants=tuple(p for _, p in ordered[start : start + query.per_page]),
        query=query,
        total=len(ordered),
    )
