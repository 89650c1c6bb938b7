"""Window and day energy from counter readings, with literal numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cloud_gateway.monitoring.energy import CounterReading, day_energy, window_energy

T0 = datetime(2026, 6, 21, 10, 0, tzinfo=UTC)


def _minutes(*pairs: tuple[int, float]) -> list[CounterReading]:
    return [CounterReading(T0 + timedelta(minutes=m), wh) for m, wh in pairs]


def test_window_energy_from_the_counter_at_its_start() -> None:
    readings = _minutes((0, 1000.0), (1, 1050.0), (2, 1100.0), (3, 1160.0))
    assert window_energy(readings, T0 + timedelta(minutes=1)) == 110.0
    # a start between two readings takes the one before it
    assert window_energy(readings, T0 + timedelta(seconds=90)) == 110.0
    assert window_energy(readings, T0) == 160.0


def test_window_energy_is_none_when_readings_do_not_cover_it() -> None:
    silent = _minutes((0, 1000.0), (1, 1050.0))
    assert window_energy(silent, T0 + timedelta(minutes=5)) is None
    # back after a 40-minute outage: the jump holds energy from before the window
    outage = _minutes((0, 1000.0), (40, 3000.0), (41, 3050.0))
    assert window_energy(outage, T0 + timedelta(minutes=11)) is None
    assert window_energy(outage, T0 + timedelta(minutes=40)) == 50.0
    assert window_energy([], T0) is None


def test_day_energy_from_the_first_counter_of_the_day() -> None:
    midnight = T0 - timedelta(hours=8)
    readings = [
        CounterReading(midnight - timedelta(minutes=1), 900.0),
        *_minutes((0, 1000.0), (60, 1600.0)),
    ]
    assert day_energy(readings, midnight, watched_since=midnight - timedelta(days=3)) == 600.0
    assert day_energy(readings, midnight, watched_since=midnight + timedelta(hours=1)) is None
    assert day_energy(readings[:1], midnight, watched_since=midnight) == 0.0
