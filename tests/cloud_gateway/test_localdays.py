"""Local licence days in Europe/Berlin: DST weekends and month ends with literal dates."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from cloud_gateway.localdays import (
    days_end,
    first_full_day,
    last_day,
    local_date,
    local_midnight,
)


def test_local_date_is_berlin_calendar_day() -> None:
    assert local_date(datetime(2026, 3, 31, 21, 59, tzinfo=UTC)) == date(2026, 3, 31)
    assert local_date(datetime(2026, 3, 31, 22, 0, tzinfo=UTC)) == date(2026, 4, 1)
    assert local_date(datetime(2026, 1, 31, 23, 0, tzinfo=UTC)) == date(2026, 2, 1)


def test_midnights_across_dst_changes() -> None:
    # spring forward on Sunday 29 March 2026, fall back on Sunday 25 October 2026
    assert local_midnight(date(2026, 3, 29)) == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert local_midnight(date(2026, 3, 30)) == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    assert local_midnight(date(2026, 10, 25)) == datetime(2026, 10, 24, 22, 0, tzinfo=UTC)
    assert local_midnight(date(2026, 10, 26)) == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)


def test_first_day_is_free_unless_starting_at_midnight() -> None:
    noon = datetime(2026, 1, 30, 11, 0, tzinfo=UTC)
    assert first_full_day(noon) == date(2026, 1, 31)
    assert first_full_day(local_midnight(date(2026, 1, 31))) == date(2026, 1, 31)


@pytest.mark.parametrize(
    ("start", "days", "end"),
    [
        # 31 January + 30 days ends at the start of 2 March (February has 28 days in 2026)
        (datetime(2026, 1, 30, 11, 0, tzinfo=UTC), 30, datetime(2026, 3, 1, 23, 0, tzinfo=UTC)),
        # across spring forward: the end is a CEST midnight (22:00 UTC)
        (datetime(2026, 3, 20, 9, 0, tzinfo=UTC), 10, datetime(2026, 3, 30, 22, 0, tzinfo=UTC)),
        # across fall back: the end is a CET midnight again (23:00 UTC)
        (datetime(2026, 10, 20, 9, 0, tzinfo=UTC), 10, datetime(2026, 10, 30, 23, 0, tzinfo=UTC)),
        # a leap year: 365 days from 1 March 2027 end on 29 February 2028 → 1 March 2028 00:00
        (datetime(2027, 2, 28, 23, 0, tzinfo=UTC), 365, datetime(2028, 2, 28, 23, 0, tzinfo=UTC)),
    ],
)
def test_days_end(start: datetime, days: int, end: datetime) -> None:
    assert days_end(start, days) == end


def test_last_day_of_a_window_ending_at_midnight() -> None:
    assert last_day(datetime(2026, 3, 1, 23, 0, tzinfo=UTC)) == date(2026, 3, 1)
    assert last_day(local_midnight(date(2026, 3, 1))) == date(2026, 2, 28)


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        local_date(datetime(2026, 1, 1))
