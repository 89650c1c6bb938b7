"""The alert state machine per (plant, inverter, rule), its events and its stored form (pure).

::

                 FAULT                       CLEAR held for close_after
    (no alert) ─────────► OPEN ──────────────────────────────────────────► (no alert)
                           │ ▲                                       CLOSED event
                 OPENED    │ │ FAULT or BAND: the clear streak starts over
                 event     └─┘ UNKNOWN: nothing changes (night, too little light, ...)

An alert opens once: further FAULT verdicts while it is open emit nothing. It closes only
after its rule has said CLEAR (a margin better than the threshold, see ``alert_rules``) for
an unbroken ``close_after``: that margin and that delay are the hysteresis against flapping.
Only open alerts are state; everything else is "no alert". The stored form is plain JSON, so a
restart reads it back and neither reopens nor loses an alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from cloud_gateway.monitoring.errors import AlertStateError

__all__ = [
    "STATE_VERSION",
    "AlertEvent",
    "AlertKey",
    "AlertReason",
    "AlertRule",
    "EventType",
    "OpenAlert",
    "Verdict",
    "close",
    "dump_alerts",
    "load_alerts",
    "step",
]

STATE_VERSION = 1


class AlertRule(StrEnum):
    """The three alert kinds of R-MON-17."""

    NO_DATA = "no_data"
    """No reading within the owner's period, counted while the sun is up."""
    BELOW_BEST = "below_best"
    """Less energy per kWp than the plant's best inverter by the owner's share."""
    BELOW_FORECAST = "below_forecast"
    """Less energy over a day than the forecast by the owner's share."""


class Verdict(StrEnum):
    """What a rule says about one inverter in one round."""

    FAULT = "fault"
    """The condition holds: open (or keep open)."""
    BAND = "band"
    """Between the open and the clear threshold: keep as is, restart the clear streak."""
    CLEAR = "clear"
    """Clearly fine: counts towards closing."""
    UNKNOWN = "unknown"
    """Not decidable now (sun down, too little light, day not over): change nothing."""


class EventType(StrEnum):
    """What happened to an alert."""

    OPENED = "opened"
    CLOSED = "closed"


class AlertReason(StrEnum):
    """Why an alert opened (its rule) or closed."""

    NO_DATA = "no_data"
    BELOW_BEST = "below_best"
    BELOW_FORECAST = "below_forecast"
    RECOVERED = "recovered"
    """The rule said CLEAR for ``close_after``."""
    UNLICENSED = "unlicensed"
    """The plant is no longer licensed (R-MON-16): its alerts end without a mail."""
    RULE_OFF = "rule_off"
    """The owner switched the rule off."""
    INVERTER_GONE = "inverter_gone"
    """The inverter was removed from the plant."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertKey:
    """One alert's identity."""

    plant_id: int
    inverter_id: int
    rule: AlertRule


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenAlert:
    """An open alert."""

    key: AlertKey
    opened_at: datetime
    """The instant of the round that opened it (shown in the portal as its start)."""
    value: float
    """The rule's figure when it opened (see ``alert_rules`` for each rule's unit)."""
    threshold: float
    """The owner's threshold it was compared with, same unit."""
    clear_since: datetime | None = None
    """Start of the current unbroken CLEAR streak, if any."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertEvent:
    """An alert opened or closed; the shell turns it into a mail and an MQTT message."""

    type: EventType
    key: AlertKey
    at: datetime
    """The round's instant."""
    opened_at: datetime
    reason: AlertReason
    value: float
    """Figure at this round (at the opening for ``OPENED``)."""
    threshold: float
    notify: bool
    """False for a muted plant and for alerts ended by a lost licence: no mail, no MQTT."""


def step(
    current: OpenAlert | None,
    key: AlertKey,
    verdict: Verdict,
    *,
    value: float,
    threshold: float,
    now: datetime,
    close_after: timedelta,
    notify: bool,
) -> tuple[OpenAlert | None, AlertEvent | None]:
    """One round for one alert: the new state and the event, if any."""
    if current is None:
        if verdict is not Verdict.FAULT:
            return None, None
        opened = OpenAlert(key=key, opened_at=now, value=value, threshold=threshold)
        return opened, AlertEvent(
            type=EventType.OPENED,
            key=key,
            at=now,
            opened_at=now,
            reason=AlertReason(key.rule.value),
            value=value,
            threshold=threshold,
            notify=notify,
        )
    if verdict is Verdict.UNKNOWN:
        return current, None
    if verdict is not Verdict.CLEAR:
        if current.clear_since is None:
            return current, None
        return replace(current, clear_since=None), None
    since = current.clear_since or now
    if now - since >= close_after:
        return None, close(current, now, AlertReason.RECOVERED, value=value, notify=notify)
    if current.clear_since is None:
        return replace(current, clear_since=now), None
    return current, None


def close(
    current: OpenAlert, now: datetime, reason: AlertReason, *, value: float, notify: bool
) -> AlertEvent:
    """The event that ends ``current`` for ``reason``."""
    return AlertEvent(
        type=EventType.CLOSED,
        key=current.key,
        at=now,
        opened_at=current.opened_at,
        reason=reason,
        value=value,
        threshold=current.threshold,
        notify=notify,
    )


def _instant(raw: object) -> datetime:
    if not isinstance(raw, str):
        raise AlertStateError(f"instant expected, got {raw!r}")
    try:
        instant = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise AlertStateError(f"bad instant {raw!r}") from exc
    if instant.tzinfo is None:
        raise AlertStateError(f"instant without time zone: {raw!r}")
    return instant


def dump_alerts(alerts: Mapping[AlertKey, OpenAlert]) -> dict[str, Any]:
    """The open alerts as a JSON-ready object (sorted, so equal states dump equal)."""
    rows = [
        {
            "plant_id": a.key.plant_id,
            "inverter_id": a.key.inverter_id,
            "rule": a.key.rule.value,
            "opened_at": a.opened_at.isoformat(),
            "value": a.value,
            "threshold": a.threshold,
            "clear_since": None if a.clear_since is None else a.clear_since.isoformat(),
        }
        for a in sorted(
            alerts.values(), key=lambda a: (a.key.plant_id, a.key.inverter_id, a.key.rule)
        )
    ]
    return {"version": STATE_VERSION, "alerts": rows}


def load_alerts(data: Mapping[str, Any]) -> dict[AlertKey, OpenAlert]:
    """Read :func:`dump_alerts` output back; :class:`AlertStateError` when it is malformed."""
    if data.get("version") != STATE_VERSION:
        raise AlertStateError(f"alert state version {data.get('version')!r} is not supported")
    alerts: dict[AlertKey, OpenAlert] = {}
    for row in data.get("alerts", ()):
        try:
            key = AlertKey(
                plant_id=int(row["plant_id"]),
                inverter_id=int(row["inverter_id"]),
                rule=AlertRule(row["rule"]),
            )
            value, threshold = float(row["value"]), float(row["threshold"])
        except (KeyError, TypeError, ValueError) as exc:
            raise AlertStateError(f"bad alert row {row!r}") from exc
        clear_since = row.get("clear_since")
        alerts[key] = OpenAlert(
            key=key,
            opened_at=_instant(row.get("opened_at")),
            value=value,
            threshold=threshold,
            clear_since=None if clear_since is None else _instant(clear_since),
        )
    return alerts
