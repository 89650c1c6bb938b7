"""JSON API, second half: inverter edits and swaps, live figures and readings (402-guarded)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from cloud_gateway.accounts.access import Action
from cloud_gateway.http.api import json_text, read_json
from cloud_gateway.http.errors import ErrorCode, refuse
from cloud_gateway.http.keys import CLOCK, INVERTER_REGISTRATION, OPENAPI, STORE
from cloud_gateway.http.openapi import json_body, no_content, ok, path_param
from cloud_gateway.plants import api
from cloud_gateway.plants.day_energy import day_bounds
from cloud_gateway.plants.errors import (
    ActivationCodeError,
    ActivationRateLimitedError,
    InvalidPlantError,
    SerialTakenError,
)
from cloud_gateway.plants.live import summarise
from cloud_gateway.plants.model import PLANT_FIELDS
from cloud_gateway.plants.repository_inverters import InverterRepository
from cloud_gateway.plants.repository_readings import ReadingRepository

__all__ = ["setup"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_REGISTRATION_ERRORS = (
    InvalidPlantError,
    ActivationCodeError,
    ActivationRateLimitedError,
    SerialTakenError,
)


async def list_inverters(request: web.Request) -> web.Response:
    plant = await api.api_plant(request)
    inverters = request.app[STORE].repo(InverterRepository)
    found = await inverters.list_for_plant(plant.id, plant.account_id)
    return web.json_response({"inverters": [api.inverter_json(i) for i in found]})


async def get_inverter(request: web.Request) -> web.Response:
    inverter, _ = await api.api_inverter(request)
    return web.json_response(api.inverter_json(inverter))


async def update_inverter(request: web.Request) -> web.Response:
    inverter, plant = await api.api_inverter(request, Action.UPDATE)
    account_id = plant.account_id
    body = await read_json(request)
    name = json_text(body, "name", inverter.name).strip()
    if len(name) > 100:
        raise refuse(ErrorCode.INVALID, fields={"name": "plants.err.too_long"})
    updated = (
        await request.app[STORE].repo(InverterRepository).rename(inverter.id, account_id, name)
    )
    return web.json_response(api.inverter_json(updated))


async def delete_inverter(request: web.Request) -> web.Response:
    inverter, plant = await api.api_inverter(request, Action.UPDATE)
    await request.app[STORE].repo(InverterRepository).delete(inverter.id, plant.account_id)
    return web.Response(status=204)


async def swap_inverter(request: web.Request) -> web.Response:
    inverter, plant = await api.api_inverter(request, Action.UPDATE)
    account_id = plant.account_id
    body = await read_json(request)
    try:
        swapped = await request.app[INVERTER_REGISTRATION].swap(
            account_id=account_id,
            inverter_id=inverter.id,
            serial=json_text(body, "serial"),
            code=json_text(body, "activation_code"),
            source_address=request.remote or "",
        )
    except _REGISTRATION_ERRORS as exc:
        raise api.registration_error(exc) from None
    return web.json_response(api.inverter_json(swapped))


async def plant_live(request: web.Request) -> web.Response:
    """Power now and energy today of the plant and each inverter."""
    plant = await api.api_plant(request)
    await api.require_access(request, plant)
    store = request.app[STORE]
    now = request.app[CLOCK].now()
    day = api.api_day(request, now)
    found = await store.repo(InverterRepository).list_for_plant(plant.id, plant.account_id)
    days = await store.repo(ReadingRepository).day_states([i.id for i in found], day)
    live = summarise(found, days, now)
    return web.json_response({"plant_id": plant.id, "date": day.isoformat(), **api.live_json(live)})


async def plant_readings(request: web.Request) -> web.Response:
    """The readings of every inverter of the plant on one local day (default today)."""
    plant = await api.api_plant(request)
    await api.require_access(request, plant)
    store = request.app[STORE]
    day = api.api_day(request, request.app[CLOCK].now())
    found = await store.repo(InverterRepository).list_for_plant(plant.id, plant.account_id)
    start, end = day_bounds(day)
    rows = await store.repo(ReadingRepository).between([i.id for i in found], start, end)
    return web.json_response(
        {
            "plant_id": plant.id,
            "date": day.isoformat(),
            "readings": [api.reading_json(r) for r in rows],
        }
    )


async def inverter_readings(request: web.Request) -> web.Response:
    """The readings of one inverter on one local day (default today)."""
    inverter, plant = await api.api_inverter(request)
    store = request.app[STORE]
    await api.require_access(request, plant)
    day = api.api_day(request, request.app[CLOCK].now())
    start, end = day_bounds(day)
    rows = await store.repo(ReadingRepository).between([inverter.id], start, end)
    return web.json_response(
        {
            "inverter_id": inverter.id,
            "date": day.isoformat(),
            "readings": [api.reading_json(r) for r in rows],
        }
    )


_PLANT_FIELDS = {spec.name: spec.json_type for spec in PLANT_FIELDS}
_DAY = {
    "name": "date",
    "in": "query",
    "required": False,
    "description": "local day (Europe/Berlin), YYYY-MM-DD; default today",
    "schema": {"type": "string", "format": "date"},
}
_PAID = {"402": {"description": "plant without a valid trial or licence (reason field)"}}


def _operations() -> list[tuple[str, str, Handler, str, dict[str, Any]]]:
    """Method, path, handler, summary and the rest of each operation."""
    plant, inverter = [path_param("plant_id")], [path_param("inverter_id")]
    registration = json_body(
        {"serial": "string", "activation_code": "string", "name": "string"},
        ["serial", "activation_code"],
    )
    plant_body = json_body(_PLANT_FIELDS, [s.name for s in PLANT_FIELDS if s.required])
    checked = ok("see the summary", 201) | {
        "409": {"description": "serial_taken: the serial belongs to another plant"},
        "422": {"description": "wrong_activation_code, or invalid fields"},
        "429": {"description": "rate_limited: too many wrong codes (Retry-After)"},
    }
    return [
        ("GET", "/api/v1/plants", api.list_plants, "The account's licensed plants", {}),
        (
            "POST",
            "/api/v1/plants",
            api.create_plant,
            "Create a plant (201; 422 with per-field problems)",
            {"requestBody": plant_body, "responses": ok("created", 201, 422)},
        ),
        ("GET", "/api/v1/plants/{plant_id}", api.get_plant, "A plant with its inverters", {}),
        (
            "PUT",
            "/api/v1/plants/{plant_id}",
            api.update_plant,
            "Replace a plant's fields (422 with per-field problems)",
            {"requestBody": plant_body, "responses": ok("updated", 422)},
        ),
        (
            "DELETE",
            "/api/v1/plants/{plant_id}",
            api.delete_plant,
            "Delete a plant (204)",
            {"responses": no_content("deleted")},
        ),
        (
            "GET",
            "/api/v1/plants/{plant_id}/inverters",
            list_inverters,
            "The plant's inverters",
            {},
        ),
        (
            "POST",
            "/api/v1/plants/{plant_id}/inverters",
            api.add_inverter,
            "Add an inverter by serial and activation code (201)",
            {"requestBody": registration, "responses": checked},
        ),
        (
            "GET",
            "/api/v1/plants/{plant_id}/live",
            plant_live,
            "Power now and energy today of the plant and each inverter",
            {"parameters": [*plant, _DAY], "responses": ok("live figures") | _PAID},
        ),
        (
            "GET",
            "/api/v1/plants/{plant_id}/readings",
            plant_readings,
            "Readings of every inverter of the plant on one local day",
            {"parameters": [*plant, _DAY], "responses": ok("readings", 400) | _PAID},
        ),
        ("GET", "/api/v1/inverters/{inverter_id}", get_inverter, "One inverter", {}),
        (
            "PATCH",
            "/api/v1/inverters/{inverter_id}",
            update_inverter,
            "Rename an inverter",
            {"requestBody": json_body({"name": "string"}), "responses": ok("renamed", 422)},
        ),
        (
            "DELETE",
            "/api/v1/inverters/{inverter_id}",
            delete_inverter,
            "Remove an inverter from its plant (204)",
            {"responses": no_content("removed")},
        ),
        (
            "POST",
            "/api/v1/inverters/{inverter_id}/swap",
            swap_inverter,
            "Swap an inverter for a replacement device (its serial and activation code)",
            {"requestBody": registration, "responses": checked},
        ),
        (
            "GET",
            "/api/v1/inverters/{inverter_id}/readings",
            inverter_readings,
            "Readings of one inverter on one local day",
            {"parameters": [*inverter, _DAY], "responses": ok("readings", 400) | _PAID},
        ),
    ]


def setup(app: web.Application) -> None:
    """Register and describe the JSON API routes."""
    for method, path, handler, summary, extra in _operations():
        app.router.add_route(method, path, handler)
        params = [path_param(seg.strip("{}")) for seg in path.split("/") if seg.startswith("{")]
        operation: dict[str, Any] = {
            "summary": summary,
            "parameters": params,
            "responses": ok(summary),
        }
        app[OPENAPI].add(method, path, operation | extra)
