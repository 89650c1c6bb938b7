"""Alert evaluation: one full round over 100,000 inverters (one reading each per minute).

The fleet: 10,000 plants of 1 to 19 inverters (10 on average, 2 to 20 kWp each) on 100 sites
across Germany at noon in June, so every rule is decided; 1 % of the inverters are offline
and 1 % derated by 40 %, so alerts open and stay open. Each simulated minute every inverter
that answers delivers one reading into an in-memory stand-in of what the store keeps per
inverter (last reading, lifetime counter, a ring of the counters of the last window); a round
then builds the round inputs from it and runs
:func:`cloud_gateway.monitoring.alert_rules.evaluate_round` over all plants.

Metrics: ``round_s_memory`` (slowest of the measured rounds: inputs + evaluation),
``evaluate_s_memory`` (the pure evaluation alone), ``ingest_s_memory`` (one minute's readings
into the stand-in), ``open_alerts``, and the per-day costs of the physics the shell caches
(``daylight_ms_per_plant_day``, ``forecast_ms_per_plant_day``, pvlib). Goal: a round <= 10 s.

The same round against the store, on both backends (``bench/_alerts_db.py``): the fleet
written as the ingest leaves it, :meth:`AlertService.evaluate` timed (``round_s_sqlite``,
``round_s_postgresql``, goal <= 10 s), and the ingest's rate with a round running against its
rate alone (``ingest_with_alerts_vs_without``, the worse backend, goal >= 0.8).
"""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench._alerts_db import measure
from bench._loop import run_gateway
from cloud_gateway.monitoring.alert_rules import (
    AlertSettings,
    InverterRound,
    PlantRound,
    evaluate_round,
)
from cloud_gateway.monitoring.alert_state import AlertKey, OpenAlert
from cloud_gateway.monitoring.daylight import Daylight
from cloud_gateway.monitoring.forecast import Generator, Site, daylight, expected_day

__all__ = ["run"]

_DAY = date(2026, 6, 21)
_START = datetime(2026, 6, 21, 9, 0, tzinfo=UTC)  # 11:00 in Berlin
_WINDOW_MIN = 60
_SITES = 100
_SETTINGS = AlertSettings(
    no_data_after=timedelta(minutes=30),
    below_best_share=0.2,
    below_best_window=timedelta(minutes=_WINDOW_MIN),
    below_forecast_share=0.5,
)


@dataclass(slots=True)
class _Inverter:
    """What the store keeps per inverter, in memory."""

    inverter_id: int
    kwp: float
    factor: float
    """1.0 healthy, 0.6 derated, 0.0 offline."""
    last_at: datetime
    counter_wh: float
    day_start_wh: float
    ring: list[float] = field(default_factory=list)
    """Counters of the last ``_WINDOW_MIN`` minutes, oldest at ``pos``."""
    pos: int = 0


@dataclass(slots=True)
class _Plant:
    plant_id: int
    site: int
    inverters: list[_Inverter]


def _fleet(n_inverters: int, n_sites: int, rng: random.Random) -> list[_Plant]:
    plants: list[_Plant] = []
    next_id = 1
    while next_id <= n_inverters:
        count = min(rng.randint(1, 19), n_inverters - next_id + 1)
        members = []
        for _ in range(count):
            roll = rng.random()
            factor = 0.0 if roll < 0.01 else 0.6 if roll < 0.02 else 1.0
            kwp = rng.uniform(2.0, 20.0)
            counter = rng.uniform(1e6, 5e7)
            members.append(
                _Inverter(
                    inverter_id=next_id,
                    kwp=kwp,
                    factor=factor,
                    last_at=_START - timedelta(hours=2) if factor == 0.0 else _START,
                    counter_wh=counter,
                    day_start_wh=counter - kwp * 1500.0,
                    ring=[
                        counter - kwp * 700.0 * factor * (_WINDOW_MIN - i) / 60
                        for i in range(_WINDOW_MIN)
                    ],
                )
            )
            next_id += 1
        site = rng.randrange(n_sites)
        plants.append(_Plant(plant_id=len(plants) + 1, site=site, inverters=members))
    return plants


def _ingest(plants: list[_Plant], now: datetime, irradiance: float) -> None:
    """One reading per answering inverter: counter, last instant, the window ring."""
    for plant in plants:
        for inv in plant.inverters:
            if inv.factor == 0.0:
                continue
            inv.counter_wh += inv.kwp * irradiance * inv.factor / 60.0
            inv.last_at = now
            inv.ring[inv.pos] = inv.counter_wh
            inv.pos = (inv.pos + 1) % _WINDOW_MIN


def _inputs(
    plants: list[_Plant], skies: list[Daylight], forecast_wh_per_kwp: list[float]
) -> list[PlantRound]:
    return [
        PlantRound(
            plant_id=plant.plant_id,
            licensed=True,
            muted=False,
            daylight=skies[plant.site],
            settings=_SETTINGS,
            inverters=[
                InverterRound(
                    inverter_id=inv.inverter_id,
                    kwp=inv.kwp,
                    last_reading_at=inv.last_at,
                    window_wh=inv.counter_wh - inv.ring[inv.pos] if inv.factor else None,
                    day_wh=inv.counter_wh - inv.day_start_wh,
                    forecast_day_wh=forecast_wh_per_kwp[plant.site] * inv.kwp,
                )
                for inv in plant.inverters
            ],
        )
        for plant in plants
    ]


def _sites(rng: random.Random, count: int) -> list[Site]:
    return [
        Site(
            latitude=rng.uniform(47.5, 54.5),
            longitude=rng.uniform(6.0, 15.0),
            tilt_deg=rng.choice((15.0, 30.0, 45.0)),
            azimuth_deg=rng.choice((90.0, 135.0, 180.0, 225.0, 270.0)),
            temp_coefficient_pct_per_k=-0.4,
        )
        for _ in range(count)
    ]


def run(*, smoke: bool) -> dict[str, Any]:
    """Build the fleet, feed minutes of readings, time the rounds."""
    rng = random.Random(20260621)
    n_inverters = 200 if smoke else 100_000
    rounds = 2 if smoke else 5
    sites = _sites(rng, 5 if smoke else _SITES)
    start = time.perf_counter()
    skies = [daylight(site, _DAY - timedelta(days=6), _DAY) for site in sites]
    daylight_ms = (time.perf_counter() - start) / len(sites) / 7 * 1000
    start = time.perf_counter()
    unit = Generator(dc_power_w=1000.0, ac_limit_w=None)
    forecast = [expected_day(site, unit, _DAY).energy_wh for site in sites]
    forecast_ms = (time.perf_counter() - start) / len(sites) * 1000
    plants = _fleet(n_inverters, len(sites), rng)
    alerts: dict[AlertKey, OpenAlert] = {}
    round_s: list[float] = []
    evaluate_s: list[float] = []
    ingest_s: list[float] = []
    now = _START
    for _ in range(rounds):
        now += timedelta(minutes=1)
        start = time.perf_counter()
        _ingest(plants, now, irradiance=700.0)
        ingest_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        inputs = _inputs(plants, skies, forecast)
        middle = time.perf_counter()
        alerts = evaluate_round(alerts, inputs, now).alerts
        end = time.perf_counter()
        round_s.append(end - start)
        evaluate_s.append(end - middle)
    stored = {
        backend: run_gateway(
            measure(
                backend,
                plants,
                sites,
                rounds=2 if smoke else 3,
                ingest_readings=200 if smoke else 20_000,
            )
        )
        for backend in ("sqlite", "postgresql")
    }
    return {
        "metrics": {
            "inverters": n_inverters,
            "plants": len(plants),
            "rounds": rounds,
            "round_s_memory": max(round_s),
            "round_s_memory_median": statistics.median(round_s),
            "evaluate_s_memory": max(evaluate_s),
            "ingest_s_memory": max(ingest_s),
            "open_alerts": len(alerts),
            "daylight_ms_per_plant_day": daylight_ms,
            "forecast_ms_per_plant_day": forecast_ms,
            "round_s_sqlite": stored["sqlite"]["round_s"],
            "round_s_postgresql": stored["postgresql"]["round_s"],
            "opened_sqlite": stored["sqlite"]["opened"],
            "opened_postgresql": stored["postgresql"]["opened"],
            "ingest_alone_s_sqlite": stored["sqlite"]["ingest_alone_s"],
            "ingest_alone_s_postgresql": stored["postgresql"]["ingest_alone_s"],
            "ingest_during_round_s_sqlite": stored["sqlite"]["ingest_during_round_s"],
            "ingest_during_round_s_postgresql": stored["postgresql"]["ingest_during_round_s"],
            "ingest_rounds_sqlite": stored["sqlite"]["ingest_rounds"],
            "ingest_rounds_postgresql": stored["postgresql"]["ingest_rounds"],
            "closed_on_ingest_sqlite": stored["sqlite"]["closed_on_ingest"],
            "closed_on_ingest_postgresql": stored["postgresql"]["closed_on_ingest"],
            "ingest_rounds_settle_s_sqlite": stored["sqlite"]["ingest_rounds_settle_s"],
            "ingest_rounds_settle_s_postgresql": stored["postgresql"]["ingest_rounds_settle_s"],
            "no_data_open_after_sqlite": stored["sqlite"]["no_data_open_after"],
            "no_data_open_after_postgresql": stored["postgresql"]["no_data_open_after"],
        },
        "ratios": {
            "round_memory_vs_goal": max(round_s) / 10.0,
            "round_sqlite_vs_goal": stored["sqlite"]["round_s"] / 10.0,
            "round_postgresql_vs_goal": stored["postgresql"]["round_s"] / 10.0,
            "ingest_during_round_vs_without": min(
                s["ingest_during_round_vs_without"] for s in stored.values()
            ),
            # the worse backend counts (goal >= 0.8)
            "ingest_with_alerts_vs_without": min(
                s["ingest_with_alerts_vs_without"] for s in stored.values()
            ),
        },
    }
