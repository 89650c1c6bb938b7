"""Public plants without login (R-MON-6): ``/public/plants`` (list, ``?format=json``) and
``/public/map`` (markers drawn by the gateway as SVG: no third-party tiles or scripts).

Only :class:`~cloud_gateway.monitoring.public.PublicPlant` rows leave: a plant's name,
description, id or owner never appear (``public.py`` has no field for them). Licences decide
through the plant access policy (R-MON-16), as for the owner's own pages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from aiohttp import web

from cloud_gateway.http.keys import CLOCK, PLANT_ACCESS, STORE
from cloud_gateway.http.pages import render
from cloud_gateway.monitoring.errors import ForecastUnavailableError
from cloud_gateway.monitoring.forecast import generators_for
from cloud_gateway.monitoring.public import (
    PlantFigures,
    PublicPage,
    PublicPlant,
    PublicQuery,
    PublicSort,
    public_page,
)
from cloud_gateway.monitoring.repository import MonitoringRepository
from cloud_gateway.plants.day_energy import local_day

__all__ = ["MapMarker", "map_markers", "setup"]

# the map's frame: Germany and its neighbours; markers outside widen it
_WEST, _EAST, _SOUTH, _NORTH = 5.5, 15.5, 47.0, 55.2
_WIDTH = 600


@dataclass(frozen=True, slots=True, kw_only=True)
class MapMarker:
    """One marker in SVG user units, with the row it stands for."""

    x: float
    y: float
    plant: PublicPlant


def map_markers(plants: tuple[PublicPlant, ...]) -> tuple[tuple[float, float], list[MapMarker]]:
    """The SVG size and the markers of ``plants`` (equirectangular, scaled at mid latitude)."""
    located = [p for p in plants if p.latitude is not None and p.longitude is not None]
    west = min([_WEST, *(p.longitude or 0 for p in located)])
    east = max([_EAST, *(p.longitude or 0 for p in located)])
    south = min([_SOUTH, *(p.latitude or 0 for p in located)])
    north = max([_NORTH, *(p.latitude or 0 for p in located)])
    squash = math.cos(math.radians((north + south) / 2))
    scale = _WIDTH / ((east - west) * squash)
    height = (north - south) * scale
    markers = [
        MapMarker(
            x=round(((p.longitude or 0) - west) * squash * scale, 1),
            y=round((north - (p.latitude or 0)) * scale, 1),
            plant=p,
        )
        for p in located
    ]
    return (float(_WIDTH), round(height, 1)), markers


async def _page(request: web.Request) -> PublicPage:
    store, clock = request.app[STORE], request.app[CLOCK]
    repo = store.repo(MonitoringRepository)
    now = clock.now()
    plants = await repo.public_plants()
    access = request.app[PLANT_ACCESS]
    licensed = {p.id for p in plants if (await access.decide(p, now)).entitled}
    shown = [p for p in plants if p.id in licensed]
    ids = [p.id for p in shown]
    totals = await repo.plant_totals(ids, local_day(now)) if ids else {}
    inverters = {w.plant.id: w.inverters for w in await repo.watched(ids)} if ids else {}
    figures = {}
    for plant in shown:
        try:
            generator: float | None = generators_for(
                plant.fields, inverters.get(plant.id, ())
            ).plant.dc_power_w
        except ForecastUnavailableError:
            generator = None
        total = totals[plant.id]
        figures[plant.id] = PlantFigures(
            plant_id=plant.id,
            licensed=True,
            generator_w=generator,
            ac_power_w=total.ac_power_w,
            energy_today_wh=total.energy_today_wh,
            energy_total_wh=total.energy_total_wh,
        )
    return public_page(shown, figures, PublicQuery.from_params(request.query))


async def public_plants(request: web.Request) -> web.Response:
    """The list; ``?format=json`` the same page as JSON."""
    page = await _page(request)
    if request.query.get("format") == "json":
        return web.json_response(page.as_json())
    return render(request, "public_plants.html", {"page": page, "columns": list(PublicSort)})


async def public_map(request: web.Request) -> web.Response:
    """The map: one marker per public plant of the page."""
    page = await _page(request)
    size, markers = map_markers(page.plants)
    return render(request, "public_map.html", {"page": page, "size": size, "markers": markers})


def setup(app: web.Application) -> None:
    """Register the public routes."""
    app.router.add_get("/public/plants", public_plants, name="public_plants")
    app.router.add_get("/public/map", public_map, name="public_map")
