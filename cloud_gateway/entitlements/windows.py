"""Entitlement windows and the one question they answer (pure: no asyncio, no database).

"May this hub or plant use the service at instant *t*, until when, and if not, why not?" is a
function of its windows alone. A window is a half-open interval ``[start, end)`` with a kind and
a source (which order, trial or operator made it). An operator can end a window early; it then
stops at ``ended_at``. Windows that touch or overlap form one continuous entitlement, so the
answer's ``until`` is the end of the whole chain, not just of the window that covers *t*.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = [
    "Answer",
    "Booking",
    "Subject",
    "WhyNot",
    "Window",
    "WindowKind",
    "coverage_end",
    "entitlement_at",
    "follow_on_start",
]


class WindowKind(StrEnum):
    """Where a window comes from."""

    TRIAL = "trial"
    PACKAGE = "package"
    LICENCE = "licence"
    GRANT = "grant"
    SERVICE = "service"


class Subject(StrEnum):
    """What a window entitles.

    ``account``: every hub of an account (CloudMatic packages and the account's trial belong to
    the account linked to the hub); ``hub``: one hub (operator grants); ``plant``: one PV plant;
    ``service``: one prepaid service contract (its id), a window per paid month.
    """

    ACCOUNT = "account"
    HUB = "hub"
    PLANT = "plant"
    SERVICE = "service"


class Booking(StrEnum):
    """How a hub package was booked."""

    SINGLE = "single"
    SUBSCRIPTION = "subscription"


class WhyNot(StrEnum):
    """Why there is no entitlement at an instant."""

    NO_WINDOW = "no_window"
    NOT_YET = "not_yet"
    EXPIRED = "expired"
    ENDED = "ended"


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    """A time window of entitlement."""

    kind: WindowKind
    """Trial, package, licence or operator grant."""
    start: datetime
    """First instant covered (aware, UTC)."""
    end: datetime
    """First instant no longer covered, as booked."""
    source: str
    """What created it, e.g. ``account-created``, ``order:17``, ``operator:3``."""
    id: int | None = None
    """Row id once stored."""
    ended_at: datetime | None = None
    """Set when an operator (or a rule such as a power increase) ended it early."""
    booking: Booking | None = None
    """Single booking or subscription (hub packages only)."""
    licensed_power_w: int | None = None
    """Nominal plant power the licence was bought for (plant licences only)."""

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("window instants must be timezone-aware")
        if self.end < self.start:
            raise ValueError("a window cannot end before it starts")

    @property
    def effective_end(self) -> datetime:
        """When the window really stops (early end included)."""
        if self.ended_at is not None and self.ended_at < self.end:
            return max(self.ended_at, self.start)
        return self.end

    @property
    def ended_early(self) -> bool:
        """Whether it was ended before its booked end."""
        return self.ended_at is not None and self.ended_at < self.end

    def covers(self, at: datetime) -> bool:
        """Whether instant ``at`` lies inside the window."""
        return self.start <= at < self.effective_end


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """The entitlement at one instant."""

    entitled: bool
    """May the subject use the service at the instant asked about?"""
    until: datetime | None = None
    """End of the continuous entitlement (when entitled)."""
    why_not: WhyNot | None = None
    """Reason when not entitled."""
    window: Window | None = None
    """The window that covers the instant (when entitled), else the last one that ended."""
    next_start: datetime | None = None
    """Start of the next future window, if any (when not entitled)."""


def coverage_end(windows: Iterable[Window], at: datetime) -> datetime | None:
    """The end of the continuous chain of windows that covers ``at`` (None when uncovered)."""
    live = [w for w in windows if w.effective_end > w.start]
    end: datetime | None = None
    for w in live:
        if w.covers(at) and (end is None or w.effective_end > end):
            end = w.effective_end
    if end is None:
        return None
    extended = True
    while extended:
        extended = False
        for w in live:
            if w.start <= end < w.effective_end:
                end = w.effective_end
                extended = True
    return end


def follow_on_start(windows: Iterable[Window], at: datetime) -> datetime:
    """Where a newly paid window begins: after the current entitlement, or at ``at``."""
    return coverage_end(windows, at) or at


def entitlement_at(windows: Iterable[Window], at: datetime) -> Answer:
    """Entitled at ``at``? Until when? If not, why not?"""
    if at.tzinfo is None:
        raise ValueError("naive datetime given where an instant is needed")
    live = [w for w in windows if w.effective_end > w.start]
    covering = [w for w in live if w.covers(at)]
    if covering:
        best = max(covering, key=lambda w: w.effective_end)
        return Answer(entitled=True, until=coverage_end(live, at), window=best)
    future = [w.start for w in live if w.start > at]
    next_start = min(future) if future else None
    past = [w for w in live if w.effective_end <= at]
    if not past:
        why = WhyNot.NOT_YET if future else WhyNot.NO_WINDOW
        return Answer(entitled=False, why_not=why, next_start=next_start)
    last = max(past, key=lambda w: w.effective_end)
    why = WhyNot.ENDED if last.ended_early else WhyNot.EXPIRED
    return Answer(entitled=False, why_not=why, window=last, next_start=next_start)
