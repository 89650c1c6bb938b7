"""The alert rules and state machine with literal numbers (no simulator)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cloud_gateway.monitoring.alert_rules import (
    AlertSettings,
    InverterRound,
    PlantRound,
    evaluate_round,
)
from cloud_gateway.monitoring.alert_state import (
    AlertKey,
    AlertReason,
    AlertRule,
    EventType,
    OpenAlert,
    Verdict,
    dump_alerts,
    load_alerts,
    step,
)
from cloud_gateway.monitoring.daylight import Daylight, SunUp
from cloud_gateway.monitoring.errors import AlertStateError

NOON = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
SUN = Daylight(
    intervals=(
        SunUp(
            start=datetime(2026, 5, 4, 3, 30, tzinfo=UTC),
            end=datetime(2026, 5, 4, 18, 40, tzinfo=UTC),
        ),
    )
)
ONLY_BEST = AlertSettings(
    no_data_after=None, below_best_share=0.25, below_best_window=timedelta(hours=1)
)


def _plant(
    *inverters: InverterRound, settings: AlertSettings = ONLY_BEST, **kw: object
) -> PlantRound:
    return PlantRound(
        plant_id=1,
        licensed=bool(kw.get("licensed", True)),
        muted=False,
        daylight=SUN,
        inverters=inverters,
        settings=settings,
    )


def _inv(inv_id: int, kwp: float, window_wh: float | None, **kw: object) -> InverterRound:
    at = kw.get("last_reading_at", NOON)
    assert isinstance(at, datetime)
    return InverterRound(inverter_id=inv_id, kwp=kwp, last_reading_at=at, window_wh=window_wh)


def test_below_best_is_normalised_per_kwp() -> None:
    # 10 kWp making 6 kWh and 5 kWp making 3 kWh are equal: 600 Wh/kWp each
    equal = evaluate_round({}, [_plant(_inv(1, 10.0, 6000.0), _inv(2, 5.0, 3000.0))], NOON)
    assert equal.events == ()
    # 5 kWp making 2.25 kWh: 450 against 600 Wh/kWp is 25 % less: opens
    result = evaluate_round({}, [_plant(_inv(1, 10.0, 6000.0), _inv(2, 5.0, 2250.0))], NOON)
    (event,) = result.events
    assert (event.type, event.key.inverter_id, event.key.rule) == (
        EventType.OPENED,
        2,
        AlertRule.BELOW_BEST,
    )
    assert event.value == pytest.approx(0.25)
    assert event.threshold == 0.25


def test_below_best_needs_two_inverters_light_and_fresh_readings() -> None:
    alone = _plant(_inv(2, 5.0, 100.0))
    # best is 150 Wh/kWp in one hour: 150 W/kWp, below the 200 W/m² minimum irradiance
    dim = _plant(_inv(1, 10.0, 1500.0), _inv(2, 5.0, 100.0))
    # inverter 1 was last heard 6 minutes ago: it takes no part, so no comparison
    stale = _plant(
        _inv(1, 10.0, 6000.0, last_reading_at=NOON - timedelta(minutes=6)), _inv(2, 5.0, 100.0)
    )
    assert evaluate_round({}, [alone, dim, stale], NOON).events == ()


def test_hysteresis_band_and_close_delay() -> None:
    key = AlertKey(plant_id=1, inverter_id=2, rule=AlertRule.BELOW_BEST)
    alerts = evaluate_round({}, [_plant(_inv(1, 10.0, 6000.0), _inv(2, 5.0, 2100.0))], NOON).alerts
    assert key in alerts

    def at(minute: int, wh: float) -> tuple[dict[AlertKey, OpenAlert], tuple[str, ...]]:
        now = NOON + timedelta(minutes=minute)
        plant = _plant(
            _inv(1, 10.0, 6000.0, last_reading_at=now), _inv(2, 5.0, wh, last_reading_at=now)
        )
        result = evaluate_round(alerts, [plant], now)
        return result.alerts, tuple(f"{e.type}:{e.reason}" for e in result.events)

    # 22 % less is inside the band (clear at 20 % or better): stays open, no streak
    alerts, events = at(1, 2340.0)
    assert events == ()
    assert alerts[key].clear_since is None
    # 20 % less: clear, the streak starts
    alerts, events = at(2, 2400.0)
    assert alerts[key].clear_since == NOON + timedelta(minutes=2)
    # back in the band at minute 10: the streak starts over
    alerts, events = at(10, 2340.0)
    assert alerts[key].clear_since is None
    alerts, events = at(11, 3000.0)
    alerts, events = at(25, 3000.0)
    assert events == ()
    alerts, events = at(26, 3000.0)
    assert events == ("closed:recovered",)
    assert alerts == {}


def test_settings_reject_nonsense() -> None:
    with pytest.raises(ValueError, match="share"):
        AlertSettings(below_best_share=1.0)
    with pytest.raises(ValueError, match="share"):
        AlertSettings(below_forecast_share=0.0)
    with pytest.raises(ValueError, match="period"):
        AlertSettings(no_data_after=timedelta(0))
    with pytest.raises(ValueError, match="window"):
        AlertSettings(below_best_window=timedelta(0))


def test_rule_switched_off_and_inverter_removed_close_their_alerts() -> None:
    opened = evaluate_round(
        {},
        [_plant(_inv(1, 10.0, 6000.0), _inv(2, 5.0, 1000.0), _inv(3, 5.0, 1000.0))],
        NOON,
    )
    assert len(opened.alerts) == 2
    later = NOON + timedelta(minutes=1)
    off = AlertSettings(no_data_after=None, below_best_share=None)
    result = evaluate_round(
        opened.alerts,
        [_plant(_inv(1, 10.0, 6000.0), _inv(2, 5.0, 1000.0), settings=off)],
        later,
    )
    assert sorted((e.key.inverter_id, e.reason) for e in result.events) == [
        (2, AlertReason.RULE_OFF),
        (3, AlertReason.INVERTER_GONE),
    ]
    assert result.alerts == {}


def test_plants_missing_from_a_round_keep_their_alerts() -> None:
    opened = evaluate_round({}, [_plant(_inv(1, 10.0, 6000.0), _inv(2, 5.0, 1000.0))], NOON)
    assert evaluate_round(opened.alerts, [], NOON + timedelta(hours=1)).alerts == opened.alerts


def test_a_round_of_some_rules_leaves_the_other_rules_alerts_as_they_are() -> None:
    both = AlertSettings(no_data_after=timedelta(minutes=30), below_best_share=0.25)
    silent = NOON - timedelta(hours=1)
    plant = _plant(
        _inv(1, 10.0, 6000.0),
        _inv(2, 5.0, 1000.0),
        _inv(3, 5.0, None, last_reading_at=silent),
        settings=both,
    )
    opened = evaluate_round({}, [plant], NOON)
    assert sorted((k.inverter_id, k.rule) for k in opened.alerts) == [
        (2, AlertRule.BELOW_BEST),
        (3, AlertRule.NO_DATA),
    ]
    # inverter 3 answers, inverter 2 recovers and inverter 1 is removed: deciding "no data"
    # only closes that alert; the derating alert is neither stepped nor closed as gone
    later = NOON + timedelta(hours=1)
    back = _plant(
        _inv(2, 5.0, 3000.0, last_reading_at=later),
        _inv(3, 5.0, 3000.0, last_reading_at=later),
        settings=both,
    )
    result = evaluate_round(opened.alerts, [back], later, rules={AlertRule.NO_DATA})
    assert [(e.type, e.key.inverter_id, e.key.rule) for e in result.events] == [
        (EventType.CLOSED, 3, AlertRule.NO_DATA)
    ]
    assert list(result.alerts.values()) == [
        a for k, a in opened.alerts.items() if k.rule is AlertRule.BELOW_BEST
    ]
    # a plant that lost its licence loses every alert, whichever rules the round decides
    lapsed = _plant(_inv(2, 5.0, 3000.0), licensed=False)
    gone = evaluate_round(opened.alerts, [lapsed], later, rules={AlertRule.NO_DATA})
    assert {e.reason for e in gone.events} == {AlertReason.UNLICENSED}
    assert gone.alerts == {}


def test_step_opens_once() -> None:
    key = AlertKey(plant_id=1, inverter_id=1, rule=AlertRule.NO_DATA)
    state, event = step(
        None,
        key,
        Verdict.FAULT,
        value=4000.0,
        threshold=3600.0,
        now=NOON,
        close_after=timedelta(minutes=15),
        notify=True,
    )
    assert event is not None
    assert event.type is EventType.OPENED
    again, nothing = step(
        state,
        key,
        Verdict.FAULT,
        value=5000.0,
        threshold=3600.0,
        now=NOON + timedelta(minutes=1),
        close_after=timedelta(minutes=15),
        notify=True,
    )
    assert nothing is None
    assert again == state
    unknown, nothing = step(
        state,
        key,
        Verdict.UNKNOWN,
        value=0.0,
        threshold=3600.0,
        now=NOON + timedelta(minutes=2),
        close_after=timedelta(minutes=15),
        notify=True,
    )
    assert (unknown, nothing) == (state, None)


def test_stored_form_round_trips_and_rejects_garbage() -> None:
    key = AlertKey(plant_id=4, inverter_id=9, rule=AlertRule.BELOW_FORECAST)
    alerts = {
        key: OpenAlert(
            key=key,
            opened_at=NOON,
            value=0.62,
            threshold=0.5,
            clear_since=NOON + timedelta(minutes=3),
        )
    }
    data = dump_alerts(alerts)
    assert data == {
        "version": 1,
        "alerts": [
            {
                "plant_id": 4,
                "inverter_id": 9,
                "rule": "below_forecast",
                "opened_at": "2026-05-04T10:00:00+00:00",
                "value": 0.62,
                "threshold": 0.5,
                "clear_since": "2026-05-04T10:03:00+00:00",
            }
        ],
    }
    assert load_alerts(data) == alerts
    with pytest.raises(AlertStateError, match="version"):
        load_alerts({"version": 2, "alerts": []})
    with pytest.raises(AlertStateError, match="bad alert row"):
        load_alerts({"version": 1, "alerts": [{"plant_id": 1}]})
    broken = dict(data["alerts"][0], opened_at="2026-05-04T10:00:00")
    with pytest.raises(AlertStateError, match="time zone"):
        load_alerts({"version": 1, "alerts": [broken]})


def test_per_inverter_settings_override_the_plant() -> None:
    silent_since = NOON - timedelta(minutes=40)
    plant = PlantRound(
        plant_id=1,
        licensed=True,
        muted=False,
        daylight=SUN,
        inverters=[
            _inv(1, 5.0, None, last_reading_at=silent_since),
            _inv(2, 5.0, None, last_reading_at=silent_since),
        ],
        settings=AlertSettings(no_data_after=None, below_best_share=None),
        inverter_settings={2: AlertSettings(no_data_after=timedelta(minutes=30))},
    )
    (event,) = evaluate_round({}, [plant], NOON).events
    assert (event.key.inverter_id, event.key.rule, event.value) == (2, AlertRule.NO_DATA, 2400.0)
