"""JSON API under ``/api/v1`` for plants, inverters and readings (R-MON-18, R-MON-16).

Authentication is the portal session; requests that change something also carry the session's
CSRF token in ``X-CSRF-Token``. Another account's plant or inverter is 404. Data (live figures,
readings) of a plant without a valid trial or licence is 402 with a machine-readable reason::

    {"error": "payment_required", "reason": "expired", "plant_id": 3}
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from aiohttp import web

from cloud_gateway.accounts.access import Action, ObjectKind, Resource
from cloud_gateway.http.api import (
    api_actor,
    api_identity,
    check,
    input_day,
    json_text,
    read_json,
)
from cloud_gateway.http.errors import ErrorCode, refuse
from cloud_gateway.http.keys import CLOCK, INVERTER_REGISTRATION, PLANT_ACCESS, STORE
from cloud_gateway.plants.day_energy import local_day
from cloud_gateway.plants.errors import (
    ActivationCodeError,
    ActivationRateLimitedError,
    InvalidPlantError,
    SerialTakenError,
)
from cloud_gateway.plants.live import PlantLive
from cloud_gateway.plants.model import PLANT_FIELDS, Inverter, Plant, parse_plant_fields
from cloud_gateway.plants.repository import PlantRepository
from cloud_gateway.plants.repository_inverters import InverterRepository
from cloud_gateway.plants.repository_readings import StoredReading

__all__ = [
    "api_account",
    "inverter_json",
    "live_json",
    "plant_json",
    "registration_error",
    "require_access",
]


async def api_account(request: web.Request) -> int:
    """The logged-in account's id (401 if nobody; 403 on a write without CSRF)."""
    return (await api_identity(request)).account.id


def _int(request: web.Request, name: str) -> int:
    try:
        return int(request.match_info[name])
    except ValueError:
        raise refuse(ErrorCode.NOT_FOUND) from None


def plant_json(plant: Plant) -> dict[str, Any]:
    """A plant as the API shows it (the tariff as a decimal string)."""
    f = plant.fields
    return {
        "id": plant.id,
        **{spec.name: spec.to_json(getattr(f, spec.name)) for spec in PLANT_FIELDS},
        "trial_started_at": None
        if plant.trial_started_at is None
        else plant.trial_started_at.isoformat(),
        "created_at": plant.created_at.isoformat(),
    }


def inverter_json(inverter: Inverter) -> dict[str, Any]:
    """An inverter as the API shows it."""
    return {
        "id": inverter.id,
        "plant_id": inverter.plant_id,
        "serial": inverter.serial,
        "name": inverter.name,
        "activated_at": inverter.activated_at.isoformat(),
        "manufacturer": inverter.manufacturer,
        "model": inverter.model,
        "nominal_power_w": inverter.nominal_power_w,
        "counted_power_w": inverter.counted_power_w,
    }


def live_json(live: PlantLive) -> dict[str, Any]:
    """Power now and energy today of a plant and its inverters."""
    return {
        "power_w": live.power_w,
        "energy_today_wh": live.energy_today_wh,
        "nominal_power_w": live.nominal_power_w,
        "inverters": [
            {
                "id": i.inverter.id,
                "serial": i.inverter.serial,
                "power_w": i.power_w,
                "energy_today_wh": i.energy_today_wh,
                "last_seen": None if i.last_seen is None else i.last_seen.isoformat(),
            }
            for i in live.inverters
        ],
    }


def reading_json(r: StoredReading) -> dict[str, Any]:
    return {
        "inverter_id": r.inverter_id,
        "serial": r.serial,
        "at": r.at.isoformat(),
        "power_w": r.power_w,
        "energy_wh": r.energy_wh,
        "dc_power_w": r.dc_power_w,
        "state": r.state,
    }


async def api_plant(request: web.Request, action: Action = Action.READ) -> Plant:
    """The plant of the path if the caller ``can`` do ``action`` to it (404 otherwise).

    Owners reach their plants; installers read the plants delegated to them (R-MON-20).
    """
    _, actor = await api_actor(request)
    plant_id = _int(request, "plant_id")
    plant = await request.app[STORE].repo(PlantRepository).get(plant_id, None)
    check(actor, action, plant_resource(plant))
    return plant


async def api_inverter(
    request: web.Request, action: Action = Action.READ
) -> tuple[Inverter, Plant]:
    """The inverter of the path and its plant, if the caller ``can`` do ``action`` to the
    plant (404 otherwise)."""
    _, actor = await api_actor(request)
    store = request.app[STORE]
    inverter = await store.repo(InverterRepository).get(_int(request, "inverter_id"), None)
    plant = await store.repo(PlantRepository).get(inverter.plant_id, None)
    check(actor, action, plant_resource(plant))
    return inverter, plant


def plant_resource(plant: Plant) -> Resource:
    """A plant as far as access control is concerned."""
    return Resource(kind=ObjectKind.PLANT, owner_account_id=plant.account_id, plant_id=plant.id)


async def require_access(request: web.Request, plant: Plant) -> None:
    """402 unless the plant's data may be served now."""
    answer = await request.app[PLANT_ACCESS].decide(plant, request.app[CLOCK].now())
    if not answer.entitled:
        raise refuse(ErrorCode.PAYMENT_REQUIRED, reason=answer.reason, plant_id=plant.id)


def api_day(request: web.Request, now: datetime) -> date:
    raw = request.query.get("date")
    try:
        return input_day(raw) if raw else local_day(now)
    except ValueError:
        raise refuse(ErrorCode.INVALID_DATE) from None


async def list_plants(request: web.Request) -> web.Response:
    """The app's plant list: only plants with a valid trial or licence (R-MON-16)."""
    account_id = await api_account(request)
    found = await request.app[STORE].repo(PlantRepository).list_for_account(account_id)
    now = request.app[CLOCK].now()
    access = request.app[PLANT_ACCESS]
    shown = [p for p in found if (await access.decide(p, now)).entitled]
    return web.json_response({"plants": [plant_json(p) for p in shown]})


async def create_plant(request: web.Request) -> web.Response:
    account_id = await api_account(request)
    try:
        fields = parse_plant_fields(await read_json(request))
    except InvalidPlantError as exc:
        raise refuse(ErrorCode.INVALID, fields=exc.problems) from None
    plant = (
        await request.app[STORE]
        .repo(PlantRepository)
        .create(account_id, fields, request.app[CLOCK].now())
    )
    return web.json_response(plant_json(plant), status=201)


async def get_plant(request: web.Request) -> web.Response:
    plant = await api_plant(request)
    inverters = request.app[STORE].repo(InverterRepository)
    found = await inverters.list_for_plant(plant.id, plant.account_id)
    return web.json_response({**plant_json(plant), "inverters": [inverter_json(i) for i in found]})


async def update_plant(request: web.Request) -> web.Response:
    plant = await api_plant(request, Action.UPDATE)
    account_id = plant.account_id
    try:
        fields = parse_plant_fields(await read_json(request))
    except InvalidPlantError as exc:
        raise refuse(ErrorCode.INVALID, fields=exc.problems) from None
    updated = await request.app[STORE].repo(PlantRepository).update(plant.id, account_id, fields)
    return web.json_response(plant_json(updated))


async def delete_plant(request: web.Request) -> web.Response:
    plant = await api_plant(request, Action.DELETE)
    await request.app[STORE].repo(PlantRepository).delete(plant.id, plant.account_id)
    return web.Response(status=204)


async def add_inverter(request: web.Request) -> web.Response:
    plant = await api_plant(request, Action.UPDATE)
    account_id = plant.account_id
    body = await read_json(request)
    try:
        inverter = await request.app[INVERTER_REGISTRATION].add(
            account_id=account_id,
            plant_id=plant.id,
            serial=json_text(body, "serial"),
            code=json_text(body, "activation_code"),
            source_address=request.remote or "",
            name=json_text(body, "name"),
        )
    except (
        InvalidPlantError,
        ActivationCodeError,
        ActivationRateLimitedError,
        SerialTakenError,
    ) as exc:
        raise registration_error(exc) from None
    return web.json_response(inverter_json(inverter), status=201)


def registration_error(exc: Exception) -> web.HTTPException:
    """The API answer for a failed registration or swap."""
    if isinstance(exc, ActivationRateLimitedError):
        error = refuse(ErrorCode.RATE_LIMITED, retry_after_s=round(exc.retry_after_s))
        error.headers["Retry-After"] = str(max(1, round(exc.retry_after_s)))
        return error
    if isinstance(exc, ActivationCodeError):
        return refuse(ErrorCode.WRONG_ACTIVATION_CODE)
    if isinstance(exc, SerialTakenError):
        return refuse(ErrorCode.SERIAL_TAKEN)
    problems = exc.problems if isinstance(exc, InvalidPlantError) else {}
    return refuse(ErrorCode.INVALID, fields=problems)
