"""The alert benchmark against the store (SQLite and PostgreSQL): rounds and ingest.

The fleet of :mod:`bench.alerts` is written into a fresh database the way the ingest leaves
it: one account, 10,000 plants in their trial with location and orientation, 100,000
inverters, today's day counter of each, and readings one per minute around the comparison
window's start and at "now" (a round reads the readings only through the ``(inverter_id, at)``
index, one seek per inverter, so older readings would not change its cost). The day's
forecasts are cached as the service leaves them (pvlib once per site, scaled per kWp).

``round_s``: :meth:`AlertService.evaluate` as the scheduler calls it, slowest of the rounds:
the first opens the alerts of the offline and derated inverters and writes them with their
mails and MQTT rows in one transaction; the next ones find nothing new.

Ingest with alerts: ``TelemetryIngest`` takes ``ingest_readings`` readings (frames of ten, as
an agent's bus cycle) once alone and once while one round runs in the same event loop and the
offline inverters answer again, so the ingest also evaluates their plants at once
(``AlertService.readings_arrived``: ``ingest_rounds`` evaluations, ``closed_on_ingest`` "no
data" alerts closed, ``ingest_rounds_settle_s`` still running when the readings were in;
the round running beside may see the first readings and close some itself, so
``no_data_open_after``, the "no data" alerts left open at the end, must be 0). The
rounds run once a minute, so per minute the ingest loses only what it is slowed during a
round: ``ingest_with_alerts_vs_without = ((60 - r) + r * d) / 60`` with ``r`` the round's
seconds and ``d`` the rate during a round against the rate alone (reported too, as
``ingest_during_round_vs_without``).
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.ingest import empty_database
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.devices.model import Device, DeviceKind
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.monitoring.forecast import Generator, Site, daylight, expected_day
from cloud_gateway.monitoring.repository import CachedForecast, MonitoringRepository
from cloud_gateway.monitoring.service import AlertService, RoundReport
from cloud_gateway.plants.access import TrialPolicy
from cloud_gateway.plants.schema import (
    inverter_days,
    inverter_nameplates,
    inverters,
    plants,
    readings,
)
from cloud_gateway.store import Store
from cloud_gateway.telemetry.ingest import TelemetryIngest
from tunnel.clock import ManualClock

__all__ = ["measure"]

_DAY = date(2026, 6, 21)
_NOW = datetime(2026, 6, 21, 9, 0, tzinfo=UTC)  # 11:00 in Berlin
_WINDOW = timedelta(hours=1)  # the default comparison window
_CHUNK = 5000


async def _insert(store: Store, table: Any, rows: list[dict[str, Any]]) -> None:
    async with store.engine.begin() as conn:
        for start in range(0, len(rows), _CHUNK):
            await conn.execute(table.insert(), rows[start : start + _CHUNK])


def _serial(inverter_id: int) -> str:
    return f"B{inverter_id:09d}"


async def _seed(store: Store, fleet: list[Any], sites: list[Site]) -> Device:
    owner = await store.repo(AccountRepository).create(
        username="bench", email="bench@example.org", password_hash="h", created_at=_NOW
    )
    device = await store.repo(DeviceRepository).create(
        slug="bench-agent", kind=DeviceKind.INVERTER_AGENT, created_at=_NOW, account_id=owner.id
    )
    started = _NOW - timedelta(days=1)
    plant_rows, inverter_rows, day_rows, reading_rows, nameplate_rows = [], [], [], [], []
    window_start = _NOW - _WINDOW
    for plant in fleet:
        site = sites[plant.site]
        plant_rows.append(
            {
                "id": plant.plant_id,
                "account_id": owner.id,
                "name": f"P{plant.plant_id}",
                "latitude": site.latitude,
                "longitude": site.longitude,
                "tilt_deg": int(site.tilt_deg),
                "azimuth_deg": int(site.azimuth_deg),
                "module_area_m2": sum(i.kwp for i in plant.inverters) / 0.2,
                "trial_started_at": started,
                "created_at": started,
            }
        )
        for inv in plant.inverters:
            serial = _serial(inv.inverter_id)
            inverter_rows.append(
                {
                    "id": inv.inverter_id,
                    "plant_id": plant.plant_id,
                    "serial": serial,
                    "activated_at": started,
                }
            )
            # the agent reports the nominal power (SunSpec WRtg): the forecast's shares of the
            # generator, so the kWp each inverter is compared by, follow it
            nameplate_rows.append(
                {
                    "account_id": owner.id,
                    "serial": serial,
                    "w_rating": round(inv.kwp * 1000),
                    "updated_at": started,
                }
            )
            per_minute = inv.kwp * 700.0 * inv.factor / 60.0
            last_at = _NOW if inv.factor else _NOW - timedelta(hours=2)
            day_rows.append(
                {
                    "inverter_id": inv.inverter_id,
                    "serial": serial,
                    "day": _DAY,
                    "first_at": _NOW - timedelta(hours=6),
                    "first_wh": inv.day_start_wh,
                    "last_at": last_at,
                    "last_wh": inv.counter_wh,
                    "last_power_w": per_minute * 60.0,
                }
            )
            if not inv.factor:
                continue
            minutes = [*range(-2, 4), int(_WINDOW.total_seconds() // 60)]
            for m in minutes:
                at = window_start + timedelta(minutes=m)
                reading_rows.append(
                    {
                        "inverter_id": inv.inverter_id,
                        "device_id": device.id,
                        "serial": serial,
                        "at": at,
                        "power_w": per_minute * 60.0,
                        "energy_wh": inv.counter_wh - per_minute * (_NOW - at).total_seconds() / 60,
                    }
                )
    await _insert(store, plants, plant_rows)
    await _insert(store, inverters, inverter_rows)
    await _insert(store, inverter_nameplates, nameplate_rows)
    await _insert(store, inverter_days, day_rows)
    await _insert(store, readings, reading_rows)
    if store.engine.dialect.name == "postgresql":
        async with store.engine.begin() as conn:
            for table in ("plants", "inverters"):
                await conn.exec_driver_sql(
                    f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"
                )
            await conn.exec_driver_sql("ANALYZE")
    per_kwp = {
        index: (
            expected_day(site, Generator(dc_power_w=1000.0, ac_limit_w=None), _DAY).energy_wh,
            daylight(site, _DAY - timedelta(days=6), _DAY),
        )
        for index, site in enumerate(sites)
    }
    forecasts = {
        plant.plant_id: CachedForecast(
            day=_DAY,
            plant_wh=per_kwp[plant.site][0] * sum(i.kwp for i in plant.inverters),
            inverters_wh={i.inverter_id: per_kwp[plant.site][0] * i.kwp for i in plant.inverters},
            curve=(),
            daylight=per_kwp[plant.site][1],
        )
        for plant in fleet
    }
    await store.repo(MonitoringRepository).save_forecasts(forecasts, _NOW)
    return device


def _reading(inv: Any, at: datetime) -> dict[str, Any]:
    return {
        "v": 1,
        "k": "reading",
        "sn": _serial(inv.inverter_id),
        "unit": 1,
        "ts": int(at.timestamp() * 1000),
        "w": inv.kwp * 700.0 * inv.factor,
        "wh": inv.counter_wh + 20.0,
    }


def _frames(fleet: list[Any], count: int, at: datetime, *, returning: bool = False) -> list[bytes]:
    """``count`` readings of answering inverters in frames of ten (one bus cycle); with
    ``returning`` the offline inverters answer again, first."""
    every = [inv for plant in fleet for inv in plant.inverters]
    back = [inv for inv in every if not inv.factor] if returning else []
    members = (back + [inv for inv in every if inv.factor])[:count]
    return [
        json.dumps([_reading(inv, at) for inv in members[start : start + 10]]).encode()
        for start in range(0, len(members), 10)
    ]


async def _ingest(ingest: TelemetryIngest, device: Device, frames: list[bytes], seq: int) -> float:
    start = time.perf_counter()
    await asyncio.gather(*(ingest.ingest(device, seq + n, f) for n, f in enumerate(frames)))
    return time.perf_counter() - start


async def measure(
    backend: str, fleet: list[Any], sites: list[Site], *, rounds: int, ingest_readings: int
) -> dict[str, float]:
    """Seed a fresh database of ``backend`` and time the rounds and the ingest."""
    async with empty_database(backend) as url:
        store = await Store.open(url)
        try:
            device = await _seed(store, fleet, sites)
            clock = ManualClock(_NOW)
            on_ingest: list[RoundReport] = []
            alerts = AlertService(
                store, clock, TrialPolicy(), topic_prefix="bench", on_round=on_ingest.append
            )
            round_s = []
            opened = 0
            for _ in range(rounds):
                start = time.perf_counter()
                report = await alerts.evaluate(clock.now())
                round_s.append(time.perf_counter() - start)
                opened += sum(1 for e in report.events if e.type.value == "opened")
                clock.advance(timedelta(minutes=1))
            ingest = TelemetryIngest(store, clock, access=TrialPolicy(), topic_prefix=None)
            alone = await _ingest(
                ingest, device, _frames(fleet, ingest_readings, clock.now()), 1_000_000
            )
            clock.advance(timedelta(seconds=30))
            # with alerts: a round runs, the offline inverters answer again and the ingest
            # evaluates their plants at once (their "no data" alerts close)
            frames = _frames(fleet, ingest_readings, clock.now(), returning=True)
            ingest.reading_listeners.append(alerts.readings_arrived)
            round_task = asyncio.create_task(alerts.evaluate(clock.now()))
            during = await _ingest(ingest, device, frames, 2_000_000)
            await round_task
            start = time.perf_counter()
            await alerts.close()
            settle = time.perf_counter() - start
            await ingest.close()
            open_now = await store.repo(MonitoringRepository).open_alerts()
            still_silent = sum(1 for k in open_now if k.rule.value == "no_data")
        finally:
            await store.close()
    slowest = max(round_s)
    during_ratio = alone / during
    window = min(slowest, 60.0)
    return {
        "round_s": slowest,
        "opened": float(opened),
        "ingest_alone_s": alone,
        "ingest_during_round_s": during,
        "ingest_rounds": float(len(on_ingest)),
        "closed_on_ingest": float(
            sum(1 for r in on_ingest for e in r.events if e.type.value == "closed")
        ),
        "ingest_rounds_settle_s": settle,
        "no_data_open_after": float(still_silent),
        "ingest_during_round_vs_without": during_ratio,
        "ingest_with_alerts_vs_without": ((60.0 - window) + window * during_ratio) / 60.0,
    }
