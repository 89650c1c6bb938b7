"""Contract periods as Berlin local days: month ends, the 29th-31st, DST weekends."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest

from cloud_gateway.billing.catalogue import PeriodUnit
from cloud_gateway.billing.periods import local_date, local_midnight, period, period_index

M, D = PeriodUnit.MONTH, PeriodUnit.DAY


def _spans(start: date, count: int) -> list[tuple[date, date]]:
    return [(p.first, p.last) for p in (period(start, i, M, 1) for i in range(count))]


def test_start_on_the_31st_ends_on_the_last_day_of_shorter_months() -> None:
    assert _spans(date(2026, 1, 31), 4) == [
        (date(2026, 1, 31), date(2026, 2, 28)),
        (date(2026, 3, 1), date(2026, 3, 30)),
        (date(2026, 3, 31), date(2026, 4, 30)),
        (date(2026, 5, 1), date(2026, 5, 30)),
    ]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2026, 1, 29), date(2026, 2, 28)),  # no 29 February in 2026
        (date(2026, 1, 30), date(2026, 2, 28)),
        (date(2028, 1, 29), date(2028, 2, 28)),  # leap year: the day before 29 February
        (date(2028, 1, 30), date(2028, 2, 29)),
        (date(2026, 3, 31), date(2026, 4, 30)),
        (date(2026, 1, 15), date(2026, 2, 14)),
    ],
)
def test_first_month(start: date, end: date) -> None:
    assert period(start, 0, M, 1).last == end


def test_periods_are_contiguous_and_anchored_on_the_start() -> None:
    start = date(2026, 8, 31)
    spans = [period(start, i, M, 1) for i in range(24)]
    for before, after in itertools.pairwise(spans):
        assert (after.first - before.last).days == 1
    assert spans[12].first == date(2027, 8, 31)
    assert period(date(2026, 1, 31), 1, M, 6).first == date(2026, 7, 31)
    assert period(date(2026, 8, 31), 0, M, 6).last == date(2027, 2, 28)


def test_period_index() -> None:
    start = date(2026, 1, 31)
    assert period_index(start, date(2026, 1, 30), M, 1) is None
    assert period_index(start, date(2026, 2, 28), M, 1) == 0
    assert period_index(start, date(2026, 3, 1), M, 1) == 1
    assert period_index(start, date(2026, 3, 31), M, 1) == 2
    assert period_index(start, date(2027, 1, 31), M, 1) == 12
    assert period_index(start, date(2027, 1, 30), M, 12) == 0
    assert period_index(start, date(2027, 1, 31), M, 12) == 1


def test_day_periods() -> None:
    licence = period(date(2026, 3, 1), 0, D, 365)
    assert (licence.first, licence.last) == (date(2026, 3, 1), date(2027, 2, 28))
    assert period(date(2028, 1, 1), 0, D, 365).last == date(2028, 12, 30)  # leap year
    assert period_index(date(2026, 3, 1), date(2027, 3, 1), D, 365) == 1


def test_dst_weekends_move_the_utc_start_of_a_local_day() -> None:
    # spring: Sunday 29 March 2026 has 23 hours; autumn: Sunday 25 October 2026 has 25 hours
    start = date(2026, 2, 28)
    march = period(start, 1, M, 1)
    assert (march.first, march.last) == (date(2026, 3, 28), date(2026, 4, 27))
    assert local_midnight(date(2026, 3, 29)) == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert local_midnight(date(2026, 3, 30)) == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    assert local_midnight(date(2026, 10, 26)) == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)
    assert local_date(datetime(2026, 3, 28, 22, 59, tzinfo=UTC)) == date(2026, 3, 28)
    assert local_date(datetime(2026, 3, 28, 23, 0, tzinfo=UTC)) == date(2026, 3, 29)
    # a period that starts on the DST Sunday starts at 23:00 UTC the day before
    sunday = period(date(2026, 3, 29), 0, D, 1)
    assert local_midnight(sunday.first) == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    autumn = period(date(2026, 9, 25), 1, M, 1)
    assert (autumn.first, autumn.last) == (date(2026, 10, 25), date(2026, 11, 24))
    assert local_midnight(autumn.first) == datetime(2026, 10, 24, 22, 0, tzinfo=UTC)
