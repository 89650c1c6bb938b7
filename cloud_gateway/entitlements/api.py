"""The contract between entitlement rules and the places that enforce them.

Enforcement points (tunnel handshake, the scheduled close at a window's end, the
remote-access proxy, the data API) ask a :class:`DeviceEntitlementPolicy` for a
:class:`Decision`. When entitlement may have changed (a window granted or ended, a device
disabled), the rules side calls :meth:`EntitlementListener.entitlement_changed` so open
tunnels are re-evaluated and closed within seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from cloud_gateway.devices.model import Device
from cloud_gateway.entitlements.windows import Window
from tunnel.frame_types import RefusalReason

__all__ = [
    "Decision",
    "DeviceEntitlementPolicy",
    "EntitlementListener",
    "LicenceDecision",
    "OperatorFlagPolicy",
    "PlantRefusal",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """Whether a device may use the service at an instant, until when, and why not."""

    entitled: bool
    """May it use the service now?"""
    until: datetime | None = None
    """When the current entitlement ends (None: open-ended or not entitled)."""
    reason: RefusalReason | None = None
    """Why not, in the tunnel's own vocabulary (REFUSE carries it unchanged)."""
    retry_after_s: float = 3600.0
    """How long a refused device should wait before trying again."""
    windows: tuple[Window, ...] | None = None
    """The hub windows the decision was made on (None: it read none), so that what follows
    the decision (a hub's package view) does not read them again."""


class PlantRefusal(StrEnum):
    """Why a plant's data may not be served (the 402 answer's ``reason``)."""

    UNLICENSED = "unlicensed"
    """No trial or licence window covers now."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LicenceDecision:
    """Whether a plant's data may be served at an instant, until when, and why not."""

    entitled: bool
    until: datetime | None = None
    reason: PlantRefusal | None = None


class DeviceEntitlementPolicy(Protocol):
    """Answers "may this device use the service at ``at``?"."""

    async def decide(self, device: Device, at: datetime) -> Decision:
        """The decision for ``device`` at instant ``at``."""
        ...


class EntitlementListener(Protocol):
    """Told when a device's entitlement may have changed."""

    async def entitlement_changed(self, device_id: int) -> None:
        """Re-evaluate the device now (close its tunnel if it lost entitlement)."""
        ...


class OperatorFlagPolicy:
    """The interim rule: a device is entitled unless an operator disabled it."""

    async def decide(self, device: Device, at: datetime) -> Decision:
        if device.disabled:
            return Decision(entitled=False, reason=RefusalReason.FORBIDDEN, retry_after_s=3600.0)
        return Decision(entitled=True)
