"""Netzwerkgeräte (R-DEV-10): further LAN HTTP devices a hub opens through its tunnel (pure).

The owner keeps a per-hub list of LAN targets (``host:port`` in the hub's network). The
gateway sends the list to the hub as CONTROL ``{"type": "lan_targets", "targets": [...]}``
whenever the tunnel comes up and whenever the list changes; the add-on's allow-list is its
own configured targets plus these. A browser reaches target ``n`` of hub ``slug`` at the
device host ``<slug>--lan<n>.<remote_domain>``, which the gateway proxies as a stream to
``lan:<host>:<port>``; every other check (session, ownership, entitlement, audit) is the hub's.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cloud_gateway.errors import GatewayError

__all__ = [
    "LAN_CONTROL_TYPE",
    "InvalidLanTargetError",
    "LanTarget",
    "check_lan_target",
    "lan_control_message",
    "lan_label",
    "split_label",
]

LAN_CONTROL_TYPE = "lan_targets"

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"
)
_LAN_LABEL = re.compile(r"^(?P<slug>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)--lan(?P<id>[1-9][0-9]{0,8})$")


class InvalidLanTargetError(GatewayError, ValueError):
    """A LAN target's name, host or port is invalid; ``reason`` names which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class LanTarget:
    """One LAN device of a hub."""

    id: int
    device_id: int
    name: str
    host: str
    port: int

    @property
    def address(self) -> str:
        """``host:port`` (IPv6 in brackets), as the add-on's allow-list writes it."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def stream_target(self) -> str:
        """The OPEN target the hub serves for it."""
        return f"lan:{self.address}"


def check_lan_target(name: str, host: str, port: str | int) -> tuple[str, str, int]:
    """The normalised ``(name, host, port)``, or :class:`InvalidLanTargetError`."""
    name = " ".join(name.split())
    if not name or len(name) > 100:
        raise InvalidLanTargetError("name")
    host = host.strip().lower().strip("[]")
    try:
        host = str(ipaddress.ip_address(host))
    except ValueError:
        if not _HOSTNAME.match(host):
            raise InvalidLanTargetError("host") from None
    try:
        number = int(port)
    except (TypeError, ValueError):
        raise InvalidLanTargetError("port") from None
    if not 0 < number < 65536:
        raise InvalidLanTargetError("port")
    return name, host, number


def lan_control_message(targets: Iterable[LanTarget]) -> dict[str, Any]:
    """The CONTROL body that tells a hub its LAN allow-list."""
    return {"type": LAN_CONTROL_TYPE, "targets": sorted({t.address for t in targets})}


def lan_label(slug: str, target_id: int) -> str:
    """The device-host label of a hub's LAN target."""
    return f"{slug}--lan{target_id}"


def split_label(label: str) -> tuple[str, int | None]:
    """``(slug, target id)`` of a device-host label; the id is ``None`` for the hub itself."""
    found = _LAN_LABEL.match(label)
    if found is None:
        return label, None
    return found["slug"], int(found["id"])
