"""Configuration of the simulated CCU and the clock it is handed."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

from simulator.ccu.catalog import MODELS

__all__ = ["DEFAULT_DEVICES", "CcuConfig", "Clock", "MonotonicClock", "PairedDevice"]


class Clock(Protocol):
    """The only thing the simulated CCU asks about time (``tunnel.clock`` clocks fit)."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards."""
        ...


class MonotonicClock:
    """The real clock, for the command line."""

    __slots__ = ()

    def monotonic(self) -> float:
        return time.monotonic()


@dataclass(frozen=True, slots=True, kw_only=True)
class PairedDevice:
    """A device the simulated CCU has paired (``[[devices]]`` in TOML)."""

    address: str
    """Serial number: ``LEQ1234501`` style for BidCos-RF, 14 hex digits for HmIP-RF."""
    type: str
    """Model, one of :data:`simulator.ccu.catalog.MODELS`."""


#: the devices a fresh simulated CCU has paired
DEFAULT_DEVICES: tuple[PairedDevice, ...] = (
    PairedDevice(address="LEQ1234501", type="HM-LC-Sw1-Pl"),
    PairedDevice(address="MEQ0123402", type="HM-ES-PMSw1-Pl"),
    PairedDevice(address="0001D3C98DD4B6", type="HmIP-PS"),
    PairedDevice(address="000A18A9A64DAD", type="HmIP-eTRV"),
    PairedDevice(address="0000D3C99C3C93", type="HmIP-SWDO"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CcuConfig:
    """How the simulated CCU presents itself; ports 0 mean "any free port"."""

    host: str = "127.0.0.1"
    """Address all three servers bind to."""
    webui_port: int = 0
    """WebUI and JSON-RPC (``/api/homematic.cgi``); a real CCU uses 80."""
    bidcos_port: int = 0
    """BidCos-RF XML-RPC; a real CCU uses 2001."""
    hmip_port: int = 0
    """HmIP-RF XML-RPC; a real CCU uses 2010."""
    seed: int = 1
    """Seed of the live behaviour: the same seed and ticks give the same values."""
    serial: str = "OEQ1234567"
    """Serial number of the hub (``CCU.getSerial``)."""
    version: str = "3.79.6.20241122"
    """Firmware version (``CCU.getVersion``)."""
    username: str = "Admin"
    """The one WebUI and JSON-RPC user (administrator)."""
    password: str = "admin"  # noqa: S105 - the documented login of the simulated CCU
    """Its password."""
    session_timeout: float = 1800.0
    """Seconds after the last use or renewal when a session ends."""
    big_file_size: int = 16 * 1024 * 1024
    """Default size of ``/webui/big.bin`` in bytes (``?size=`` overrides)."""
    devices: tuple[PairedDevice, ...] = DEFAULT_DEVICES
    """Paired devices."""
    callback_failure_limit: int = 3
    """Failed deliveries in a row after which a callback registration is dropped."""
    tick_interval: float = 5.0
    """Seconds between live-behaviour steps when run from the command line."""

    def __post_init__(self) -> None:
        for name in ("webui_port", "bidcos_port", "hmip_port"):
            port = getattr(self, name)
            if not 0 <= port <= 65535:
                raise ValueError(f"{name} must be between 0 and 65535, not {port}")
        if self.big_file_size < 0:
            raise ValueError("big_file_size must not be negative")
        if self.session_timeout <= 0:
            raise ValueError("session_timeout must be positive")
        unknown = sorted({device.type for device in self.devices} - set(MODELS))
        if unknown:
            raise ValueError(f"unknown device models {unknown}; known: {sorted(MODELS)}")
