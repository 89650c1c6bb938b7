"""What the dashboard shows about the tunnel, and the hub's live state that feeds it.

:class:`TunnelControl` is the narrow face of the tunnel connector the dashboard depends on
(status and "Reaktivieren"); :class:`AddonState` holds what arrived through the tunnel
(packages, via :meth:`AddonState.handle_control`) and what enrolment shows (pairing code).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from ccu_addon.packages import (
    PackageCache,
    PackageMessageError,
    PackageSnapshot,
    parse_packages_message,
)

__all__ = ["AddonState", "Refusal", "TunnelControl", "TunnelState", "TunnelStatus"]

_LOGGER = logging.getLogger(__name__)


class TunnelState(StrEnum):
    """Where the tunnel stands, as the dashboard names it."""

    NOT_ENROLLED = "not_enrolled"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    WAITING = "waiting"
    """Refused or disconnected; the next attempt is scheduled."""
    STOPPED_EXPIRED = "stopped_expired"
    """The package expired: no reconnects until "Reaktivieren" (R-CCU-9)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Refusal:
    """The gateway's last refusal."""

    reason: str
    """A tunnel refusal reason (``expired``, ``revoked``, …)."""
    detail: str
    """Free text from the gateway."""
    at: datetime
    """When it happened."""
    retry_after: float
    """Seconds the gateway asked the hub to wait."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TunnelStatus:
    """A snapshot for the dashboard."""

    state: TunnelState
    """Where the tunnel stands."""
    connected_since: datetime | None = None
    """Start of the current session."""
    last_handshake: datetime | None = None
    """Last successful HELLO/WELCOME."""
    rtt: float | None = None
    """Round-trip time of the last heartbeat, seconds."""
    bytes_sent: int = 0
    """Wire bytes sent in the current session."""
    bytes_received: int = 0
    """Wire bytes received in the current session."""
    last_refusal: Refusal | None = None
    """The gateway's last refusal, if any."""


class TunnelControl(Protocol):
    """The tunnel connector as the dashboard sees it."""

    def status(self) -> TunnelStatus:
        """The current snapshot."""
        ...

    def reenable(self) -> None:
        """Allow reconnecting after an expiry stop (the local action of R-CCU-9)."""
        ...


class _NoTunnel:
    """Stands in until the daemon has a connector (not enrolled yet)."""

    def status(self) -> TunnelStatus:
        return TunnelStatus(state=TunnelState.NOT_ENROLLED)

    def reenable(self) -> None:
        """Nothing to re-enable."""


class AddonState:
    """The hub's live state: packages (cached on flash), tunnel, enrolment."""

    def __init__(self, cache: PackageCache) -> None:
        self.cache = cache
        self.tunnel: TunnelControl = _NoTunnel()
        self.pairing_code: str | None = None
        """The code to type into the portal while enrolment is pending."""

    def show_pairing_code(self, code: str | None) -> None:
        """Enrolment's ``on_pairing_code``: the code to show, or ``None`` when there is none."""
        self.pairing_code = code

    @property
    def packages(self) -> PackageSnapshot | None:
        """What the gateway last said (possibly from an earlier run's cache)."""
        return self.cache.current

    async def handle_control(self, body: Mapping[str, Any]) -> None:
        """A CONTROL message from the gateway (the connector's ``on_control``)."""
        kind = body.get("type")
        if kind == "packages":
            try:
                snapshot = parse_packages_message(body)
            except PackageMessageError as exc:
                _LOGGER.warning("ignoring a packages message: %s", exc)
                return
            if snapshot != self.cache.current:
                await asyncio.to_thread(self.cache.update, snapshot)
            return
        _LOGGER.debug("ignoring CONTROL message of type %r", kind)
