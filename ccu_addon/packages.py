"""The hub's packages as the gateway reports them, and their cache on flash.

The gateway sends a CONTROL message whenever the hub's packages change (and after every
handshake)::

    {"type": "packages",
     "account": {"id": 42, "username": "anna"},
     "device": "ccu-ferienhaus-1a2b",
     "packages": [{"code": "remote-12m", "name": "Fernzugriff", "state": "active",
                   "starts_at": "2026-01-01T00:00:00+00:00",
                   "ends_at": "2027-01-01T00:00:00+00:00", "runtime_days": 365}]}

:func:`parse_packages_message` is pure. :class:`PackageCache` keeps the last snapshot in
``packages.json`` in the state folder, written atomically and only when its content changed
(flash wear): the same message twice writes nothing.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from ccu_addon.errors import AddonError

__all__ = [
    "CACHE_FILE",
    "Package",
    "PackageCache",
    "PackageMessageError",
    "PackageSnapshot",
    "PackageState",
    "parse_packages_message",
]

_LOGGER = logging.getLogger(__name__)
CACHE_FILE: Final = "packages.json"
MESSAGE_TYPE: Final = "packages"


class PackageState(StrEnum):
    """Where a package stands."""

    TRIAL = "trial"
    ACTIVE = "active"
    GRACE = "grace"
    EXPIRED = "expired"


class PackageMessageError(AddonError, ValueError):
    """A packages message (or the cache file) does not have the expected shape."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Package:
    """One package of the hub's account."""

    code: str
    """Stable identifier (used in the shop link)."""
    name: str
    """Display name."""
    state: PackageState
    """Trial, active, grace or expired."""
    starts_at: datetime | None
    """Start of the current window."""
    ends_at: datetime | None
    """End of the current window (None: open-ended)."""
    runtime_days: int | None
    """Booked runtime in days."""

    def days_left(self, now: datetime) -> int | None:
        """Whole days until the end, rounded up; 0 when over; None when open-ended."""
        if self.ends_at is None:
            return None
        return max(0, math.ceil((self.ends_at - now).total_seconds() / 86400))


@dataclass(frozen=True, slots=True, kw_only=True)
class PackageSnapshot:
    """What the gateway last said about the hub's account and packages."""

    account_id: int
    """The account the hub is linked to."""
    account_name: str
    """Its user name, shown on the dashboard."""
    device: str
    """The hub's device slug."""
    packages: tuple[Package, ...]
    """Every package, in the gateway's order."""

    @property
    def any_usable(self) -> bool:
        """Whether some package (trial, active or grace) allows access."""
        return any(p.state is not PackageState.EXPIRED for p in self.packages)

    def to_json(self) -> dict[str, Any]:
        """The message form (also the cache file's content)."""
        return {
            "type": MESSAGE_TYPE,
            "account": {"id": self.account_id, "username": self.account_name},
            "device": self.device,
            "packages": [
                {
                    "code": p.code,
                    "name": p.name,
                    "state": p.state.value,
                    "starts_at": p.starts_at.isoformat() if p.starts_at else None,
                    "ends_at": p.ends_at.isoformat() if p.ends_at else None,
                    "runtime_days": p.runtime_days,
                }
                for p in self.packages
            ],
        }


def _str(obj: Mapping[str, Any], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or len(value) > 200:
        raise PackageMessageError(f"packages message: {key} must be a short string")
    return value


def _instant(obj: Mapping[str, Any], key: str) -> datetime | None:
    value = obj.get(key)
    if value is None:
        return None
    try:
        instant = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise PackageMessageError(f"packages message: {key} is not an ISO instant") from exc
    if instant.tzinfo is None:
        raise PackageMessageError(f"packages message: {key} has no time zone")
    return instant


def _package(obj: object) -> Package:
    if not isinstance(obj, dict):
        raise PackageMessageError("packages message: every package must be an object")
    try:
        state = PackageState(str(obj.get("state")))
    except ValueError as exc:
        raise PackageMessageError(f"packages message: unknown state {obj.get('state')!r}") from exc
    runtime = obj.get("runtime_days")
    if runtime is not None and (isinstance(runtime, bool) or not isinstance(runtime, int)):
        raise PackageMessageError("packages message: runtime_days must be an integer")
    return Package(
        code=_str(obj, "code"),
        name=_str(obj, "name"),
        state=state,
        starts_at=_instant(obj, "starts_at"),
        ends_at=_instant(obj, "ends_at"),
        runtime_days=runtime,
    )


def parse_packages_message(body: Mapping[str, Any]) -> PackageSnapshot:
    """Validate a ``{"type": "packages", …}`` CONTROL body."""
    if body.get("type") != MESSAGE_TYPE:
        raise PackageMessageError("not a packages message")
    account = body.get("account")
    packages = body.get("packages")
    if not isinstance(account, dict) or not isinstance(packages, list) or len(packages) > 50:
        raise PackageMessageError("packages message: account or packages missing")
    account_id = account.get("id")
    if isinstance(account_id, bool) or not isinstance(account_id, int) or account_id < 0:
        raise PackageMessageError("packages message: account.id must be an integer")
    return PackageSnapshot(
        account_id=account_id,
        account_name=_str(account, "username"),
        device=_str(body, "device"),
        packages=tuple(_package(p) for p in packages),
    )


class PackageCache:
    """The last snapshot, in memory and in ``<state_dir>/packages.json``.

    File work is small and rare (only on change); callers on the event loop run
    :meth:`update` and :meth:`load` in a thread.
    """

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / CACHE_FILE
        self.current: PackageSnapshot | None = None
        self.writes = 0
        """How many times the file was written (for the footprint benchmark and tests)."""

    def load(self) -> PackageSnapshot | None:
        """Read the file written by an earlier run; a damaged file is ignored (and logged)."""
        try:
            body = json.loads(self.path.read_text(encoding="utf-8"))
            self.current = parse_packages_message(body)
        except FileNotFoundError:
            self.current = None
        except (OSError, ValueError) as exc:
            _LOGGER.warning("ignoring the package cache %s: %s", self.path, exc)
            self.current = None
        return self.current

    def update(self, snapshot: PackageSnapshot) -> bool:
        """Keep ``snapshot``; write the file only when it differs. Returns True if written."""
        if snapshot == self.current:
            return False
        data = json.dumps(snapshot.to_json(), sort_keys=True, indent=1).encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        with tmp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(self.path)
        self.current = snapshot
        self.writes += 1
        return True
