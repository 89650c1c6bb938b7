"""The owner's monitoring pages and the JSON the portal's small scripts poll (R-MON-17/18).

- ``/plants/{id}/alerts``: alert settings (form, CSRF), open and closed alerts, the chart of
  forecast vs measured with day stepping (``/static/monitoring.js`` draws it as SVG);
- ``/plants/{id}/alerts.json``: the open alerts (the plant page lists them);
- ``/plants/{id}/forecast.json?date=``: forecast and measured power of one local day;
- ``/plants/{id}/inverters/{inv}/live.json``: the inverter's newest stored values.

Another account's plant or inverter is 404; a plant without licence answers 402 for data
(R-MON-16), as the plants API does.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from cloud_gateway.accounts.access import Action, actor_for
from cloud_gateway.http.api import check
from cloud_gateway.http.auth import Identity, csrf_token, require_identity, verify_csrf
from cloud_gateway.http.errors import ErrorCode, refuse
from cloud_gateway.http.keys import ALERTS, CLOCK, STORE
from cloud_gateway.http.pages import render
from cloud_gateway.monitoring.alert_rules import AlertSettings
from cloud_gateway.monitoring.repository import MonitoringRepository, StoredAlert
from cloud_gateway.plants import api
from cloud_gateway.plants.day_energy import day_bounds, local_day
from cloud_gateway.plants.model import Plant
from cloud_gateway.plants.repository import PlantRepository
from cloud_gateway.plants.repository_inverters import InverterRepository
from cloud_gateway.plants.repository_readings import ReadingRepository

__all__ = ["parse_settings", "setup"]

_BUCKET = timedelta(minutes=5)


def _optional(raw: str, scale: float) -> float | None:
    raw = raw.strip().replace(",", ".")
    return None if not raw else float(raw) * scale


def parse_settings(form: Any) -> AlertSettings:
    """The settings form's values; ``ValueError`` when a value is out of range."""
    no_data = _optional(str(form.get("no_data_after_min", "")), 60)
    window = _optional(str(form.get("below_best_window_min", "")), 60) or 3600.0
    return AlertSettings(
        no_data_after=None if no_data is None else timedelta(seconds=no_data),
        below_best_share=_optional(str(form.get("below_best_pct", "")), 0.01),
        below_best_window=timedelta(seconds=window),
        min_irradiance_w_m2=_optional(str(form.get("min_irradiance", "")), 1) or 0.0,
        below_forecast_share=_optional(str(form.get("below_forecast_pct", "")), 0.01),
    )


def _alert_json(alert: StoredAlert) -> dict[str, Any]:
    return {
        "inverter_id": alert.inverter_id,
        "rule": alert.rule.value,
        "opened_at": alert.opened_at.isoformat(),
        "closed_at": None if alert.closed_at is None else alert.closed_at.isoformat(),
        "reason": alert.close_reason,
        "value": alert.value,
        "threshold": alert.threshold,
    }


async def _owned(request: web.Request) -> Plant:
    """The path's plant for the JSON reads: owners and delegated installers (R-MON-20)."""
    return await api.api_plant(request, Action.READ)


async def _settings_plant(request: web.Request, identity: Identity) -> Plant:
    """The path's plant if the logged-in account may change its alert settings (the owner)."""
    store = request.app[STORE]
    try:
        plant_id = int(request.match_info["plant_id"])
    except ValueError:
        raise refuse(ErrorCode.NOT_FOUND) from None
    plant = await store.repo(PlantRepository).get(plant_id, None)
    check(await actor_for(store, identity.account), Action.UPDATE, api.plant_resource(plant))
    return plant


async def alerts_page(request: web.Request, *, status: int = 200, notice: str = "") -> web.Response:
    """Settings form, alerts and the forecast chart of one plant."""
    identity = await require_identity(request)
    plant = await _settings_plant(request, identity)
    repo = request.app[STORE].repo(MonitoringRepository)
    config = (await repo.configs([plant.id])).get(plant.id)
    settings = config.settings if config else AlertSettings()
    history = await repo.history(plant.id)
    inverters = (
        await request.app[STORE]
        .repo(InverterRepository)
        .list_for_plant(plant.id, plant.account_id)  # an operator may open it too
    )
    return render(
        request,
        "plant_alerts.html",
        {
            "plant": plant,
            "settings": settings,
            "muted": bool(config and config.muted),
            "open": [a for a in history if a.closed_at is None],
            "closed": [a for a in history if a.closed_at is not None],
            "names": {i.id: i.name or i.serial for i in inverters},
            "csrf": await csrf_token(request),
            "notice": notice,
            "today": local_day(request.app[CLOCK].now()).isoformat(),
        },
        status=status,
    )


async def alerts_get(request: web.Request) -> web.Response:
    return await alerts_page(request, notice="saved" if "saved" in request.query else "")


async def alerts_save(request: web.Request) -> web.Response:
    """Store the owner's settings (and the mute flag) for the plant."""
    identity = await require_identity(request)
    form = await request.post()
    await verify_csrf(request, form)
    plant = await _settings_plant(request, identity)
    try:
        settings = parse_settings(form)
    except ValueError:
        return await alerts_page(request, status=422, notice="invalid")
    await (
        request.app[STORE]
        .repo(MonitoringRepository)
        .save_settings(plant.id, settings, muted="muted" in form, now=request.app[CLOCK].now())
    )
    raise web.HTTPSeeOther(f"/plants/{plant.id}/alerts?saved=1")


async def alerts_json(request: web.Request) -> web.Response:
    plant = await _owned(request)
    history = await request.app[STORE].repo(MonitoringRepository).history(plant.id)
    return web.json_response(
        {"plant_id": plant.id, "open": [_alert_json(a) for a in history if a.closed_at is None]}
    )


def _measured(rows: list[Any]) -> list[list[Any]]:
    """Plant power per 5-minute bucket: the mean of each inverter, summed."""
    buckets: dict[datetime, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r.power_w is None:
            continue
        seconds = int(r.at.timestamp()) // int(_BUCKET.total_seconds()) * 300
        at = datetime.fromtimestamp(seconds, r.at.tzinfo)
        buckets[at][r.inverter_id].append(r.power_w)
    return [
        [at.isoformat(), round(sum(sum(v) / len(v) for v in per.values()), 1)]
        for at, per in sorted(buckets.items())
    ]


async def forecast_json(request: web.Request) -> web.Response:
    """Forecast and measured power of the plant for one local day (``?date=``)."""
    plant = await _owned(request)
    await api.require_access(request, plant)
    store = request.app[STORE]
    day = api.api_day(request, request.app[CLOCK].now())
    found = await store.repo(MonitoringRepository).watched([plant.id])
    watched = found[0] if found else None
    forecast = None if watched is None else await request.app[ALERTS].forecast(watched, day)
    start, end = day_bounds(day)
    ids = [] if watched is None else [i.id for i in watched.inverters]
    rows = await store.repo(ReadingRepository).between(ids, start, end)
    return web.json_response(
        {
            "plant_id": plant.id,
            "date": day.isoformat(),
            "forecast": [] if forecast is None else [[a.isoformat(), w] for a, w in forecast.curve],
            "forecast_wh": None if forecast is None else forecast.plant_wh,
            "measured": _measured(rows),
        }
    )


_DETAILS = (
    "dc_voltage_v",
    "dc_current_a",
    "temperature_cabinet_c",
    "temperature_heat_sink_c",
)


async def live_json(request: web.Request) -> web.Response:
    """The inverter's newest stored values (power, energy, DC, state), today's energy, the
    newest reading's details (DC voltage and current, per MPPT, temperatures) and its newest
    SunSpec events."""
    plant = await api.api_plant(request, Action.READ)
    inverter, its_plant = await api.api_inverter(request, Action.READ)
    if its_plant.id != plant.id:
        raise refuse(ErrorCode.NOT_FOUND)
    await api.require_access(request, plant)
    store = request.app[STORE]
    now = request.app[CLOCK].now()
    monitoring = store.repo(MonitoringRepository)
    latest = await monitoring.latest_reading(inverter.id)
    details_at, details, events = await monitoring.live_details(inverter.id)
    days = await store.repo(ReadingRepository).day_states([inverter.id], local_day(now))
    return web.json_response(
        {
            **{key: details.get(key) for key in _DETAILS},
            "details_at": None if details_at is None else details_at.isoformat(),
            "mppt": details.get("mppt", []),
            "events": [
                {"at": at.isoformat(), "code": code, "active": active}
                for at, code, active in events
            ],
            "inverter_id": inverter.id,
            "serial": inverter.serial,
            "at": None if latest is None else latest.at.isoformat(),
            "power_w": None if latest is None else latest.power_w,
            "energy_today_wh": sum(s.energy_wh for s in days.get(inverter.id, ())),
            "energy_total_wh": None if latest is None else latest.energy_wh,
            "dc_power_w": None if latest is None else latest.dc_power_w,
            "state": None if latest is None else latest.state,
        }
    )


def setup(app: web.Application) -> None:
    """Register the owner's pages and JSON."""
    plant = "/plants/{plant_id:\\d+}"
    app.router.add_get(plant + "/alerts", alerts_get, name="plant_alerts")
    app.router.add_post(plant + "/alerts", alerts_save)
    app.router.add_get(plant + "/alerts.json", alerts_json)
    app.router.add_get(plant + "/forecast.json", forecast_json)
    app.router.add_get(plant + "/inverters/{inverter_id:\\d+}/live.json", live_json)
