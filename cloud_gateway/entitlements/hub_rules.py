"""CloudMatic hub packages (seeds 000/001): trial, bookings, reminders (pure).

- R-CCU-2: a free 30-day trial starts when the account is created.
- R-CCU-13: a package booked during the trial starts after it (generally: after the current
  entitlement, so a renewal paid early extends without a gap).
- R-CCU-6: a single booking ends at expiry; reminders go out five days before the expiry day and
  on the expiry day itself, unless the entitlement already continues past the end.
- R-CCU-7: a subscription never sends reminders; its next period is ordered by the billing
  run (the renewal pro-forma, ``billing.activation.Activation.renewals_offered``), not here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from cloud_gateway.entitlements.windows import (
    Booking,
    Window,
    WindowKind,
    entitlement_at,
    follow_on_start,
)
from cloud_gateway.localdays import days_end, last_day, local_date, local_instant

__all__ = [
    "HUB_TRIAL_DAYS",
    "REMINDER_DAYS_BEFORE",
    "REMINDER_LOCAL_TIME",
    "Reminder",
    "ReminderKind",
    "account_trial",
    "due_reminders",
    "package_window",
    "reminders_for",
]

HUB_TRIAL_DAYS = 30
REMINDER_DAYS_BEFORE = 5
REMINDER_LOCAL_TIME = time(9, 0)
TRIAL_SOURCE = "account-created"


class ReminderKind(StrEnum):
    """Which of the two expiry reminders."""

    BEFORE = "before"
    EXPIRY_DAY = "expiry_day"


@dataclass(frozen=True, slots=True, kw_only=True)
class Reminder:
    """An expiry reminder that is due for a single-booking package window."""

    window: Window
    """The package window that is about to expire."""
    kind: ReminderKind
    """Five days before, or the expiry day itself."""
    day: date
    """The local day on which it is sent."""
    due: datetime
    """The instant from which it may be sent (that day at :data:`REMINDER_LOCAL_TIME`)."""
    expiry_day: date
    """The last local day of access."""


def account_trial(created_at: datetime, days: int = HUB_TRIAL_DAYS) -> Window:
    """The hub trial of an account created at ``created_at``."""
    return Window(
        kind=WindowKind.TRIAL,
        start=created_at,
        end=days_end(created_at, days),
        source=TRIAL_SOURCE,
    )


def package_window(
    windows: Iterable[Window], paid_at: datetime, days: int, booking: Booking, source: str
) -> Window:
    """The window a package paid at ``paid_at`` opens: it follows the current entitlement."""
    if days <= 0:
        raise ValueError("a package runs for at least one day")
    start = follow_on_start(windows, paid_at)
    return Window(
        kind=WindowKind.PACKAGE,
        start=start,
        end=days_end(start, days),
        source=source,
        booking=booking,
    )


def reminders_for(window: Window, days_before: int = REMINDER_DAYS_BEFORE) -> list[Reminder]:
    """The reminders a single-booking package window sends (none for anything else)."""
    if window.kind is not WindowKind.PACKAGE or window.booking is not Booking.SINGLE:
        return []
    if window.ended_early:
        return []
    expiry = last_day(window.end)
    days = [(ReminderKind.BEFORE, expiry - timedelta(days=days_before))]
    days.append((ReminderKind.EXPIRY_DAY, expiry))
    return [
        Reminder(
            window=window,
            kind=kind,
            day=day,
            due=local_instant(day, REMINDER_LOCAL_TIME),
            expiry_day=expiry,
        )
        for kind, day in days
        if day >= local_date(window.start)
    ]


def _continues(window: Window, windows: Sequence[Window]) -> bool:
    others = [w for w in windows if w is not window and w != window]
    return entitlement_at(others, window.effective_end).entitled


def due_reminders(
    windows: Sequence[Window], at: datetime, days_before: int = REMINDER_DAYS_BEFORE
) -> list[Reminder]:
    """Reminders to send at ``at``: due today (local), not before their hour, not yet renewed.

    A reminder whose day has passed is not sent late; the caller deduplicates by
    (window, kind), so calling this repeatedly during the day is safe.
    """
    today = local_date(at)
    return [
        reminder
        for window in windows
        for reminder in reminders_for(window, days_before)
        if reminder.day == today and at >= reminder.due and not _continues(window, windows)
    ]
