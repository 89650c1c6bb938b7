"""Device hosts: ``<slug>.<remote_domain>[:port]`` (pure helpers, no I/O)."""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "GATEWAY_COOKIES",
    "REMOTE_COOKIE",
    "device_origin",
    "host_only_cookie",
    "slug_from_host",
    "strip_cookies",
]

REMOTE_COOKIE: Final = "__Host-remote"
"""Host-only cookie that holds a browser's remote-access session on one device host."""
GATEWAY_COOKIES: Final = frozenset({REMOTE_COOKIE, "__Host-session", "__Host-csrf"})
"""The gateway's own cookies; they never reach a device."""

_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def _split_port(host: str) -> tuple[str, str]:
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1], host[end + 1 :]
    name, sep, port = host.rpartition(":")
    if sep and port.isdigit():
        return name, f":{port}"
    return host, ""


def slug_from_host(host: str | None, remote_domain: str) -> str | None:
    """The device slug when ``host`` is a device host, else ``None``."""
    if not host:
        return None
    name, _port = _split_port(host.strip().lower().rstrip("."))
    suffix = "." + remote_domain.lower().strip(".")
    if not name.endswith(suffix):
        return None
    label = name[: -len(suffix)]
    return label if _LABEL.match(label) else None


def device_origin(slug: str, remote_domain: str, portal_host: str) -> str:
    """``https://<slug>.<domain>[:port]`` with the port the browser used for the portal."""
    _name, port = _split_port(portal_host)
    if port == ":443":
        port = ""
    return f"https://{slug}.{remote_domain.strip('.')}{port}"


def strip_cookies(header: str) -> str:
    """A ``Cookie`` header value without the gateway's own cookies."""
    kept = []
    for part in header.split(";"):
        name = part.split("=", 1)[0].strip()
        if part.strip() and name not in GATEWAY_COOKIES:
            kept.append(part.strip())
    return "; ".join(kept)


def host_only_cookie(set_cookie: str) -> str:
    """A device's ``Set-Cookie`` value without ``Domain`` attributes: the browser then keeps
    the cookie for the device's own host only, never for the gateway's (parent) domain or
    other device hosts."""
    parts = set_cookie.split(";")
    kept = [parts[0]] + [
        part for part in parts[1:] if part.split("=", 1)[0].strip().lower() != "domain"
    ]
    return ";".join(kept)
