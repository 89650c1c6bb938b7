"""The three alert rules of R-MON-17 and one evaluation round over many plants (pure).

Instants are passed in (no clock). A round takes, per plant, what the shell read from the
store: licence and mute flags, the owner's settings, the sun-up intervals and per inverter
its last reading, its energy over the comparison window, over the day so far, and its
forecast for the day. It returns the new open alerts and the events (opened / closed).

Rules, their figures (``value`` / ``threshold`` on the events) and their hysteresis:

``no_data``
    value: seconds without a reading, counted only while the sun was up at the plant;
    threshold: the owner's period. FAULT at the period; CLEAR below half of it; closes at the
    first CLEAR (a reading arrived; the ingest evaluates the plant at once).
``below_best``
    value: deficit of the inverter's energy per kWp over the window against the plant's
    best inverter (0.25 = 25 % less); threshold: the owner's share. Only inverters heard
    from within the last 5 minutes take part (silence is ``no_data``'s). Only decided when at
    least two inverters take part and the best one's mean specific power (W per kWp, which is
    the plane-of-array irradiance in W/m² give or take temperature and inverter losses)
    reaches the owner's minimum irradiance. CLEAR at ``share - min(0.05, share / 2)`` or
    better; closes after 15 minutes of CLEAR.
``below_forecast``
    value: shortfall of the day's energy against the forecast (0.6 = 60 % less);
    threshold: the owner's share. Decided once the day's last sunset has passed (until local
    midnight); CLEAR with the same margin as ``below_best``; one good day closes it.

A plant that is not licensed is not evaluated, and its open alerts close (reason
``unlicensed``, no mail). A muted plant is evaluated (the portal shows its alerts) but its
events carry ``notify=False``. Plants missing from a round are left as they are, and a round
may decide only some rules (``rules``: the others' alerts are left as they are too), so a
shell may decide ``no_data`` on ingest and every rule of every plant on a schedule.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from cloud_gateway.monitoring.alert_state import (
    AlertEvent,
    AlertKey,
    AlertReason,
    AlertRule,
    OpenAlert,
    Verdict,
    close,
    step,
)
from cloud_gateway.monitoring.daylight import Daylight, sun_up_seconds

__all__ = [
    "ALL_RULES",
    "CLOSE_AFTER",
    "MAX_MARGIN",
    "AlertSettings",
    "InverterRound",
    "PlantRound",
    "RoundResult",
    "evaluate_round",
]

CLOSE_AFTER: Mapping[AlertRule, timedelta] = {
    AlertRule.NO_DATA: timedelta(0),
    AlertRule.BELOW_BEST: timedelta(minutes=15),
    AlertRule.BELOW_FORECAST: timedelta(0),
}
"""How long a rule must say CLEAR without a break before its alert closes. ``no_data`` closes
with the first reading (evaluated on ingest): it cannot flap faster than its own period, since
reopening takes that long a silence again."""

FRESH = timedelta(minutes=5)
"""``below_best`` compares only inverters heard from within this; silence is ``no_data``'s."""

MAX_MARGIN = 0.05
"""Clear margin of the share rules: 5 percentage points, at most half the owner's share."""

_BERLIN = ZoneInfo("Europe/Berlin")


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertSettings:
    """What the owner set for a plant (or one inverter); ``None`` switches a rule off."""

    no_data_after: timedelta | None = timedelta(hours=1)
    """Sun-up time without a reading that opens ``no_data``."""
    below_best_share: float | None = 0.2
    """Deficit per kWp against the best inverter that opens ``below_best`` (0..1)."""
    below_best_window: timedelta = timedelta(hours=1)
    """Window the shell sums energy over for ``below_best``."""
    min_irradiance_w_m2: float = 200.0
    """``below_best`` is only decided at or above this (best inverter's W per kWp)."""
    below_forecast_share: float | None = None
    """Shortfall against the clear-sky forecast that opens ``below_forecast`` (0..1); off by
    default because the forecast has no weather yet (docs/monitoring.md)."""

    def __post_init__(self) -> None:
        for share in (self.below_best_share, self.below_forecast_share):
            if share is not None and not 0 < share < 1:
                raise ValueError(f"alert share must be within 0..1 (exclusive), not {share}")
        if self.no_data_after is not None and self.no_data_after <= timedelta(0):
            raise ValueError("no-data period must be positive")
        if self.below_best_window <= timedelta(0):
            raise ValueError("comparison window must be positive")
        if self.min_irradiance_w_m2 < 0:
            raise ValueError("minimum irradiance must not be negative")


DEFAULT_SETTINGS = AlertSettings()


@dataclass(frozen=True, slots=True, kw_only=True)
class InverterRound:
    """One inverter as the shell read it for this round."""

    inverter_id: int
    kwp: float
    """Installed DC power behind it (``forecast.Generator.kwp``)."""
    last_reading_at: datetime
    """Its newest reading, or its activation when it never sent one."""
    window_wh: float | None = None
    """Energy over exactly ``below_best_window`` up to now; ``None`` when the readings do not
    cover it (silent, or a gap at its start: the counter jump after an outage holds energy
    from before the window)."""
    day_wh: float | None = None
    """Energy of the local day so far; ``None`` when the gateway did not watch the whole day
    (the plant or inverter came after its sunrise): that day is not judged."""
    forecast_day_wh: float | None = None
    """Forecast energy of the whole local day."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PlantRound:
    """One plant for this round."""

    plant_id: int
    licensed: bool
    """Whether an entitlement window covers now (R-MON-16); the shell asks entitlements."""
    muted: bool
    daylight: Daylight
    inverters: Sequence[InverterRound]
    settings: AlertSettings = DEFAULT_SETTINGS
    inverter_settings: Mapping[int, AlertSettings] = field(default_factory=dict)
    """Per-inverter overrides (``no_data``, ``below_forecast`` and the ``below_best`` share;
    the window and minimum irradiance stay the plant's, the comparison is plant-wide)."""
    tz: ZoneInfo = _BERLIN
    """Local time of the plant: which sunset ends "the day"."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RoundResult:
    """The open alerts after the round and what happened in it."""

    alerts: dict[AlertKey, OpenAlert]
    events: tuple[AlertEvent, ...]


def _share_verdict(value: float, share: float) -> Verdict:
    if value >= share:
        return Verdict.FAULT
    if value <= share - min(MAX_MARGIN, share / 2):
        return Verdict.CLEAR
    return Verdict.BAND


def _no_data(
    plant: PlantRound, inv: InverterRound, period: timedelta, now: datetime
) -> tuple[Verdict, float]:
    silence = sun_up_seconds(plant.daylight, inv.last_reading_at, now)
    limit = period.total_seconds()
    if silence >= limit:
        return Verdict.FAULT, silence
    return (Verdict.CLEAR if silence < limit / 2 else Verdict.BAND), silence


def _comparable(inv: InverterRound, now: datetime) -> bool:
    return inv.window_wh is not None and inv.kwp > 0 and now - inv.last_reading_at <= FRESH


def _best_specific(plant: PlantRound, now: datetime) -> float | None:
    """Best window energy per kWp of the plant, or ``None`` when not decidable."""
    specific = [
        inv.window_wh / inv.kwp
        for inv in plant.inverters
        if inv.window_wh is not None and _comparable(inv, now)
    ]
    if len(specific) < 2:
        return None
    best = max(specific)
    hours = plant.settings.below_best_window.total_seconds() / 3600.0
    if best <= 0 or best / hours < plant.settings.min_irradiance_w_m2:
        return None
    return best


def _day_over(plant: PlantRound, now: datetime) -> bool:
    """Whether the local day's last sunset is behind us (and the sun is down)."""
    intervals = plant.daylight.intervals
    last_end = None
    for interval in reversed(intervals):
        if interval.start <= now:
            if now < interval.end:
                return False
            last_end = interval.end
            break
    return (
        last_end is not None
        and last_end.astimezone(plant.tz).date() == now.astimezone(plant.tz).date()
    )


def _verdicts(
    plant: PlantRound,
    inv: InverterRound,
    settings: AlertSettings,
    *,
    best: float | None,
    day_over: bool,
    now: datetime,
    rules: Collection[AlertRule],
) -> Iterable[tuple[AlertRule, Verdict, float, float]]:
    if settings.no_data_after is not None and AlertRule.NO_DATA in rules:
        verdict, silence = _no_data(plant, inv, settings.no_data_after, now)
        yield AlertRule.NO_DATA, verdict, silence, settings.no_data_after.total_seconds()
    share = settings.below_best_share
    if share is not None and AlertRule.BELOW_BEST in rules:
        if best is None or inv.window_wh is None or not _comparable(inv, now):
            yield AlertRule.BELOW_BEST, Verdict.UNKNOWN, 0.0, share
        else:
            deficit = 1.0 - inv.window_wh / inv.kwp / best
            yield AlertRule.BELOW_BEST, _share_verdict(deficit, share), deficit, share
    share = settings.below_forecast_share
    if share is not None and AlertRule.BELOW_FORECAST in rules:
        forecast = inv.forecast_day_wh
        if not day_over or forecast is None or forecast <= 0 or inv.day_wh is None:
            yield AlertRule.BELOW_FORECAST, Verdict.UNKNOWN, 0.0, share
        else:
            shortfall = max(0.0, 1.0 - inv.day_wh / forecast)
            yield AlertRule.BELOW_FORECAST, _share_verdict(shortfall, share), shortfall, share


ALL_RULES = frozenset(AlertRule)


def evaluate_round(
    alerts: Mapping[AlertKey, OpenAlert],
    plants: Iterable[PlantRound],
    now: datetime,
    *,
    rules: Collection[AlertRule] = ALL_RULES,
) -> RoundResult:
    """Evaluate every plant given at ``now``; ``alerts`` are the open alerts before the round.

    Only ``rules`` are decided: alerts of the other rules stay as they are (a plant that is
    not licensed has all its alerts closed all the same: the licence is the plant's)."""
    by_plant: dict[int, list[AlertKey]] = {}
    for key in alerts:
        by_plant.setdefault(key.plant_id, []).append(key)
    everything = ALL_RULES.issubset(rules)
    result = dict(alerts)
    events: list[AlertEvent] = []
    for plant in plants:
        before = by_plant.get(plant.plant_id, ())
        if not plant.licensed:
            events.extend(
                close(result.pop(key), now, AlertReason.UNLICENSED, value=0.0, notify=False)
                for key in before
            )
            continue
        notify = not plant.muted
        if not everything:
            before = [key for key in before if key.rule in rules]
        best = _best_specific(plant, now) if AlertRule.BELOW_BEST in rules else None
        day_over = _day_over(plant, now)
        seen: set[AlertKey] = set()
        present: set[int] = set()
        for inv in plant.inverters:
            present.add(inv.inverter_id)
            settings = plant.inverter_settings.get(inv.inverter_id, plant.settings)
            for rule, verdict, value, threshold in _verdicts(
                plant, inv, settings, best=best, day_over=day_over, now=now, rules=rules
            ):
                if verdict is not Verdict.FAULT and not before:
                    continue  # the common case: nothing open, nothing to open
                key = AlertKey(plant_id=plant.plant_id, inverter_id=inv.inverter_id, rule=rule)
                current = result.get(key)
                if current is None and verdict is not Verdict.FAULT:
                    continue
                seen.add(key)
                state, event = step(
                    current,
                    key,
                    verdict,
                    value=value,
                    threshold=threshold,
                    now=now,
                    close_after=CLOSE_AFTER[rule],
                    notify=notify,
                )
                if state is None:
                    result.pop(key, None)
                else:
                    result[key] = state
                if event is not None:
                    events.append(event)
        for key in before:
            if key not in seen and key in result:
                reason = (
                    AlertReason.RULE_OFF
                    if key.inverter_id in present
                    else AlertReason.INVERTER_GONE
                )
                events.append(close(result.pop(key), now, reason, value=0.0, notify=notify))
    return RoundResult(alerts=result, events=tuple(events))
