"""Refusals by reason per hour of the last day (the console's bars), with literal instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from cloud_gateway.tunnels.refusal_series import RefusalSeries

T0 = datetime(2026, 3, 1, 10, 59, 59, tzinfo=UTC)


def test_counts_land_in_their_hour_and_the_window_moves_on() -> None:
    series = RefusalSeries(hours=3)
    series.record("revoked", T0)
    series.record("revoked", T0 + timedelta(seconds=1))  # 11:00: the next hour
    series.record("forbidden", T0 + timedelta(seconds=2))
    berlin = timezone(timedelta(hours=1))
    series.record("revoked", datetime(2026, 3, 1, 12, 0, 1, tzinfo=berlin))  # 11:00 UTC

    [forbidden, revoked] = series.rows(T0 + timedelta(minutes=30))
    assert forbidden.reason == "forbidden"
    assert [b.count for b in forbidden.hours] == [0, 0, 1]
    assert [b.count for b in revoked.hours] == [0, 1, 2]
    assert revoked.total == 3
    assert [b.start.hour for b in revoked.hours] == [9, 10, 11]

    # two hours on: 10:00 is the oldest hour shown; three on, only 11:00 is left
    [_, revoked] = series.rows(T0 + timedelta(hours=2))
    assert [b.count for b in revoked.hours] == [1, 2, 0]
    [_, revoked] = series.rows(T0 + timedelta(hours=3))
    assert [b.count for b in revoked.hours] == [2, 0, 0]
    assert series.rows(T0 + timedelta(hours=4)) == []


def test_old_buckets_are_dropped_as_new_ones_come() -> None:
    series = RefusalSeries(hours=2)
    for hour in range(100):
        series.record("guard", T0 + timedelta(hours=hour))
    assert len(series._buckets) == 2
    [guard] = series.rows(T0 + timedelta(hours=99))
    assert guard.total == 2


def test_at_least_one_hour() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RefusalSeries(hours=0)
