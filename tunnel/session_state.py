"""Small types of a tunnel session: why it ended, its counters, and a cheap one-way flag.

Re-exported by :mod:`tunnel.session`, where most callers import them from.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["DisconnectReason", "Flag", "SessionStats"]


class DisconnectReason(StrEnum):
    """Why a session (or a connection attempt) ended."""

    CLEAN = "clean"
    """Closed in order by either end."""
    REFUSED = "refused"
    """The gateway sent REFUSE."""
    NETWORK = "network"
    """The connection failed or was lost."""
    TLS_ERROR = "tls_error"
    """The TLS handshake failed (certificate not trusted, rejected, expired)."""
    GATEWAY_BUSY = "gateway_busy"
    """The gateway closed the connection before TLS (over its handshake budget, ADR 0032)."""
    HANDSHAKE_TIMEOUT = "handshake_timeout"
    """No HELLO / WELCOME in time."""
    HEARTBEAT_TIMEOUT = "heartbeat_timeout"
    """The peer fell silent for longer than ``dead_after``."""
    PROTOCOL_ERROR = "protocol_error"
    """The peer sent something that is not protocol v1."""
    INTERNAL_ERROR = "internal_error"
    """A bug on this end; the traceback is logged."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionStats:
    """A snapshot of one session's counters."""

    uptime: float
    """Seconds since ``run()`` started (0 before)."""
    bytes_sent: int
    """Wire bytes sent, headers included."""
    bytes_received: int
    """Wire bytes received, headers included."""
    open_streams: int
    """Streams alive now."""
    streams_total: int
    """Streams opened in this session, both directions."""
    credit_stalls: int
    """Writes that waited for peer credit (streams alive now and finished)."""
    rtt: float | None
    """Round-trip time of the last PING in seconds."""


class Flag:
    """A one-way event without the waiter deque of ``asyncio.Event`` (cheap when idle)."""

    __slots__ = ("_is_set", "_waiter")

    def __init__(self) -> None:
        self._is_set = False
        self._waiter: asyncio.Future[None] | None = None

    def is_set(self) -> bool:
        return self._is_set

    def set(self) -> None:
        self._is_set = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def wait(self) -> None:
        if self._is_set:
            return
        if self._waiter is None:
            self._waiter = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._waiter)
