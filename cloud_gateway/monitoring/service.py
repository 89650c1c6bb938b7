"""The alert scheduler: one evaluation round a minute over the stored readings (R-MON-17).

A round, at the clock's instant ``now``:

1. reads the plants with inverters and their owners, asks the plant access policy whether
   each is licensed now (R-MON-16, the same answer that serves its data);
2. reads the owners' settings, the open alerts and, paging through the telemetry tables,
   every inverter's last reading, window energy and day energy (``MonitoringRepository``);
3. takes each plant's forecast and sun-up intervals of the local day from the cache, or
   computes them once (pvlib, in a worker thread: ``asyncio.to_thread``) and caches them;
4. runs :func:`~cloud_gateway.monitoring.alert_rules.evaluate_round`;
5. in ONE transaction writes the alert changes, one outbox mail per event that notifies
   (de/en by the owner's language) and one retained MQTT outbox row; then wakes the workers.

The round shares the event loop with the ingest: it gives the loop back between slices of
plants (``_SLICE``) and pages of rows, so a reading waits for one slice, not for the round.

State lives only in the ``alerts`` table, so a restart continues where it stopped: nothing
reopens, nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from cloud_gateway.monitoring.alert_rules import (
    ALL_RULES,
    InverterRound,
    PlantRound,
    RoundResult,
    evaluate_round,
)
from cloud_gateway.monitoring.alert_state import (
    AlertEvent,
    AlertKey,
    AlertRule,
    EventType,
    OpenAlert,
)
from cloud_gateway.monitoring.daylight import Daylight
from cloud_gateway.monitoring.errors import ForecastUnavailableError
from cloud_gateway.monitoring.forecast import (
    BERLIN,
    Site,
    daylight,
    generators_for,
    plant_day,
)
from cloud_gateway.monitoring.messages import MqttMessage, alert_messages
from cloud_gateway.monitoring.repository import (
    CachedForecast,
    MonitoringRepository,
    PlantAlertConfig,
    WatchedPlant,
)
from cloud_gateway.monitoring.repository_figures import FiguresRepository, InverterFigures
from cloud_gateway.monitoring.texts import alert_mail
from cloud_gateway.notify.repository import OutboxRepository
from cloud_gateway.plants.access import PlantAccessPolicy, decide_all
from cloud_gateway.plants.day_energy import day_bounds, local_day
from cloud_gateway.store import Store
from tunnel.clock import Clock

__all__ = ["FALLBACK_SITE", "AlertService", "RoundReport"]

_LOGGER = logging.getLogger(__name__)

FALLBACK_SITE = Site(
    latitude=51.16, longitude=10.45, tilt_deg=30, azimuth_deg=180, temp_coefficient_pct_per_k=-0.4
)
"""Where the sun is counted for a plant without coordinates: the middle of Germany (the
sunrise differs by at most about 40 minutes across the country)."""

_DAYLIGHT_DAYS = 7
_ON_INGEST = frozenset({AlertRule.NO_DATA})
"""What a reading decides at once: the end of a silence. The window rules are decided by the
minute round alone, for every plant alike."""
_LAST_ONLY = timedelta(hours=1)
"""The window read when only the last readings matter (``no_data``)."""
_SLICE = 200
"""Plants per slice of a round's pure work: between slices the round gives the event loop
back, so the ingest sharing it is not held up for the whole round's Python work."""
_NO_DAYLIGHT = Daylight(intervals=())
_MAIL_TEMPLATE = "monitoring_alert"


@dataclass(frozen=True, slots=True, kw_only=True)
class RoundReport:
    """What one round did."""

    at: datetime
    plants: int
    open_alerts: int
    events: tuple[AlertEvent, ...]
    mails: int
    alerts: frozenset[AlertKey] = frozenset()
    """The evaluated plants' open alerts after the round."""


def _without_forecast(day: date) -> CachedForecast:
    """No forecast; the sun-up intervals at :data:`FALLBACK_SITE`."""
    return CachedForecast(
        day=day,
        plant_wh=None,
        inverters_wh={},
        curve=(),
        daylight=daylight(FALLBACK_SITE, day - timedelta(days=_DAYLIGHT_DAYS - 1), day),
    )


def _forecast_for(watched: WatchedPlant, day: date) -> CachedForecast:
    """Forecast and sun-up intervals of one plant's local day (pvlib; run in a thread)."""
    sun_days = (day - timedelta(days=_DAYLIGHT_DAYS - 1), day)
    try:
        generators = generators_for(watched.plant.fields, watched.inverters)
    except ForecastUnavailableError:
        return _without_forecast(day)
    forecast = plant_day(generators, day)
    return CachedForecast(
        day=day,
        plant_wh=forecast.plant.energy_wh,
        inverters_wh={inv: f.energy_wh for inv, f in forecast.inverters.items()},
        curve=tuple((p.at, p.power_w) for p in forecast.plant.points),
        daylight=daylight(generators.site, *sun_days),
    )


def _kwp(watched: WatchedPlant) -> dict[int, float]:
    """Installed kWp per inverter: from the generators, else the nominal power (DC/AC 1)."""
    try:
        generators = generators_for(watched.plant.fields, watched.inverters)
    except ForecastUnavailableError:
        return {inv.id: inv.counted_power_w / 1000.0 for inv in watched.inverters}
    return {inv: gen.kwp for inv, gen in generators.inverters.items()}


async def _evaluate_sliced(
    before: Mapping[AlertKey, OpenAlert],
    rounds: Sequence[PlantRound],
    now: datetime,
    rules: frozenset[AlertRule],
) -> RoundResult:
    """:func:`evaluate_round` over ``rounds`` slice by slice, giving the event loop back in
    between; the same result as one call, since every plant is evaluated on its own."""
    by_plant: dict[int, list[AlertKey]] = {}
    for key in before:
        by_plant.setdefault(key.plant_id, []).append(key)
    alerts = dict(before)
    events: list[AlertEvent] = []
    for start in range(0, len(rounds), _SLICE):
        part = rounds[start : start + _SLICE]
        mine = {k: before[k] for p in part for k in by_plant.get(p.plant_id, ())}
        result = evaluate_round(mine, part, now, rules=rules)
        for key in mine:
            del alerts[key]
        alerts.update(result.alerts)
        events.extend(result.events)
        await asyncio.sleep(0)  # let the ingest run between slices
    return RoundResult(alerts=alerts, events=tuple(events))


class AlertService:
    """Evaluates the alerts every minute; also callable for one round (tests, on demand)."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        access: PlantAccessPolicy,
        *,
        topic_prefix: str | None,
        wakers: Sequence[Callable[[], None]] = (),
        interval: timedelta = timedelta(minutes=1),
        on_round: Callable[[RoundReport], None] | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._access = access
        self._topic_prefix = topic_prefix
        self._wakers = tuple(wakers)
        self._interval = interval
        self._on_round = on_round
        self._repo = store.repo(MonitoringRepository)
        self._day_cache: tuple[date | None, dict[int, CachedForecast]] = (None, {})
        self._kwp_cache: dict[int, tuple[WatchedPlant, dict[int, float]]] = {}
        """Plant id -> the plant and inverters its kWp were derived from, and those kWp: only
        derived again when the plant's fields or inverters changed."""
        self._lock = asyncio.Lock()
        self._silent: dict[int, int] = {}
        """Inverter id -> plant id of the open "no data" alerts: a reading of one of them
        makes the ingest evaluate its plant."""
        self._arrived: set[int] = set()
        self._on_ingest: asyncio.Task[None] | None = None

    async def run(self) -> None:
        """Round after round, on the minute, until cancelled."""
        step = self._interval.total_seconds()
        while True:
            now = self._clock.now()
            try:
                report = await self.evaluate(now)
            except Exception:  # one failed round must not stop the gateway's background tasks
                _LOGGER.exception("alert round at %s failed; next round as planned", now)
            else:
                if self._on_round is not None:
                    self._on_round(report)
            epoch = now.timestamp()
            await self._clock.sleep_until(now + timedelta(seconds=step - epoch % step))

    async def forecast(self, watched: WatchedPlant, day: date) -> CachedForecast:
        """The plant's forecast for ``day`` with its curve (the chart), computed when missing."""
        found = await self._repo.forecasts(day, plant_ids=[watched.plant.id], with_curve=True)
        cached = found.get(watched.plant.id)
        if cached is None:
            cached = await asyncio.to_thread(_forecast_for, watched, day)
            await self._repo.save_forecast(watched.plant.id, cached, self._clock.now())
        return cached

    async def _forecasts(
        self, plants: Sequence[WatchedPlant], day: date
    ) -> dict[int, CachedForecast]:
        """Forecasts of the day for the rounds: kept in memory, the store is the cache that
        survives restarts; a missing one is computed off the event loop and stored."""
        if self._day_cache[0] != day:
            self._day_cache = (day, await self._repo.forecasts(day))
        cached = self._day_cache[1]
        for watched in plants:
            if watched.plant.id not in cached:
                try:
                    computed = await asyncio.to_thread(_forecast_for, watched, day)
                except ValueError:  # pvlib refused the plant's data: no forecast, sun counted
                    _LOGGER.exception("forecast of plant %d failed", watched.plant.id)
                    computed = await asyncio.to_thread(_without_forecast, day)
                await self._repo.save_forecast(watched.plant.id, computed, self._clock.now())
                cached[watched.plant.id] = replace(computed, curve=())
        return cached

    def readings_arrived(self, inverters: Mapping[int, int]) -> None:
        """The ingest committed readings of these inverters (id -> plant id); cheap, called
        after each commit.

        When a reading arrives from an inverter with an open "no data" alert, that rule is
        decided for its plant at once, in the background: the alert closes with the reading
        that ends it. The window rules (``below_best``, ``below_forecast``) are decided by the
        minute round only, for every licensed plant alike, whether or not one of its inverters
        was silent. Every other reading costs one set intersection. Calls while an evaluation
        runs are gathered into the next one.
        """
        silent = self._silent
        wanted = {silent[i] for i in silent.keys() & inverters.keys()}
        if not wanted:
            return
        self._arrived |= wanted
        if self._on_ingest is None or self._on_ingest.done():
            self._on_ingest = asyncio.create_task(self._ingest_rounds(), name="alerts-on-ingest")

    async def _ingest_rounds(self) -> None:
        while self._arrived:
            plant_ids, self._arrived = self._arrived, set()
            now = self._clock.now()
            try:
                report = await self.evaluate(now, plant_ids=plant_ids, rules=_ON_INGEST)
            except Exception:  # the minute round will try again
                _LOGGER.exception("alert evaluation on ingest at %s failed", now)
            else:
                if self._on_round is not None:
                    self._on_round(report)

    async def close(self) -> None:
        """Wait for an evaluation started by the ingest."""
        if self._on_ingest is not None:
            await asyncio.gather(self._on_ingest, return_exceptions=True)

    async def evaluate(
        self,
        now: datetime,
        *,
        plant_ids: Collection[int] | None = None,
        rules: Collection[AlertRule] = ALL_RULES,
    ) -> RoundReport:
        """One round at ``now`` over every plant with inverters (or these plants only: the
        others keep their alerts as they are), deciding ``rules`` (the other rules' alerts stay
        as they are). Rounds never overlap."""
        async with self._lock:
            report = await self._evaluate(now, plant_ids, frozenset(rules))
        silent = {k.inverter_id: k.plant_id for k in report.alerts if k.rule is AlertRule.NO_DATA}
        if plant_ids is None:
            self._silent = silent
        else:
            evaluated = set(plant_ids)
            kept = {i: p for i, p in self._silent.items() if p not in evaluated}
            self._silent = kept | silent
        return report

    async def _evaluate(
        self, now: datetime, plant_ids: Collection[int] | None, rules: frozenset[AlertRule]
    ) -> RoundReport:
        watched = await self._repo.watched(plant_ids)
        if plant_ids is None:  # forget the kWp of plants that are gone
            ids = {w.plant.id for w in watched}
            self._kwp_cache = {k: v for k, v in self._kwp_cache.items() if k in ids}
        today = local_day(now)
        midnight = day_bounds(today)[0]
        access = await decide_all(self._access, [w.plant for w in watched], now)
        licensed = {pid: answer.entitled for pid, answer in access.items()}
        configs = await self._repo.configs(plant_ids)
        forecasts = await self._forecasts([w for w in watched if licensed.get(w.plant.id)], today)
        before = await self._repo.open_alerts(plant_ids)
        windows = {_LAST_ONLY}
        if AlertRule.BELOW_BEST in rules:
            windows |= {c.settings.below_best_window for c in configs.values()}
        figures_repo = self._store.repo(FiguresRepository)
        figures = {
            w: await figures_repo.figures(today, now - w, plant_ids=plant_ids) for w in windows
        }
        rounds: list[PlantRound] = []
        for start in range(0, len(watched), _SLICE):
            rounds.extend(
                self._plant_round(
                    w,
                    licensed=licensed.get(w.plant.id, False),
                    config=configs.get(w.plant.id),
                    forecasts=forecasts,
                    figures=figures,
                    midnight=midnight,
                )
                for w in watched[start : start + _SLICE]
            )
            await asyncio.sleep(0)  # let the ingest run between slices
        result = await _evaluate_sliced(before, rounds, now, rules)
        mails = await self._write(watched, before, result.alerts, result.events, now)
        if result.events:
            for wake in self._wakers:
                wake()
        return RoundReport(
            at=now,
            plants=len(rounds),
            open_alerts=len(result.alerts),
            events=result.events,
            mails=mails,
            alerts=frozenset(result.alerts),
        )

    def _plant_round(
        self,
        watched: WatchedPlant,
        *,
        licensed: bool,
        config: PlantAlertConfig | None,
        forecasts: Mapping[int, CachedForecast],
        figures: Mapping[timedelta, Mapping[int, InverterFigures]],
        midnight: datetime,
    ) -> PlantRound:
        config = config or PlantAlertConfig()
        forecast = forecasts.get(watched.plant.id)
        if not licensed or forecast is None:
            return PlantRound(
                plant_id=watched.plant.id,
                licensed=False,
                muted=config.muted,
                daylight=forecast.daylight if forecast else _NO_DAYLIGHT,
                inverters=(),
            )
        kwp = self._kwp(watched)
        window = figures.get(config.settings.below_best_window) or figures[_LAST_ONLY]
        inverters = []
        for inv in watched.inverters:
            fig = window.get(inv.id)
            inverters.append(
                InverterRound(
                    inverter_id=inv.id,
                    kwp=kwp.get(inv.id, inv.counted_power_w / 1000.0),
                    last_reading_at=fig.last_at if fig and fig.last_at else inv.activated_at,
                    window_wh=fig.window_wh if fig else None,
                    day_wh=None if inv.activated_at > midnight else (fig.day_wh if fig else 0.0),
                    forecast_day_wh=forecast.inverters_wh.get(inv.id),
                )
            )
        return PlantRound(
            plant_id=watched.plant.id,
            licensed=True,
            muted=config.muted,
            daylight=forecast.daylight,
            inverters=tuple(inverters),
            settings=config.settings,
            inverter_settings=config.inverters,
            tz=BERLIN,
        )

    def _kwp(self, watched: WatchedPlant) -> dict[int, float]:
        cached = self._kwp_cache.get(watched.plant.id)
        if (
            cached is not None
            and cached[0].inverters == watched.inverters
            and cached[0].plant.fields == watched.plant.fields
        ):
            return cached[1]
        kwp = _kwp(watched)
        self._kwp_cache[watched.plant.id] = (watched, kwp)
        return kwp

    async def _write(
        self,
        watched: Sequence[WatchedPlant],
        before: Mapping[AlertKey, OpenAlert],
        after: Mapping[AlertKey, OpenAlert],
        events: Sequence[AlertEvent],
        now: datetime,
    ) -> int:
        by_id = {w.plant.id: w for w in watched}
        closed = {e.key: (e.at, e.reason.value) for e in events if e.type is EventType.CLOSED}
        changed = {k: a for k, a in after.items() if before.get(k) != a}
        if not changed and not closed:
            return 0
        mails = 0
        messages: list[MqttMessage] = []
        outbox = self._store.repo(OutboxRepository)
        async with self._store.transaction() as uow:
            conn = uow.connection
            await self._repo.write_changes(conn, before, after, closed)
            for event in events:
                plant = by_id.get(event.key.plant_id)
                inverter = None
                if plant is not None:
                    inverter = next(
                        (i for i in plant.inverters if i.id == event.key.inverter_id), None
                    )
                serial = inverter.serial if inverter else str(event.key.inverter_id)
                # Every close is published, muted or unlicensed too: it clears the retained
                # state an earlier "opened" may have left on the broker.
                if self._topic_prefix is not None and (
                    event.notify or event.type is EventType.CLOSED
                ):
                    messages.extend(alert_messages(self._topic_prefix, event, serial))
                if not event.notify or plant is None:
                    continue
                text = alert_mail(
                    event,
                    language=plant.owner_language,
                    plant_name=plant.plant.fields.name,
                    inverter_name=(inverter.name or serial) if inverter else serial,
                )
                key = f"alert:{event.key.plant_id}:{event.key.inverter_id}:{event.key.rule.value}"
                found = await outbox.append(
                    conn,
                    recipient=plant.owner_email,
                    template=_MAIL_TEMPLATE,
                    language=plant.owner_language,
                    subject=text.subject,
                    body=text.body,
                    now=now,
                    dedup_key=f"{key}:{event.type.value}:{event.opened_at.isoformat()}",
                )
                mails += found is not None
            await self._repo.queue_mqtt(conn, messages, now)
        return mails
