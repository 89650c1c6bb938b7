"""Configuration of ``cloud-gateway``, loaded once from TOML at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tunnel.tomlconfig import load_config

__all__ = [
    "DatabaseConfig",
    "GatewayConfig",
    "HttpConfig",
    "MqttConfig",
    "TlsConfig",
    "load_gateway_config",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpConfig:
    """Where the gateway listens for HTTPS (portal, API, tunnels, remote access)."""

    host: str = "127.0.0.1"
    """Address to bind; ``0.0.0.0`` for every interface."""
    port: int = 8443
    """TCP port; 0 picks a free one (the chosen port is logged and printed)."""
    public_host: str = "localhost"
    """Host name browsers and devices use to reach the gateway (portal and tunnel)."""

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port {self.port} is outside 0..65535")


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsConfig:
    """The server certificate; created with a local CA on first start when not given."""

    cert_file: Path | None = None
    """PEM server certificate chain; when unset, one is created in the state folder."""
    key_file: Path | None = None
    """PEM private key of the server certificate."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DatabaseConfig:
    """The gateway's database."""

    url: str = ""
    """SQLAlchemy URL: ``sqlite+aiosqlite:///path`` or ``postgresql+asyncpg://…``;
    empty means a SQLite file in the state folder."""

    def __post_init__(self) -> None:
        if self.url and not self.url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "database.url must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class MqttConfig:
    """The MQTT broker telemetry is fanned out to."""

    enabled: bool = False
    """Whether to publish to a broker at all."""
    host: str = "127.0.0.1"
    """Broker host."""
    port: int = 1883
    """Broker port."""
    topic_prefix: str = "cloudconnector"
    """First topic level of every published message."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayConfig:
    """Everything ``cloud-gateway serve`` needs."""

    state_dir: Path = Path("state/gateway")
    """Folder for the SQLite database, the CA and generated certificates."""
    remote_domain: str = "localhost"
    """Devices are reached at ``https://<device-slug>.<remote_domain>/``."""
    http: HttpConfig = field(default_factory=HttpConfig)
    """HTTPS listener."""
    tls: TlsConfig = field(default_factory=TlsConfig)
    """Server certificate."""
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    """Database connection."""
    mqtt: MqttConfig = field(default_factory=MqttConfig)
    """MQTT fan-out."""

    @property
    def database_url(self) -> str:
        """The configured URL, or the default SQLite file in the state folder."""
        return self.database.url or f"sqlite+aiosqlite:///{self.state_dir / 'gateway.sqlite3'}"


def load_gateway_config(path: Path | None) -> GatewayConfig:
    """Load ``path``, or the defaults when no file is given."""
    return GatewayConfig() if path is None else load_config(path, GatewayConfig)
