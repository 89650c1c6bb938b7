"""Keep the test suite on loopback: any connect to another address fails loudly."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

__all__ = ["install"]

_original_connect = socket.socket.connect
_original_connect_ex = socket.socket.connect_ex


class NonLoopbackConnectError(OSError):
    """A test tried to reach an address outside the loopback range."""


def _check(sock: socket.socket, address: Any) -> None:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    host = address[0]
    if host == "localhost" or host.endswith(".localhost"):
        return
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        raise NonLoopbackConnectError(f"tests may only connect to loopback, not {host!r}") from None
    if not ip.is_loopback:
        raise NonLoopbackConnectError(f"tests may only connect to loopback, not {host}")


def _connect(self: socket.socket, address: Any) -> None:
    _check(self, address)
    _original_connect(self, address)


def _connect_ex(self: socket.socket, address: Any) -> int:
    _check(self, address)
    return _original_connect_ex(self, address)


def install() -> None:
    """Patch :class:`socket.socket` for the whole test session."""
    socket.socket.connect = _connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign,assignment]
