"""Monitoring persistence: owner settings, alerts (state and history), forecast cache, and
the plants the rounds and public pages read (the per-inverter round figures are in
:mod:`.repository_figures`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from cloud_gateway.accounts.schema import accounts
from cloud_gateway.monitoring.alert_rules import DEFAULT_SETTINGS, AlertSettings
from cloud_gateway.monitoring.alert_state import AlertKey, AlertRule, OpenAlert
from cloud_gateway.monitoring.daylight import Daylight, SunUp
from cloud_gateway.monitoring.messages import MqttMessage
from cloud_gateway.monitoring.schema import alert_settings, alerts, forecast_days
from cloud_gateway.plants.day_energy import day_wh
from cloud_gateway.plants.model import Inverter, Plant
from cloud_gateway.plants.repository import plant_from_row
from cloud_gateway.plants.schema import (
    inverter_days,
    inverter_events,
    inverter_live,
    inverter_nameplates,
    inverters,
    plants,
    readings,
)
from cloud_gateway.store.repository import Repository
from cloud_gateway.telemetry.schema import mqtt_outbox

__all__ = [
    "CachedForecast",
    "MonitoringRepository",
    "PlantAlertConfig",
    "PlantTotals",
    "StoredAlert",
    "WatchedPlant",
]

_S = alert_settings.c
_A = alerts.c
_F = forecast_days.c
_PLANT_ROW = 0
_YIELD_ROWS = 1000
"""Rows between two turns given back to the event loop while a round reads every plant."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PlantAlertConfig:
    """A plant's stored settings, mute flag and per-inverter overrides."""

    muted: bool = False
    settings: AlertSettings = DEFAULT_SETTINGS
    inverters: Mapping[int, AlertSettings] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredAlert:
    """One alert as the portal shows it."""

    id: int
    plant_id: int
    inverter_id: int
    rule: AlertRule
    opened_at: datetime
    value: float
    threshold: float
    closed_at: datetime | None
    close_reason: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CachedForecast:
    """A plant's forecast and sun-up intervals for one local day."""

    day: date
    plant_wh: float | None
    """``None`` when the plant's data does not allow a forecast (no location/orientation)."""
    inverters_wh: Mapping[int, float]
    curve: tuple[tuple[datetime, float], ...]
    daylight: Daylight


@dataclass(frozen=True, slots=True, kw_only=True)
class PlantTotals:
    """What a plant's day counters say now (``None`` where nothing was measured)."""

    ac_power_w: float | None
    energy_today_wh: float | None
    energy_total_wh: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class WatchedPlant:
    """A plant with inverters, its owner's address and language (for the alert mails)."""

    plant: Plant
    inverters: tuple[Inverter, ...]
    owner_email: str
    owner_language: str


def _settings(row: Any) -> AlertSettings:
    return AlertSettings(
        no_data_after=None
        if row.no_data_after_s is None
        else timedelta(seconds=row.no_data_after_s),
        below_best_share=row.below_best_share,
        below_best_window=timedelta(seconds=row.below_best_window_s),
        min_irradiance_w_m2=row.min_irradiance_w_m2,
        below_forecast_share=row.below_forecast_share,
    )


def _settings_values(settings: AlertSettings) -> dict[str, Any]:
    after = settings.no_data_after
    return {
        "no_data_after_s": None if after is None else int(after.total_seconds()),
        "below_best_share": settings.below_best_share,
        "below_best_window_s": int(settings.below_best_window.total_seconds()),
        "min_irradiance_w_m2": settings.min_irradiance_w_m2,
        "below_forecast_share": settings.below_forecast_share,
    }


def _forecast_json(forecast: CachedForecast) -> tuple[str, str]:
    payload = json.dumps(
        {
            "plant_wh": forecast.plant_wh,
            "inverters_wh": {str(k): v for k, v in forecast.inverters_wh.items()},
            "sun": [[s.start.isoformat(), s.end.isoformat()] for s in forecast.daylight.intervals],
        }
    )
    curve = json.dumps([[at.isoformat(), w] for at, w in forecast.curve])
    return payload, curve


def _forecast(day: date, raw: str, curve: str | None) -> CachedForecast:
    data = json.loads(raw)
    return CachedForecast(
        day=day,
        plant_wh=data["plant_wh"],
        inverters_wh={int(k): float(v) for k, v in data["inverters_wh"].items()},
        curve=()
        if curve is None
        else tuple((datetime.fromisoformat(at), float(w)) for at, w in json.loads(curve)),
        daylight=Daylight(
            intervals=tuple(
                SunUp(start=datetime.fromisoformat(a), end=datetime.fromisoformat(b))
                for a, b in data["sun"]
            )
        ),
    )


class MonitoringRepository(Repository):
    """Settings, alerts, forecasts; and the round's figures from the telemetry tables."""

    async def watched(self, plant_ids: Collection[int] | None = None) -> list[WatchedPlant]:
        """Plants with at least one inverter (these ids, or all), with their owners."""
        i, n = inverters.c, inverter_nameplates.c
        inv_query = sa.select(
            i.id, i.plant_id, i.serial, i.name, i.activated_at, n.w_rating
        ).select_from(
            inverters.join(plants, plants.c.id == i.plant_id).outerjoin(
                inverter_nameplates,
                sa.and_(n.account_id == plants.c.account_id, n.serial == i.serial),
            )
        )
        plant_query = sa.select(
            plants,
            accounts.c.email.label("owner_email"),
            accounts.c.language.label("owner_language"),
        ).join(accounts, accounts.c.id == plants.c.account_id)
        if plant_ids is not None:
            inv_query = inv_query.where(i.plant_id.in_(list(plant_ids)))
            plant_query = plant_query.where(plants.c.id.in_(list(plant_ids)))
        by_plant: dict[int, list[Inverter]] = {}
        found: list[WatchedPlant] = []
        async with self._db.connect() as conn:
            for n_row, r in enumerate(await conn.execute(inv_query.order_by(i.id)), 1):
                by_plant.setdefault(r.plant_id, []).append(
                    Inverter(
                        id=r.id,
                        plant_id=r.plant_id,
                        serial=r.serial,
                        name=r.name,
                        activated_at=r.activated_at,
                        nominal_power_w=r.w_rating,
                    )
                )
                if not n_row % _YIELD_ROWS:
                    await asyncio.sleep(0)  # a round shares the event loop with the ingest
            for n_row, r in enumerate(await conn.execute(plant_query.order_by(plants.c.id)), 1):
                if r.id in by_plant:
                    found.append(
                        WatchedPlant(
                            plant=plant_from_row(r._mapping),
                            inverters=tuple(by_plant[r.id]),
                            owner_email=r.owner_email,
                            owner_language=r.owner_language,
                        )
                    )
                if not n_row % _YIELD_ROWS:
                    await asyncio.sleep(0)
        return found

    async def public_plants(self) -> list[Plant]:
        """Every plant its owner marked "Öffentliche Anlage" (the web layer decides licences)."""
        async with self._db.connect() as conn:
            rows = await conn.execute(plants.select().where(plants.c.public.is_(True)))
            return [plant_from_row(r._mapping) for r in rows]

    async def plant_totals(self, plant_ids: Collection[int], today: date) -> dict[int, PlantTotals]:
        """Current AC power, today's and total energy of these plants (day counters)."""
        d, i = inverter_days.c, inverters.c
        query = (
            sa.select(
                i.plant_id,
                d.inverter_id,
                d.serial,
                d.day,
                d.first_wh,
                d.last_wh,
                d.last_at,
                d.last_power_w,
            )
            .select_from(inverter_days.join(inverters, i.id == d.inverter_id))
            .where(i.plant_id.in_(list(plant_ids)))
            .order_by(d.last_at)
        )
        power: dict[int, dict[int, float]] = {}
        today_wh: dict[int, float] = {}
        total: dict[int, dict[tuple[int, str], float]] = {}
        async with self._db.connect() as conn:
            for r in await conn.execute(query):
                total.setdefault(r.plant_id, {})[(r.inverter_id, r.serial)] = r.last_wh
                if r.day == today:
                    today_wh[r.plant_id] = today_wh.get(r.plant_id, 0.0) + day_wh(
                        r.first_wh, r.last_wh
                    )
                    if r.last_power_w is not None:
                        power.setdefault(r.plant_id, {})[r.inverter_id] = r.last_power_w
        return {
            plant_id: PlantTotals(
                ac_power_w=sum(power[plant_id].values()) if plant_id in power else None,
                energy_today_wh=today_wh.get(plant_id),
                energy_total_wh=sum(total[plant_id].values()) if plant_id in total else None,
            )
            for plant_id in plant_ids
        }

    async def latest_reading(self, inverter_id: int) -> Any:
        """The inverter's newest stored reading row, or ``None``."""
        r = readings.c
        async with self._db.connect() as conn:
            rows = await conn.execute(
                sa.select(r.at, r.power_w, r.energy_wh, r.dc_power_w, r.state)
                .where(r.inverter_id == inverter_id)
                .order_by(r.at.desc(), r.id.desc())
                .limit(1)
            )
            return rows.first()

    async def live_details(
        self, inverter_id: int, *, events: int = 20
    ) -> tuple[datetime | None, dict[str, Any], list[tuple[datetime, int, bool]]]:
        """The inverter's newest reading details (instant, stored JSON) and its newest SunSpec
        events (instant, bit, raised), newest first."""
        lc, ec = inverter_live.c, inverter_events.c
        async with self._db.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(lc.at, lc.payload).where(lc.inverter_id == inverter_id)
                )
            ).first()
            found = await conn.execute(
                sa.select(ec.at, ec.code, ec.active)
                .where(ec.inverter_id == inverter_id)
                .order_by(ec.at.desc(), ec.id.desc())
                .limit(events)
            )
            history = [(r.at, int(r.code), bool(r.active)) for r in found]
        if row is None:
            return None, {}, history
        return row.at, json.loads(row.payload), history

    # -- settings ----------------------------------------------------------------------------

    async def configs(
        self, plant_ids: Collection[int] | None = None
    ) -> dict[int, PlantAlertConfig]:
        """Stored settings of these plants (all when ``None``); absent plants use defaults."""
        query = alert_settings.select()
        if plant_ids is not None:
            query = query.where(_S.plant_id.in_(list(plant_ids)))
        plant_rows: dict[int, Any] = {}
        overrides: dict[int, dict[int, AlertSettings]] = {}
        async with self._db.connect() as conn:
            for row in await conn.execute(query):
                if row.inverter_id == _PLANT_ROW:
                    plant_rows[row.plant_id] = row
                else:
                    overrides.setdefault(row.plant_id, {})[row.inverter_id] = _settings(row)
        result: dict[int, PlantAlertConfig] = {}
        for plant_id in set(plant_rows) | set(overrides):
            stored = plant_rows.get(plant_id)
            result[plant_id] = PlantAlertConfig(
                muted=bool(stored.muted) if stored is not None else False,
                settings=_settings(stored) if stored is not None else DEFAULT_SETTINGS,
                inverters=overrides.get(plant_id, {}),
            )
        return result

    async def save_settings(
        self,
        plant_id: int,
        settings: AlertSettings,
        *,
        muted: bool,
        now: datetime,
        inverter_id: int | None = None,
    ) -> None:
        """Store the plant's settings (or one inverter's override)."""
        slot = _PLANT_ROW if inverter_id is None else inverter_id
        async with self._db.begin() as conn:
            await conn.execute(
                alert_settings.delete().where(_S.plant_id == plant_id, _S.inverter_id == slot)
            )
            await conn.execute(
                alert_settings.insert().values(
                    plant_id=plant_id,
                    inverter_id=slot,
                    muted=muted,
                    updated_at=now,
                    **_settings_values(settings),
                )
            )

    # -- alerts ------------------------------------------------------------------------------

    async def open_alerts(
        self, plant_ids: Collection[int] | None = None
    ) -> dict[AlertKey, OpenAlert]:
        """Every open alert (of these plants): the state a round continues from."""
        query = alerts.select().where(_A.closed_at.is_(None))
        if plant_ids is not None:
            query = query.where(_A.plant_id.in_(list(plant_ids)))
        async with self._db.connect() as conn:
            rows = await conn.execute(query)
            result: dict[AlertKey, OpenAlert] = {}
            for r in rows:
                key = AlertKey(
                    plant_id=r.plant_id, inverter_id=r.inverter_id, rule=AlertRule(r.rule)
                )
                result[key] = OpenAlert(
                    key=key,
                    opened_at=r.opened_at,
                    value=r.value,
                    threshold=r.threshold,
                    clear_since=r.clear_since,
                )
            return result

    async def write_changes(
        self,
        conn: AsyncConnection,
        before: Mapping[AlertKey, OpenAlert],
        after: Mapping[AlertKey, OpenAlert],
        closed: Mapping[AlertKey, tuple[datetime, str]],
    ) -> None:
        """Write a round's changes in the caller's transaction: new, changed, closed alerts."""
        new = [
            {
                "plant_id": key.plant_id,
                "inverter_id": key.inverter_id,
                "rule": key.rule.value,
                "opened_at": alert.opened_at,
                "value": alert.value,
                "threshold": alert.threshold,
                "clear_since": alert.clear_since,
            }
            for key, alert in after.items()
            if key not in before
        ]
        if new:
            await conn.execute(alerts.insert(), new)
        for key, alert in after.items():
            old = before.get(key)
            if old is not None and old.clear_since != alert.clear_since:
                await conn.execute(
                    alerts.update().where(*_open(key)).values(clear_since=alert.clear_since)
                )
        for key, (at, reason) in closed.items():
            await conn.execute(
                alerts.update().where(*_open(key)).values(closed_at=at, close_reason=reason)
            )

    async def queue_mqtt(
        self, conn: AsyncConnection, messages: Sequence[MqttMessage], now: datetime
    ) -> None:
        """Queue alert messages (topic, payload, retain) in the telemetry MQTT outbox, in the
        caller's transaction."""
        if messages:
            await conn.execute(
                mqtt_outbox.insert(),
                [
                    {"topic": t, "payload": p, "retain": r, "created_at": now}
                    for t, p, r in messages
                ],
            )

    async def history(self, plant_id: int, *, limit: int = 50) -> list[StoredAlert]:
        """The plant's alerts, open ones first, then the newest."""
        query = (
            alerts.select()
            .where(_A.plant_id == plant_id)
            .order_by(_A.closed_at.is_not(None), _A.opened_at.desc(), _A.id.desc())
            .limit(limit)
        )
        async with self._db.connect() as conn:
            return [
                StoredAlert(
                    id=r.id,
                    plant_id=r.plant_id,
                    inverter_id=r.inverter_id,
                    rule=AlertRule(r.rule),
                    opened_at=r.opened_at,
                    value=r.value,
                    threshold=r.threshold,
                    closed_at=r.closed_at,
                    close_reason=r.close_reason,
                )
                for r in await conn.execute(query)
            ]

    # -- forecast cache ----------------------------------------------------------------------

    async def forecasts(
        self, day: date, *, plant_ids: Collection[int] | None = None, with_curve: bool = False
    ) -> dict[int, CachedForecast]:
        """The cached forecasts for ``day`` of these plants (all when ``None``); the curve
        only ``with_curve`` (the rounds need the energies and the sun, the chart the curve)."""
        columns = [_F.plant_id, _F.payload, *([_F.curve] if with_curve else [])]
        query = sa.select(*columns).where(_F.day == day)
        if plant_ids is not None:
            query = query.where(_F.plant_id.in_(list(plant_ids)))
        async with self._db.connect() as conn:
            rows = await conn.execute(query)
            return {
                r.plant_id: _forecast(day, r.payload, r.curve if with_curve else None) for r in rows
            }

    async def save_forecast(self, plant_id: int, forecast: CachedForecast, now: datetime) -> None:
        """Cache a computed forecast (replacing one computed concurrently)."""
        await self.save_forecasts({plant_id: forecast}, now)

    async def save_forecasts(self, found: Mapping[int, CachedForecast], now: datetime) -> None:
        """Cache computed forecasts of plants (replacing ones computed concurrently)."""
        if not found:
            return
        rows = []
        for plant_id, forecast in found.items():
            payload, curve = _forecast_json(forecast)
            rows.append(
                {
                    "plant_id": plant_id,
                    "day": forecast.day,
                    "payload": payload,
                    "curve": curve,
                    "computed_at": now,
                }
            )
        async with self._db.begin() as conn:
            for forecast_day in {f.day for f in found.values()}:
                ids = [p for p, f in found.items() if f.day == forecast_day]
                for chunk in range(0, len(ids), 1000):
                    await conn.execute(
                        forecast_days.delete().where(
                            _F.day == forecast_day, _F.plant_id.in_(ids[chunk : chunk + 1000])
                        )
                    )
            await conn.execute(forecast_days.insert(), rows)


def _open(key: AlertKey) -> tuple[sa.ColumnElement[bool], ...]:
    return (
        _A.plant_id == key.plant_id,
        _A.inverter_id == key.inverter_id,
        _A.rule == key.rule.value,
        _A.closed_at.is_(None),
    )
