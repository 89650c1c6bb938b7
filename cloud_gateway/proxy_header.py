"""The PROXY protocol v2 header a load balancer sends before the client's bytes (pure).

HAProxy in TCP mode (``send-proxy-v2``) opens every connection to a node with this binary
header, so the node learns the real client address although the TCP peer is HAProxy::

     0                   1                   2                   3
    +-------------------------------------------------------------------+
    | signature: \\r\\n\\r\\n\\0\\r\\nQUIT\\n (12 bytes)                       |
    +----------------+----------------+---------------------------------+
    | version|command| family|transp. | length of the rest (uint16, BE) |
    +----------------+----------------+---------------------------------+
    | addresses: IPv4 4+4+2+2, IPv6 16+16+2+2, UNIX 108+108; then TLVs   |
    +-------------------------------------------------------------------+

Strict on purpose: only version 2 (the v1 text header is refused), only the commands LOCAL
(health checks: keep the socket's own address) and PROXY, addresses for a STREAM transport,
and at most :data:`MAX_BODY` bytes after the fixed part. TLVs are skipped unread. Spec:
https://www.haproxy.org/download/2.8/doc/proxy-protocol.txt
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass
from enum import IntEnum

from cloud_gateway.errors import GatewayError

__all__ = [
    "MAX_BODY",
    "PREFIX_SIZE",
    "SIGNATURE",
    "Command",
    "ProxyHeader",
    "ProxyHeaderError",
    "body_length",
    "parse_header",
]

SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
PREFIX = struct.Struct("!12sBBH")
"""Signature, version and command, family and transport, length of the rest."""
PREFIX_SIZE = PREFIX.size  # 16
MAX_BODY = 520
"""Longest rest accepted: the whole header fits the 536 bytes the spec guarantees."""

_INET = struct.Struct("!4s4sHH")
_INET6 = struct.Struct("!16s16sHH")
_VERSION_2 = 0x2
_STREAM = 0x1


class Command(IntEnum):
    """What the balancer says about the connection."""

    LOCAL = 0x0
    """The balancer's own connection (health check): the socket's address is the source."""
    PROXY = 0x1
    """Relayed for a client whose address follows."""


class _Family(IntEnum):
    UNSPEC = 0x0
    INET = 0x1
    INET6 = 0x2
    UNIX = 0x3


class ProxyHeaderError(GatewayError, ValueError):
    """The bytes are not a valid PROXY protocol v2 header: the connection is closed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProxyHeader:
    """A parsed header."""

    command: Command
    """LOCAL or PROXY."""
    source: tuple[str, int] | None
    """The client's address and port; None keeps the socket's own (LOCAL, UNSPEC, UNIX)."""


def body_length(prefix: bytes) -> int:
    """Check the fixed 16-byte part; the number of bytes that follow it."""
    if len(prefix) != PREFIX_SIZE:
        raise ProxyHeaderError(f"prefix of {len(prefix)} bytes, expected {PREFIX_SIZE}")
    signature, version_command, _family, length = PREFIX.unpack(prefix)
    if signature != SIGNATURE:
        raise ProxyHeaderError("no PROXY protocol v2 signature")
    if version_command >> 4 != _VERSION_2:
        raise ProxyHeaderError(f"PROXY protocol version {version_command >> 4} is not 2")
    try:
        Command(version_command & 0x0F)
    except ValueError:
        raise ProxyHeaderError(f"unknown command {version_command & 0x0F:#x}") from None
    if length > MAX_BODY:
        raise ProxyHeaderError(f"header body of {length} bytes exceeds {MAX_BODY}")
    return int(length)


def parse_header(data: bytes) -> ProxyHeader:
    """Parse a complete header: the 16-byte prefix and exactly :func:`body_length` more."""
    length = body_length(data[:PREFIX_SIZE])
    body = data[PREFIX_SIZE:]
    if len(body) != length:
        raise ProxyHeaderError(f"header body of {len(body)} bytes, announced {length}")
    _signature, version_command, family_transport, _length = PREFIX.unpack(data[:PREFIX_SIZE])
    command = Command(version_command & 0x0F)
    if command is Command.LOCAL:  # the spec: ignore the address block, keep the socket's
        return ProxyHeader(command=command, source=None)
    try:
        family = _Family(family_transport >> 4)
    except ValueError:
        raise ProxyHeaderError(f"unknown address family {family_transport >> 4:#x}") from None
    if family in (_Family.UNSPEC, _Family.UNIX):
        return ProxyHeader(command=command, source=None)
    if family_transport & 0x0F != _STREAM:
        raise ProxyHeaderError(f"transport {family_transport & 0x0F:#x} is not STREAM")
    layout = _INET if family is _Family.INET else _INET6
    if length < layout.size:
        raise ProxyHeaderError(f"{family.name} addresses need {layout.size} bytes, got {length}")
    src, _dst, src_port, _dst_port = layout.unpack_from(body)
    address = ipaddress.IPv4Address(src) if family is _Family.INET else ipaddress.IPv6Address(src)
    return ProxyHeader(command=command, source=(str(address), int(src_port)))
