"""Configuration of ``inverter-agent run``."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from tunnel.tomlconfig import load_config

__all__ = ["AgentConfig", "BusConfig", "BusKind", "GatewayLink", "Parity", "load_agent_config"]


class BusKind(StrEnum):
    """How the inverters are reached."""

    TCP = "tcp"
    RTU = "rtu"


class Parity(StrEnum):
    """Serial parity of an RS485 bus."""

    EVEN = "E"
    NONE = "N"
    ODD = "O"


@dataclass(frozen=True, slots=True, kw_only=True)
class BusConfig:
    """One Modbus bus with its inverters."""

    kind: BusKind = BusKind.TCP
    """``tcp`` (Modbus TCP) or ``rtu`` (RS485)."""
    host: str = "127.0.0.1"
    """Modbus TCP host."""
    port: int = 502
    """Modbus TCP port."""
    serial_port: str = "/dev/ttyUSB0"
    """RS485 serial device (RTU)."""
    baudrate: int = 9600
    """RS485 baud rate (RTU)."""
    parity: Parity = Parity.EVEN
    """RS485 parity (RTU); 8 data bits, 1 stop bit."""
    unit_ids: tuple[int, ...] = (1,)
    """Modbus unit ids of the inverters on this bus."""
    poll_interval_s: float = 10.0
    """Seconds between polls of each inverter."""
    timeout_s: float = 1.0
    """Seconds to wait for one response."""
    retries: int = 2
    """Further attempts after a request timed out (0..5)."""
    turnaround_s: float = 0.05
    """Allowance for a device to start answering, per request (wire-time budget)."""

    def __post_init__(self) -> None:
        if not self.unit_ids or any(not 1 <= u <= 247 for u in self.unit_ids):
            raise ValueError("unit_ids must be 1..247 and not empty")
        if self.poll_interval_s <= 0 or self.timeout_s <= 0:
            raise ValueError("poll_interval_s and timeout_s must be positive")
        if not 0 <= self.retries <= 5:
            raise ValueError("retries must be 0..5")
        if self.turnaround_s < 0 or self.baudrate <= 0:
            raise ValueError("turnaround_s must not be negative and baudrate must be positive")


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayLink:
    """How the agent reaches the cloud gateway."""

    url: str = "https://localhost:8443/"
    """Base URL of the gateway (the tunnel lives at ``/tunnel/v1``)."""
    ca_file: Path | None = None
    """CA bundle to verify the gateway with; the system store when unset."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentConfig:
    """Everything ``inverter-agent run`` needs."""

    state_dir: Path = Path("/var/lib/inverter-agent")
    """Where the key, certificate and the outbox database live."""
    outbox_max_readings: int = 1_000_000
    """Outbox bound; when full the oldest readings are dropped, counted and reported."""
    gateway: GatewayLink = field(default_factory=GatewayLink)
    """The cloud gateway."""
    buses: tuple[BusConfig, ...] = ()
    """The Modbus buses to poll."""


def load_agent_config(path: Path | None) -> AgentConfig:
    """Load ``path``, or the defaults when no file is given."""
    return AgentConfig() if path is None else load_config(path, AgentConfig)
