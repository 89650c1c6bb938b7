"""A licence bought after a power increase counts from the increase (pure, literal instants)."""

from __future__ import annotations

from datetime import UTC, datetime

from cloud_gateway.entitlements.replacement import replacement_start
from cloud_gateway.entitlements.windows import Window, WindowKind

START = datetime(2026, 2, 10, 23, 0, tzinfo=UTC)
END = datetime(2027, 2, 10, 23, 0, tzinfo=UTC)
INCREASE = datetime(2026, 8, 31, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 9, 3, 9, 0, tzinfo=UTC)


def licence(ended_at: datetime | None = None) -> Window:
    return Window(
        kind=WindowKind.LICENCE, start=START, end=END, source="billing:contract:1", id=1,
        licensed_power_w=10_000, ended_at=ended_at,
    )  # fmt: skip


def test_after_a_power_increase_the_new_licence_starts_at_the_increase() -> None:
    assert replacement_start([licence(ended_at=INCREASE)], LATER) == INCREASE


def test_a_running_or_expired_licence_is_followed_as_usual() -> None:
    assert replacement_start([licence()], LATER) is None  # still running
    expired = datetime(2027, 3, 1, tzinfo=UTC)
    assert replacement_start([licence()], expired) is None  # ran its full term
    trial = Window(kind=WindowKind.TRIAL, start=START, end=INCREASE, source="trial", id=2)
    assert replacement_start([trial], LATER) is None


def test_covered_again_nothing_to_replace() -> None:
    grant = Window(kind=WindowKind.GRANT, start=INCREASE, end=END, source="operator:1", id=3)
    assert replacement_start([licence(ended_at=INCREASE), grant], LATER) is None
