"""AE SiteLink plant licences (seed 002): trial, licences, power increases, renewal (pure).

- R-MON-8: a 40-day trial starts when the plant's first inverter is activated.
- R-MON-10/11: licences run 365 or 730 days for a licensed nominal power; a paid licence extends
  the current entitlement.
- R-MON-14: when the plant's power exceeds a licence's power, that licence ends at once; a new
  licence counted from that day credits the remaining value of the old one (:class:`Credit`).
- R-MON-15: "Lizenz erneuern" is offered from 40 days before the end.
- R-MON-16: unlicensed plants' data is not served (:func:`licence_status` says so).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from cloud_gateway.entitlements.windows import (
    WhyNot,
    Window,
    WindowKind,
    entitlement_at,
    follow_on_start,
)
from cloud_gateway.localdays import (
    days_end,
    first_full_day,
    last_day,
    local_date,
)

__all__ = [
    "LICENCE_DAYS",
    "PLANT_TRIAL_DAYS",
    "RENEW_OFFER_DAYS",
    "Credit",
    "LicenceStatus",
    "PowerIncrease",
    "licence_status",
    "licence_window",
    "on_power_change",
    "plant_trial",
]

PLANT_TRIAL_DAYS = 40
LICENCE_DAYS = (365, 730)
RENEW_OFFER_DAYS = 40
_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True, kw_only=True)
class Credit:
    """The unused part of a licence that ended early, for the next price calculation."""

    window: Window
    """The licence that ended."""
    remaining_days: int
    """Whole local days from the day it ended to its booked end."""
    total_days: int
    """The licence's booked days."""

    @property
    def fraction(self) -> Decimal:
        """Remaining share of the licence, exact to 28 significant digits."""
        if self.total_days == 0:
            return Decimal(0)
        return Decimal(self.remaining_days) / Decimal(self.total_days)

    def value(self, price: Decimal) -> Decimal:
        """The credit for a licence that cost ``price``, rounded half-up to the cent."""
        return (price * self.remaining_days / self.total_days).quantize(_CENT, ROUND_HALF_UP)


@dataclass(frozen=True, slots=True, kw_only=True)
class PowerIncrease:
    """What a new plant power does to its licences."""

    ended: tuple[Window, ...]
    """Licences now ended (``ended_at`` set), to be stored."""
    credits: tuple[Credit, ...]
    """Their remaining values."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LicenceStatus:
    """What the portal shows about a plant's licence, and what the data API decides."""

    entitled: bool
    """Data is served and the plant is shown in the app."""
    ends_at: datetime | None
    """End of the continuous entitlement."""
    last_day: date | None
    """Last local day with access."""
    days_left: int | None
    """Local days from today up to and including the last day."""
    renew_offered: bool
    """Whether "Lizenz erneuern" is shown (from 40 days before the end)."""
    why_not: WhyNot | None
    """Why data is not served."""
    kind: WindowKind | None = None
    """The kind of the window whose end is :attr:`ends_at` (a trial followed by a licence
    says ``licence``): what the plant page names (Testphase / Lizenz)."""


def plant_trial(first_activation_at: datetime, days: int = PLANT_TRIAL_DAYS) -> Window:
    """The trial of a plant whose first inverter was activated at ``first_activation_at``."""
    return Window(
        kind=WindowKind.TRIAL,
        start=first_activation_at,
        end=days_end(first_activation_at, days),
        source="first-inverter-activated",
    )


def licence_window(
    windows: Iterable[Window],
    paid_at: datetime,
    days: int,
    licensed_power_w: int,
    source: str,
    *,
    start: datetime | None = None,
) -> Window:
    """A licence paid at ``paid_at``: it follows the current entitlement unless ``start`` is
    given (a replacement licence counted from the day of a power increase)."""
    if days not in LICENCE_DAYS:
        raise ValueError(f"licences run {LICENCE_DAYS[0]} or {LICENCE_DAYS[1]} days, not {days}")
    if licensed_power_w <= 0:
        raise ValueError("licensed power must be positive")
    begin = start if start is not None else follow_on_start(windows, paid_at)
    return Window(
        kind=WindowKind.LICENCE,
        start=begin,
        end=days_end(begin, days),
        source=source,
        licensed_power_w=licensed_power_w,
    )


def _total_days(window: Window) -> int:
    return (local_date(window.end) - first_full_day(window.start)).days


def _credit(window: Window, at: datetime) -> Credit:
    total = _total_days(window)
    remaining = total if at <= window.start else (local_date(window.end) - local_date(at)).days
    return Credit(window=window, remaining_days=max(0, min(total, remaining)), total_days=total)


def on_power_change(windows: Sequence[Window], plant_power_w: int, at: datetime) -> PowerIncrease:
    """End every current or future licence whose licensed power ``plant_power_w`` exceeds."""
    ended: list[Window] = []
    credits: list[Credit] = []
    for w in windows:
        if w.kind is not WindowKind.LICENCE or w.licensed_power_w is None:
            continue
        if w.effective_end <= at or plant_power_w <= w.licensed_power_w:
            continue
        credits.append(_credit(w, at))
        ended.append(replace(w, ended_at=max(at, w.start)))
    return PowerIncrease(ended=tuple(ended), credits=tuple(credits))


_KIND_RANK = {WindowKind.TRIAL: 1, WindowKind.GRANT: 2, WindowKind.LICENCE: 3}
"""Which kind names the end when windows of several kinds end at the same instant."""


def licence_status(
    windows: Sequence[Window], at: datetime, offer_days: int = RENEW_OFFER_DAYS
) -> LicenceStatus:
    """The plant's licence state at ``at``."""
    answer = entitlement_at(windows, at)
    if not answer.entitled or answer.until is None:
        return LicenceStatus(
            entitled=False,
            ends_at=None,
            last_day=None,
            days_left=None,
            renew_offered=False,
            why_not=answer.why_not,
        )
    final = last_day(answer.until)
    ending = [w for w in windows if w.start < w.effective_end == answer.until]
    kind = max(ending, key=lambda w: _KIND_RANK.get(w.kind, 0)).kind if ending else None
    today = local_date(at)
    offer_from = local_date(answer.until) - timedelta(days=offer_days)
    return LicenceStatus(
        entitled=True,
        ends_at=answer.until,
        last_day=final,
        days_left=(final - today).days + 1,
        renew_offered=today >= offer_from,
        why_not=None,
        kind=kind,
    )
