"""Devices: the CCU hubs and inverter agents the gateway knows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["Device", "DeviceKind"]


class DeviceKind(StrEnum):
    """Which product runs on the device."""

    CCU = "ccu"
    INVERTER_AGENT = "inverter_agent"


@dataclass(frozen=True, slots=True, kw_only=True)
class Device:
    """A device that may hold a tunnel."""

    id: int
    slug: str
    kind: DeviceKind
    name: str
    account_id: int | None
    disabled: bool
    created_at: datetime
