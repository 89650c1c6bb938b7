"""Payload parsing, day energy over Berlin days (DST included), topics: pure."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloud_gateway.plants.day_energy import (
    BERLIN,
    DayFold,
    DayState,
    LocalDays,
    day_bounds,
    local_day,
    slot_energy,
)
from cloud_gateway.telemetry.payload import LiveValues, PayloadError, parse_payload
from cloud_gateway.telemetry.topics import (
    InverterState,
    StateMessages,
    _instant,
    inverter_state_topic,
    state_payload,
)
from inverter_agent.readings import InverterInfo, MpptValues, Reading, encode_payload

T0 = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


def test_the_agents_own_payloads_parse() -> None:
    reading = Reading(
        sn="sn-0042", unit=1, ts=1768467600000, st="mppt", w=5000.0, wh=1234560.0, dcw=5200.0
    )
    info = InverterInfo(
        sn="SN-0042", unit=1, ts=1768467600000, mn="Acme", md="AS-6", vr="1.2", wrtg=6000.0
    )
    parsed = parse_payload(encode_payload(reading))
    [r] = parsed.readings
    assert (r.serial, r.at, r.power_w, r.energy_wh, r.dc_power_w, r.state) == (
        "SN-0042",
        datetime(2026, 1, 15, 9, 0, tzinfo=UTC),
        5000.0,
        1234560.0,
        5200.0,
        "mppt",
    )
    [i] = parse_payload(encode_payload(info)).infos
    assert (i.serial, i.manufacturer, i.model, i.version, i.w_rating) == (
        "SN-0042",
        "Acme",
        "AS-6",
        "1.2",
        6000,
    )


def test_the_live_details_parse_and_a_bad_one_costs_only_itself() -> None:
    reading = Reading(
        sn="SN-1",
        unit=1,
        ts=1768467600000,
        w=5000.0,
        dcv=612.5,
        dca=8.5,
        tmp=35.2,
        tmp_snk=48.9,
        evt=1 << 7,
        mppt=(MpptValues(id=1, dcw=2600.0, dcv=610.0, dca=4.26), MpptValues(id=2, dcw=2500.0)),
    )
    [r] = parse_payload(encode_payload(reading)).readings
    assert r.live == LiveValues(
        dc_voltage_v=612.5,
        dc_current_a=8.5,
        temperature_cabinet_c=35.2,
        temperature_heat_sink_c=48.9,
        events=128,
        mppt=((1, 2600.0, 610.0, 4.26), (2, 2500.0, None, None)),
    )
    assert r.live is not None
    assert r.live.as_json()["mppt"][1] == {
        "id": 2,
        "dc_power_w": 2500.0,
        "dc_voltage_v": None,
        "dc_current_a": None,
    }
    plain = {"v": 1, "k": "reading", "sn": "A", "ts": 1768467600000, "w": 1.0}
    assert parse_payload(json.dumps(plain).encode()).readings[0].live is None
    odd = {**plain, "tmp": "hot", "evt": -1, "mppt": [{"id": "x", "dcv": 1e999}, 7]}
    [r] = parse_payload(json.dumps(odd).encode()).readings
    assert r.power_w == 1.0
    assert r.live == LiveValues(mppt=((None, None, None, None),))


def test_a_batch_array_is_taken_and_bad_items_are_skipped() -> None:
    items = [
        {"v": 1, "k": "reading", "sn": "A", "ts": 1768467600000, "w": 1.0},
        {"v": 1, "k": "reading", "sn": "B", "ts": "yesterday"},
        {"v": 1, "k": "reading", "sn": "C", "ts": 1768467600000, "w": "lots"},
        {"v": 1, "k": "event", "sn": "D"},
    ]
    parsed = parse_payload(json.dumps(items).encode())
    assert [r.serial for r in parsed.readings] == ["A"]
    assert parsed.skipped == 3


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[1]",
        b'{"v":2,"k":"reading"}',
        b"{}",
        b"[" * 100_000,
        b'{"v":1,"k":"reading","sn":"\xff"}',  # not UTF-8
        '{"v":1}'.encode("utf-16"),  # JSON, but not in UTF-8
    ],
)
def test_unusable_payloads_are_refused_whole(payload: bytes) -> None:
    with pytest.raises(PayloadError):
        parse_payload(payload)


def test_energy_today_is_counter_now_minus_first_counter_of_the_local_day() -> None:
    acc = DayFold(T0, 1000.0, 0.0)
    for minutes, wh in ((60, 1500.0), (120, 2250.0)):
        acc.add(T0 + timedelta(minutes=minutes), wh, 10.0 * minutes)
    state = acc.state()
    assert state.energy_wh == 1250.0
    assert state.last_power_w == 1200.0
    acc.add(T0 - timedelta(minutes=30), 900.0, 5.0)  # a late, earlier reading
    late = acc.state()
    assert acc.row() == (T0 - timedelta(minutes=30), 900.0, T0 + timedelta(hours=2), 2250.0, 1200.0)
    assert (late.first_wh, late.energy_wh, late.last_power_w) == (900.0, 1350.0, 1200.0)
    reset = DayState(first_at=T0, first_wh=5000.0, last_at=T0, last_wh=10.0, last_power_w=None)
    assert reset.energy_wh == 0.0
    assert slot_energy([state, late]) == 2600.0


def test_local_days_follow_berlin_including_dst_changes() -> None:
    assert local_day(datetime(2026, 1, 15, 22, 59, tzinfo=UTC)) == date(2026, 1, 15)
    assert local_day(datetime(2026, 1, 15, 23, 0, tzinfo=UTC)) == date(2026, 1, 16)
    assert local_day(datetime(2026, 7, 1, 22, 0, tzinfo=UTC)) == date(2026, 7, 2)
    start, end = day_bounds(date(2026, 3, 29))  # clocks go forward: a 23-hour day
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=23)
    start, end = day_bounds(date(2026, 10, 25))  # clocks go back: a 25-hour day
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=25)


def test_topic_and_payload_shape() -> None:
    assert inverter_state_topic("cc/", 3, "SN/1+#") == "cc/v1/plants/3/inverters/SN%2F1%2B%23/state"
    body = json.loads(
        state_payload(
            InverterState(
                plant_id=3,
                inverter_id=7,
                serial="SN-1",
                at=T0,
                power_w=5000.0,
                dc_power_w=None,
                energy_total_wh=1234560.0,
                energy_today_wh=1234.0,
                state="mppt",
            )
        )
    )
    assert body == {
        "v": 1,
        "plant_id": 3,
        "inverter_id": 7,
        "serial": "SN-1",
        "at": "2026-01-15T09:00:00.000Z",
        "power_w": 5000.0,
        "dc_power_w": None,
        "energy_total_wh": 1234560.0,
        "energy_today_wh": 1234.0,
        "state": "mppt",
    }


def test_local_days_remembers_bounds_and_agrees_with_local_day() -> None:
    days = LocalDays()
    start = datetime(2026, 3, 28, 12, tzinfo=UTC)  # across the spring DST change, and back
    instants = [start + timedelta(minutes=37 * n) for n in range(200)]
    instants += [start + timedelta(days=210, minutes=41 * n) for n in range(200)]
    instants += list(reversed(instants))
    for at in instants:
        assert days(at) == local_day(at), at
        assert days(at.astimezone(BERLIN)) == local_day(at)


def _state(serial: str, state: str | None, values: tuple[float | None, ...]) -> InverterState:
    """Plant 3, inverter 7 at T0 (given in Berlin time) with power, DC, total, today."""
    power, dc, total, today = values
    return InverterState(
        plant_id=3,
        inverter_id=7,
        serial=serial,
        at=T0.astimezone(BERLIN),
        power_w=power,
        dc_power_w=dc,
        energy_total_wh=total,
        energy_today_wh=today,
        state=state,
    )


@pytest.mark.parametrize(
    ("serial", "state", "values"),
    [
        ("SN-1", "mppt", (5000.0, None, 1234560.0, 0.0)),
        ('Ä "quoted" \\ \u2028', None, (1e-7, 1e20, -0.0, 5e300)),
        ("X", "", (None, None, None, None)),
    ],
)
def test_state_payload_is_sorted_compact_json(
    serial: str, state: str | None, values: tuple[float | None, ...]
) -> None:
    message = _state(serial, state, values)
    body = json.loads(state_payload(message))
    assert body["at"] == "2026-01-15T09:00:00.000Z"
    assert (
        state_payload(message)
        == json.dumps(body, separators=(",", ":"), sort_keys=True, allow_nan=False).encode()
    )
    with pytest.raises(ValueError, match="JSON"):
        state_payload(replace(message, power_w=float("nan")))


@pytest.mark.parametrize(
    ("serial", "state", "values"),
    [
        ("SN-1", "mppt", (5000.0, None, 1234560.0, 0.0)),
        ('Ä "quoted" \\ \u2028/+#', None, (1e-7, 1e20, -0.0, 5e300)),
        ("X", "", (None, None, 7, None)),
    ],
)
def test_state_messages_match_topic_and_payload_also_from_its_cache(
    serial: str, state: str | None, values: tuple[float | None, ...]
) -> None:
    message = _state(serial, state, values)
    messages = StateMessages("cc/", max_inverters=2)
    expected = (inverter_state_topic("cc/", 3, serial), state_payload(message))
    for plant_id in (3, 3, 4, 5, 3):  # cached, then evicted and prepared again
        topic, body = messages.message(
            plant_id=plant_id,
            inverter_id=7,
            serial=serial,
            at=message.at,
            power_w=message.power_w,
            dc_power_w=message.dc_power_w,
            energy_total_wh=message.energy_total_wh,
            energy_today_wh=message.energy_today_wh,
            state=state,
        )
        if plant_id == 3:
            assert (topic, body) == expected
        else:
            assert json.loads(body)["plant_id"] == plant_id
            assert topic == inverter_state_topic("cc/", plant_id, serial)
    with pytest.raises(ValueError, match="JSON"):
        messages.message(
            plant_id=3,
            inverter_id=7,
            serial=serial,
            at=T0,
            power_w=float("inf"),
            dc_power_w=None,
            energy_total_wh=None,
            energy_today_wh=None,
            state=state,
        )


def test_numbers_other_than_finite_floats_take_the_careful_path() -> None:
    base = {"v": 1, "k": "reading", "sn": "A", "ts": 1768467600000}
    items = [
        {**base, "w": 5, "wh": None, "dcw": 2.5},
        {**base, "w": True},
        {**base, "wh": float("inf")},
        {**base, "dcw": float("nan")},
        {**base, "w": "5"},
        {**base, "ts": True},
    ]
    parsed = parse_payload(json.dumps(items).encode())  # Infinity and NaN, as Python writes
    [r] = parsed.readings
    assert (r.power_w, r.energy_wh, r.dc_power_w) == (5.0, None, 2.5)
    assert type(r.power_w) is float
    assert parsed.skipped == 5


@given(
    st.datetimes(
        min_value=datetime(1970, 1, 1),
        max_value=datetime(2200, 1, 1),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=-3, minutes=-30))]),
    )
)
def test_instants_are_isoformat_in_utc_with_milliseconds(at: datetime) -> None:
    expected = at.astimezone(UTC).isoformat(timespec="milliseconds")
    assert _instant(at) == expected.removesuffix("+00:00") + "Z"
