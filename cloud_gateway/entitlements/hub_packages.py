"""The hub's packages as the add-on shows them: a pure view of the account's windows.

The gateway sends this as a CONTROL message ``{"type": "packages", …}`` after every
WELCOME to a CCU hub and whenever its windows change (format: ``ccu_addon/packages.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cloud_gateway.entitlements.windows import Window, WindowKind

__all__ = ["packages_message"]

_NAMES = {
    WindowKind.TRIAL: "Testzeitraum",
    WindowKind.PACKAGE: "Fernzugriff",
    WindowKind.GRANT: "Freischaltung",
    WindowKind.LICENCE: "Lizenz",
}


def _state(window: Window, now: datetime) -> str:
    if window.effective_end <= now:
        return "expired"
    return "trial" if window.kind is WindowKind.TRIAL else "active"


def packages_message(
    *, account_id: int, username: str, device_slug: str, windows: Sequence[Window], now: datetime
) -> dict[str, Any]:
    """The CONTROL body listing every hub window of the account, oldest first."""
    packages = []
    for index, window in enumerate(sorted(windows, key=lambda w: (w.start, w.end))):
        end = window.effective_end
        packages.append(
            {
                "code": f"{window.kind.value}-{window.id if window.id is not None else index}",
                "name": _NAMES.get(window.kind, window.kind.value),
                "state": _state(window, now),
                "starts_at": window.start.isoformat(),
                "ends_at": end.isoformat(),
                "runtime_days": math.ceil((window.end - window.start).total_seconds() / 86400),
            }
        )
    return {
        "type": "packages",
        "account": {"id": account_id, "username": username},
        "device": device_slug,
        "packages": packages,
    }
