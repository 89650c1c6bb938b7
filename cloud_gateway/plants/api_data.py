"""JSON API, second half: inverter edits and swaps, live figures and readings (402-guarded)."""

from __future__ import annotations

from aiohttp import web

from cloud_gateway.app_keys import INVERTER_REGISTRATION, STORE
from cloud_gateway.plants import api
from cloud_gateway.plants.errors import (
    ActivationCodeError,
    ActivationRateLimitedError,
    InvalidPlantError,
    SerialTakenError,
)
from cloud_gateway.plants.live import summarise
from cloud_gateway.telemetry.day_energy import day_bounds
from cloud_gateway.web import CLOCK

__all__ = ["setup"]

_REGISTRATION_ERRORS = (
    InvalidPlantError,
    ActivationCodeError,
    ActivationRateLimitedError,
    SerialTakenError,
)


async def list_inverters(request: web.Request) -> web.Response:
    account_id = await api.api_account(request)
    plant = await api.api_plant(request, account_id)
    found = await request.app[STORE].inverters.list_for_plant(plant.id, account_id)
    return web.json_response({"inverters": [api.inverter_json(i) for i in found]})


async def get_inverter(request: web.Request) -> web.Response:
    account_id = await api.api_account(request)
    inverter = await api.api_inverter(request, account_id)
    return web.json_response(api.inverter_json(inverter))


async def update_inverter(request: web.Request) -> web.Response:
    account_id = await api.api_account(request)
    inverter = await api.api_inverter(request, account_id)
    body = await api.api_body(request)
    name = str(body.get("name", inverter.name)).strip()
    if len(name) > 100:
        raise api.api_error(422, "invalid", fields={"name": "plants.err.too_long"})
    updated = await request.app[STORE].inverters.rename(inverter.id, account_id, name)
    return web.json_response(api.inverter_json(updated))


async def delete_inverter(request: web.Request) -> web.Response:
    account_id = await api.api_account(request)
    inverter = await api.api_inverter(request, account_id)
    await request.app[STORE].inverters.delete(inverter.id, account_id)
    return web.Response(status=204)


async def swap_inverter(request: web.Request) -> web.Response:
    account_id = await api.api_account(request)
    inverter = await api.api_inverter(request, account_id)
    body = await api.api_body(request)
    try:
        swapped = await request.app[INVERTER_REGISTRATION].swap(
            account_id=account_id,
            inverter_id=inverter.id,
            serial=str(body.get("serial", "")),
            code=str(body.get("activation_code", "")),
        )
    except _REGISTRATION_ERRORS as exc:
        raise api.registration_error(exc) from None
    return web.json_response(api.inverter_json(swapped))


async def plant_live(request: web.Request) -> web.Response:
    """Power now and energy today of the plant and each inverter."""
    account_id = await api.api_account(request)
    plant = await api.api_plant(request, account_id)
    await api.require_access(request, plant)
    store = request.app[STORE]
    now = request.app[CLOCK].now()
    day = api.api_day(request, now)
    found = await store.inverters.list_for_plant(plant.id, account_id)
    days = await store.readings.day_states([i.id for i in found], day)
    live = summarise(found, days, now)
    return web.json_response({"plant_id": plant.id, "date": day.isoformat(), **api.live_json(live)})


async def plant_readings(request: web.Request) -> web.Response:
    """The readings of every inverter of the plant on one local day (default today)."""
    account_id = await api.api_account(request)
    plant = await api.api_plant(request, account_id)
    await api.require_access(request, plant)
    store = request.app[STORE]
    day = api.api_day(request, request.app[CLOCK].now())
    found = await store.inverters.list_for_plant(plant.id, account_id)
    start, end = day_bounds(day)
    rows = await store.readings.between([i.id for i in found], start, end)
    return web.json_response(
        {
            "plant_id": plant.id,
            "date": day.isoformat(),
            "readings": [api.reading_json(r) for r in rows],
        }
    )


async def inverter_readings(request: web.Request) -> web.Response:
    """The readings of one inverter on one local day (default today)."""
    account_id = await api.api_account(request)
    inverter = await api.api_inverter(request, account_id)
    store = request.app[STORE]
    plant = await store.plants.get(inverter.plant_id, account_id)
    await api.require_access(request, plant)
    day = api.api_day(request, request.app[CLOCK].now())
    start, end = day_bounds(day)
    rows = await store.readings.between([inverter.id], start, end)
    return web.json_response(
        {
            "inverter_id": inverter.id,
            "date": day.isoformat(),
            "readings": [api.reading_json(r) for r in rows],
        }
    )


def setup(app: web.Application) -> None:
    """Register the JSON API routes."""
    r = app.router
    r.add_get("/api/v1/plants", api.list_plants)
    r.add_post("/api/v1/plants", api.create_plant)
    r.add_get("/api/v1/plants/{plant_id}", api.get_plant)
    r.add_put("/api/v1/plants/{plant_id}", api.update_plant)
    r.add_delete("/api/v1/plants/{plant_id}", api.delete_plant)
    r.add_get("/api/v1/plants/{plant_id}/inverters", list_inverters)
    r.add_post("/api/v1/plants/{plant_id}/inverters", api.add_inverter)
    r.add_get("/api/v1/plants/{plant_id}/live", plant_live)
    r.add_get("/api/v1/plants/{plant_id}/readings", plant_readings)
    r.add_get("/api/v1/inverters/{inverter_id}", get_inverter)
    r.add_patch("/api/v1/inverters/{inverter_id}", update_inverter)
    r.add_delete("/api/v1/inverters/{inverter_id}", delete_inverter)
    r.add_post("/api/v1/inverters/{inverter_id}/swap", swap_inverter)
    r.add_get("/api/v1/inverters/{inverter_id}/readings", inverter_readings)
