"""Configuration of ``ccu-addon run``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tunnel.tomlconfig import load_config

__all__ = ["AddonConfig", "CcuConfig", "GatewayLink", "load_addon_config"]


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayLink:
    """How the add-on reaches the cloud gateway."""

    url: str = "https://localhost:8443/"
    """Base URL of the gateway (the tunnel lives at ``/tunnel/v1``)."""
    ca_file: Path | None = None
    """CA bundle to verify the gateway with; the system store when unset."""

    def __post_init__(self) -> None:
        if not self.url.startswith("https://"):
            raise ValueError("gateway.url must be an https:// URL")


@dataclass(frozen=True, slots=True, kw_only=True)
class CcuConfig:
    """Where the local CCU answers (loopback on the hub itself)."""

    webui_url: str = "http://127.0.0.1/"
    """The CCU WebUI that remote-access streams are forwarded to."""
    jsonrpc_url: str = "http://127.0.0.1/api/homematic.cgi"
    """The CCU's JSON-RPC endpoint."""
    xmlrpc_urls: tuple[str, ...] = ("http://127.0.0.1:2001/", "http://127.0.0.1:2010/")
    """XML-RPC interfaces (BidCos-RF, HmIP-RF) to register for events."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AddonConfig:
    """Everything ``ccu-addon run`` needs."""

    state_dir: Path = Path("/usr/local/etc/config/addons/cloudconnector")
    """Where the key, certificate and cached package state are kept (on flash)."""
    listen_host: str = "127.0.0.1"
    """Address of the dashboard page server (proxied by the CCU's lighttpd)."""
    listen_port: int = 8181
    """Port of the dashboard page server."""
    gateway: GatewayLink = field(default_factory=GatewayLink)
    """The cloud gateway."""
    ccu: CcuConfig = field(default_factory=CcuConfig)
    """The local CCU."""
    allowed_lan_targets: tuple[str, ...] = ()
    """Further LAN HTTP devices reachable through the tunnel ("Netzwerkgeräte"), host:port."""


def load_addon_config(path: Path | None) -> AddonConfig:
    """Load ``path``, or the defaults when no file is given."""
    return AddonConfig() if path is None else load_config(path, AddonConfig)
