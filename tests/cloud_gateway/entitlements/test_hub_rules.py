"""CloudMatic packages with literal dates: trial, package after trial, reminders, renewals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from cloud_gateway.entitlements.hub_rules import (
    ReminderKind,
    account_trial,
    due_reminders,
    package_window,
    reminders_for,
)
from cloud_gateway.entitlements.windows import Booking, WhyNot, entitlement_at

CREATED = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)  # 10:00 in Berlin
TRIAL_END = datetime(2026, 2, 14, 23, 0, tzinfo=UTC)  # 15 February 00:00 in Berlin


def test_trial_runs_thirty_days_from_account_creation() -> None:
    trial = account_trial(CREATED)
    assert trial.start == CREATED
    assert trial.end == TRIAL_END
    assert entitlement_at([trial], TRIAL_END - timedelta(seconds=1)).entitled
    after = entitlement_at([trial], TRIAL_END)
    assert not after.entitled
    assert after.why_not is WhyNot.EXPIRED


def test_package_booked_during_trial_starts_after_it() -> None:
    trial = account_trial(CREATED)
    package = package_window([trial], CREATED + timedelta(days=5), 30, Booking.SINGLE, "order:1")
    assert package.start == TRIAL_END
    assert package.end == datetime(2026, 3, 16, 23, 0, tzinfo=UTC)  # 17 March 00:00 local
    answer = entitlement_at([trial, package], CREATED)
    assert answer.until == package.end


def test_package_bought_after_expiry_starts_at_payment() -> None:
    trial = account_trial(CREATED)
    paid = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    package = package_window([trial], paid, 30, Booking.SINGLE, "order:1")
    assert package.start == paid


def test_single_booking_reminders_on_day_minus_five_and_expiry_day() -> None:
    trial = account_trial(CREATED)
    package = package_window([trial], CREATED, 30, Booking.SINGLE, "order:1")
    reminders = reminders_for(package)
    assert [(r.kind, r.day) for r in reminders] == [
        (ReminderKind.BEFORE, date(2026, 3, 11)),
        (ReminderKind.EXPIRY_DAY, date(2026, 3, 16)),
    ]
    assert reminders[0].due == datetime(2026, 3, 11, 8, 0, tzinfo=UTC)  # 09:00 local
    windows = [trial, package]
    assert due_reminders(windows, datetime(2026, 3, 11, 7, 59, tzinfo=UTC)) == []
    assert [r.kind for r in due_reminders(windows, datetime(2026, 3, 11, 8, 0, tzinfo=UTC))] == [
        ReminderKind.BEFORE
    ]
    assert due_reminders(windows, datetime(2026, 3, 12, 8, 0, tzinfo=UTC)) == []
    assert [r.kind for r in due_reminders(windows, datetime(2026, 3, 16, 20, 0, tzinfo=UTC))] == [
        ReminderKind.EXPIRY_DAY
    ]


def test_no_reminders_once_renewed_or_for_subscriptions() -> None:
    trial = account_trial(CREATED)
    package = package_window([trial], CREATED, 30, Booking.SINGLE, "order:1")
    renewal = package_window([trial, package], CREATED, 30, Booking.SINGLE, "order:2")
    at = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)
    assert [r.window for r in due_reminders([trial, package, renewal], at)] == []
    sub = package_window([trial], CREATED, 30, Booking.SUBSCRIPTION, "order:3")
    assert reminders_for(sub) == []
