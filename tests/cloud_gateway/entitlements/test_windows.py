"""The pure entitlement answer: literal cases and properties (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloud_gateway.entitlements.windows import (
    WhyNot,
    Window,
    WindowKind,
    coverage_end,
    entitlement_at,
    follow_on_start,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
H = timedelta(hours=1)


def w(start_h: int, end_h: int, ended_h: int | None = None) -> Window:
    return Window(
        kind=WindowKind.GRANT,
        start=T0 + start_h * H,
        end=T0 + end_h * H,
        source="test",
        ended_at=None if ended_h is None else T0 + ended_h * H,
    )


def test_no_windows_means_no_window() -> None:
    answer = entitlement_at([], T0)
    assert not answer.entitled
    assert answer.why_not is WhyNot.NO_WINDOW


def test_touching_windows_chain_until_the_last_end() -> None:
    windows = [w(0, 10), w(10, 20), w(15, 30), w(40, 50)]
    answer = entitlement_at(windows, T0 + 5 * H)
    assert answer.entitled
    assert answer.until == T0 + 30 * H
    gap = entitlement_at(windows, T0 + 35 * H)
    assert not gap.entitled
    assert gap.why_not is WhyNot.EXPIRED
    assert gap.next_start == T0 + 40 * H


def test_end_is_exclusive_and_start_inclusive() -> None:
    assert entitlement_at([w(0, 10)], T0).entitled
    assert not entitlement_at([w(0, 10)], T0 + 10 * H).entitled
    assert entitlement_at([w(5, 10)], T0).why_not is WhyNot.NOT_YET


def test_an_early_end_is_reported_as_ended() -> None:
    answer = entitlement_at([w(0, 10, ended_h=4)], T0 + 5 * H)
    assert answer.why_not is WhyNot.ENDED
    assert entitlement_at([w(0, 10, ended_h=4)], T0 + 3 * H).until == T0 + 4 * H


def test_windows_reject_naive_or_reversed_instants() -> None:
    with pytest.raises(ValueError, match="aware"):
        Window(kind=WindowKind.TRIAL, start=datetime(2026, 1, 1), end=T0, source="x")
    with pytest.raises(ValueError, match="before"):
        w(5, 1)


windows_st = st.lists(
    st.builds(
        lambda s, length, cut: w(s, s + length, None if cut is None else s + cut),
        st.integers(0, 200),
        st.integers(0, 80),
        st.one_of(st.none(), st.integers(0, 80)),
    ),
    max_size=8,
)


@given(windows_st, st.integers(-10, 300))
def test_entitled_exactly_when_a_window_covers(windows: list[Window], at_h: int) -> None:
    at = T0 + at_h * H
    answer = entitlement_at(windows, at)
    assert answer.entitled == any(x.covers(at) for x in windows)
    if answer.entitled:
        assert answer.until is not None
        assert answer.until > at
        assert answer.why_not is None
        # every hour up to the end is covered, the end itself is not
        probe = at
        while probe < answer.until:
            assert any(x.covers(probe) for x in windows)
            probe += H / 2
        assert not any(x.covers(answer.until) for x in windows)
    else:
        assert answer.why_not is not None
        assert coverage_end(windows, at) is None


@given(windows_st, st.integers(-10, 300))
def test_a_follow_on_window_never_overlaps_the_current_entitlement(
    windows: list[Window], at_h: int
) -> None:
    at = T0 + at_h * H
    start = follow_on_start(windows, at)
    assert start >= at
    assert not any(x.covers(start) for x in windows)
    extra = Window(kind=WindowKind.PACKAGE, start=start, end=start + 24 * H, source="p")
    answer = entitlement_at([*windows, extra], at)
    assert answer.entitled
    assert answer.until is not None
    assert answer.until >= start + 24 * H
