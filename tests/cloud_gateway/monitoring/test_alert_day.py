"""The alerts over simulated days: the simulator's inverters go offline, derated, shaded."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta

from cloud_gateway.monitoring.alert_rules import AlertSettings
from cloud_gateway.monitoring.alert_state import (
    AlertEvent,
    AlertReason,
    AlertRule,
    EventType,
    dump_alerts,
    load_alerts,
)
from cloud_gateway.monitoring.forecast import BERLIN
from tests.cloud_gateway.monitoring.helpers import SimulatedPlant, local

DAY = date(2026, 6, 21)  # Berlin: sunrise 04:43, sunset 21:33 local time
NEXT = DAY + timedelta(days=1)
SETTINGS = AlertSettings(
    no_data_after=timedelta(minutes=30),
    below_best_share=0.2,
    below_best_window=timedelta(minutes=30),
    min_irradiance_w_m2=200.0,
    below_forecast_share=0.5,
)


def _summary(events: list[AlertEvent]) -> list[tuple[str, int, str, str, str]]:
    return [
        (
            e.type.value,
            e.key.inverter_id,
            e.key.rule.value,
            e.at.astimezone(BERLIN).strftime("%d. %H:%M"),
            e.reason.value,
        )
        for e in events
    ]


def _faulty_day(plant: SimulatedPlant, until: datetime | None = None) -> None:
    """Inverter 2 offline 10:00-11:30, inverter 3 loses 40 % (shade) 13:00-15:00."""
    steps: list[tuple[datetime, Callable[[], None]]] = [
        (local(DAY, 10), lambda: plant.devices[2].set_offline(True)),
        (local(DAY, 11, 30), lambda: plant.devices[2].set_offline(False)),
        (local(DAY, 13), lambda: plant.devices[3].set_output_loss(40)),
        (local(DAY, 15), lambda: plant.devices[3].set_output_loss(0)),
        (local(DAY, 23, 59), lambda: None),
    ]
    for instant, change in steps:
        if until is not None and instant > until:
            plant.run_until(until)
            return
        if plant.clock.now() < instant:
            plant.run_until(instant)
            change()


def test_each_alert_opens_once_and_closes_when_the_fault_ends() -> None:
    plant = SimulatedPlant(start=local(DAY, 0), settings=SETTINGS)
    _faulty_day(plant)
    summary = _summary(plant.events)
    # offline at 10:00: the last reading is 10:00, 30 minutes of daylight later it opens;
    # back at 11:30: its first reading closes the alert (the round of 11:31 sees it)
    assert summary[:2] == [
        ("opened", 2, "no_data", "21. 10:30", "no_data"),
        ("closed", 2, "no_data", "21. 11:31", "recovered"),
    ]
    assert [s[:3] for s in summary[2:]] == [
        ("opened", 3, "below_best"),
        ("closed", 3, "below_best"),
    ]
    opened, closed = plant.events[2], plant.events[3]
    # the 30-minute window reaches 20 % less within a quarter of an hour of the shade ...
    assert local(DAY, 13, 5) < opened.at <= local(DAY, 13, 30)
    assert 0.2 <= opened.value < 0.4
    assert opened.threshold == 0.2
    # ... and closes once the window no longer holds shaded minutes, plus the 15 minutes
    assert local(DAY, 15, 15) < closed.at <= local(DAY, 16, 0)
    assert closed.opened_at == opened.at
    assert all(e.notify for e in plant.events)
    assert plant.alerts == {}


def test_no_data_is_not_counted_at_night() -> None:
    plant = SimulatedPlant(start=local(DAY, 20), settings=SETTINGS)
    plant.run_until(local(DAY, 21, 15))
    plant.devices[1].set_offline(True)  # 18 minutes before sunset
    plant.run_until(local(NEXT, 4, 50))  # back 7 minutes after sunrise: 25 sun-up minutes
    plant.devices[1].set_offline(False)
    plant.run_until(local(NEXT, 6, 0))
    assert plant.events == []


def test_no_data_counts_the_evening_and_the_morning_together() -> None:
    plant = SimulatedPlant(start=local(DAY, 20), settings=SETTINGS)
    plant.run_until(local(DAY, 21, 15))
    plant.devices[1].set_offline(True)
    plant.run_until(local(NEXT, 6, 0))
    # 18 min 18 s before sunset (21:33:18) + 11 min 42 s after sunrise (04:43:19) = 30 min
    assert _summary(plant.events) == [("opened", 1, "no_data", "22. 04:56", "no_data")]
    assert 1800 <= plant.events[0].value < 1860


def test_below_forecast_opens_after_sunset_and_a_good_day_closes_it() -> None:
    plant = SimulatedPlant(start=local(DAY, 0), settings=SETTINGS)
    plant.devices[3].set_output_loss(70)  # a whole day at 30 %: far below the forecast
    plant.run_until(local(NEXT, 0, 0))
    plant.devices[3].set_output_loss(0)
    plant.run_until(local(NEXT, 23, 30))
    forecast = [e for e in plant.events if e.key.rule is AlertRule.BELOW_FORECAST]
    assert _summary(forecast) == [
        ("opened", 3, "below_forecast", "21. 21:34", "below_forecast"),
        ("closed", 3, "below_forecast", "22. 21:34", "recovered"),
    ]
    assert 0.6 < forecast[0].value < 0.8
    # the healthy inverters made at least half their clear-sky forecast on both days
    others = [e for e in plant.events if e.key.inverter_id != 3]
    assert others == []
    best = [e for e in plant.events if e.key.rule is AlertRule.BELOW_BEST]
    assert [(e.type, e.at.astimezone(BERLIN).day) for e in best] == [
        (EventType.OPENED, 21),
        (EventType.CLOSED, 22),
    ]


def test_unlicensed_plant_never_alerts_and_a_lost_licence_ends_alerts_silently() -> None:
    unlicensed = SimulatedPlant(start=local(DAY, 0), settings=SETTINGS, licensed=False)
    _faulty_day(unlicensed)
    assert unlicensed.events == []

    plant = SimulatedPlant(start=local(DAY, 0), settings=SETTINGS)
    _faulty_day(plant, until=local(DAY, 11))
    assert [e.type for e in plant.events] == [EventType.OPENED]
    plant.licensed = False
    ended = plant.tick()
    assert [(e.type, e.reason, e.notify) for e in ended] == [
        (EventType.CLOSED, AlertReason.UNLICENSED, False)
    ]
    assert plant.alerts == {}
    _faulty_day(plant)
    assert len(plant.events) == 2


def test_muted_plant_keeps_its_alerts_without_notifying() -> None:
    plant = SimulatedPlant(start=local(DAY, 0), settings=SETTINGS, muted=True)
    _faulty_day(plant)
    assert len(plant.events) == 4
    assert not any(e.notify for e in plant.events)


def test_a_restart_neither_reopens_nor_loses_an_alert() -> None:
    reference = SimulatedPlant(start=local(DAY, 0), settings=SETTINGS)
    _faulty_day(reference)
    # restart twice: while the no-data alert is open, and during the below-best alert's
    # clearing streak (5 minutes before it closes)
    streak = reference.events[3].at - timedelta(minutes=5)
    for stop in (local(DAY, 10, 45), streak):
        plant = SimulatedPlant(start=local(DAY, 0), settings=SETTINGS)
        _faulty_day(plant, until=stop)
        (open_alert,) = plant.alerts.values()
        assert (open_alert.clear_since is not None) is (stop == streak)
        stored = json.dumps(dump_alerts(plant.alerts))
        plant.alerts = load_alerts(json.loads(stored))
        _faulty_day(plant)
        assert _summary(plant.events) == _summary(reference.events)
    assert len(reference.events) == 4
