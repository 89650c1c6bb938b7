"""Helpers of the bench nodes for TCP targets (the splicing itself is ``tunnel.tcp_splice``)."""

from __future__ import annotations

import asyncio
import socket

__all__ = ["READ_SIZE", "nodelay", "parse_target"]

READ_SIZE = 256 * 1024
"""Bytes the echo target asks for per socket read."""


def parse_target(target: str) -> tuple[str, int]:
    """``tcp://host:port`` -> (host, port)."""
    if not target.startswith("tcp://"):
        raise ValueError(f"bench targets are tcp://host:port, not {target!r}")
    host, _, port = target.removeprefix("tcp://").rpartition(":")
    return host, int(port)


def nodelay(writer: asyncio.StreamWriter) -> None:
    """Small echoes must not wait for Nagle."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
