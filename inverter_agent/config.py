"""Configuration of ``inverter-agent run``."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from tunnel.tomlconfig import load_config

__all__ = [
    "AgentConfig",
    "BusConfig",
    "BusKind",
    "GatewayLink",
    "LocalMqttConfig",
    "Parity",
    "load_agent_config",
]


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
    device_name: str = "Wechselrichter-Agent"
    """Name the agent asks to be enrolled as (the portal shows it; the device slug derives
    from it)."""
    enabled: bool = True
    """Send telemetry; off: readings only collect in the outbox (and go to local MQTT)."""
    max_in_flight: int = 8
    """TELEMETRY frames sent and not yet acknowledged, at most (1..16)."""

    def __post_init__(self) -> None:
        if not 1 <= self.max_in_flight <= 16:
            raise ValueError("max_in_flight must be 1..16")


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalMqttConfig:
    """The owner's own MQTT broker (e.g. Home Assistant's Mosquitto), optional."""

    enabled: bool = False
    """Publish readings and Home Assistant discovery to a local broker."""
    host: str = "127.0.0.1"
    """Broker host."""
    port: int = 1883
    """Broker port (plain MQTT)."""
    username: str | None = None
    """User name, if the broker wants a login."""
    password: str | None = None
    """Password for ``username`` (never logged)."""
    client_id: str = "inverter-agent"
    """MQTT client id; unique per broker."""
    topic_prefix: str = "inverter-agent"
    """State topics live below ``<topic_prefix>/v1/``."""
    discovery_prefix: str = "homeassistant"
    """Home Assistant's discovery prefix."""
    keepalive_s: int = 60
    """MQTT keep-alive interval in seconds."""

    def __post_init__(self) -> None:
        if not 1 <= self.port <= 65535 or self.keepalive_s < 5:
            raise ValueError("port must be 1..65535 and keepalive_s at least 5")
        for prefix in (self.topic_prefix, self.discovery_prefix):
            if not prefix or prefix.endswith("/") or any(c in prefix for c in "#+"):
                raise ValueError(f"topic prefix {prefix!r}: not empty, no '/' at the end, no #+")


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentConfig:
    """Everything ``inverter-agent run`` needs."""

    state_dir: Path = Path("/var/lib/inverter-agent")
    """Where the key, certificate and the outbox database live."""
    outbox_max_readings: int = 1_000_000
    """Outbox bound in entries (one per bus cycle); when full the oldest are dropped and counted."""
    gateway: GatewayLink = field(default_factory=GatewayLink)
    """The cloud gateway."""
    buses: tuple[BusConfig, ...] = ()
    """The Modbus buses to poll."""
    local_mqtt: LocalMqttConfig = field(default_factory=LocalMqttConfig)
    """Readings for the owner's own broker and Home Assistant."""


def load_agent_config(path: Path | None) -> AgentConfig:
    """Load ``path``, or the defaults when no file is given."""
    return AgentConfig() if path is None else load_config(path, AgentConfig)
