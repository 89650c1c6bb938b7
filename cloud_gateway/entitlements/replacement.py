"""Where a licence bought after a power increase begins (pure; seed 002 §14, R-MON-14).

When added inverters (or a corrected configuration) made the plant outgrow its licence, that
licence ended at the instant of the increase. A new licence for the new power is "counted from
the extension of the plant": it begins at that instant, not when it is paid, so the days in
between are covered (their data was kept) and the term is the full 365 or 730 days from the
increase. Any other plant licence follows the current entitlement as usual.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from cloud_gateway.entitlements.windows import WhyNot, Window, WindowKind, entitlement_at

__all__ = ["replacement_start"]


def replacement_start(windows: Iterable[Window], at: datetime) -> datetime | None:
    """The instant a licence bought at ``at`` begins if it replaces one ended by a power
    increase; ``None`` when it does not (then it follows the current entitlement)."""
    answer = entitlement_at(list(windows), at)
    if answer.entitled or answer.why_not is not WhyNot.ENDED or answer.window is None:
        return None
    last = answer.window
    if last.kind is not WindowKind.LICENCE:
        return None
    return last.effective_end
