"""What the connector shows on the device's dashboard: frozen snapshots, plain records.

:class:`ConnectorStatus` is what :meth:`TunnelConnector.status` returns; the connector
keeps a :class:`StatusRecorder` and takes a snapshot of it on request. Instants are aware
UTC datetimes from the injected clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tunnel.frames import RefusalReason, Refuse
from tunnel.session import DisconnectReason

__all__ = ["ConnectorStatus", "Disconnect", "Refusal", "StatusRecorder"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Disconnect:
    """One ended connection attempt or session."""

    at: datetime
    """When it ended."""
    reason: DisconnectReason
    """Why it ended."""
    detail: str = ""
    """The error text, for the log and the dashboard."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Refusal:
    """A REFUSE from the gateway."""

    at: datetime
    """When it arrived."""
    reason: RefusalReason
    """Why the gateway refused."""
    retry_after: float
    """Seconds the gateway asked us to wait."""
    detail: str = ""
    """The gateway's explanation."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectorStatus:
    """A snapshot of the connector for the local dashboard."""

    state: str
    """The connector state (``connected``, ``waiting``, ``disabled``, ...)."""
    connected_since: datetime | None
    """Start of the running session, None while not connected."""
    last_handshake: datetime | None
    """When the last WELCOME arrived."""
    session_id: str | None
    """The gateway's id of the last session."""
    last_disconnect: Disconnect | None
    """The most recent ended attempt or session."""
    last_refusal: Refusal | None
    """The most recent REFUSE."""
    rtt: float | None
    """Last measured round-trip time in seconds."""
    bytes_sent: int
    """Wire bytes sent over all sessions of this process."""
    bytes_received: int
    """Wire bytes received over all sessions of this process."""
    attempts: int
    """Connection attempts since start."""
    failed_attempts: int
    """Consecutive attempts since the last healthy session (the backoff counter)."""
    next_delay: float | None
    """The last backoff delay chosen, in seconds."""


class StatusRecorder:
    """The connector's mutable record behind :class:`ConnectorStatus`."""

    def __init__(self) -> None:
        self.connected_since: datetime | None = None
        self.last_handshake: datetime | None = None
        self.session_id: str | None = None
        self.last_disconnect: Disconnect | None = None
        self.last_refusal: Refusal | None = None
        self.rtt: float | None = None
        self.attempts = 0
        self.next_delay: float | None = None

    def connected(self, now: datetime, session_id: str) -> None:
        self.connected_since = now
        self.last_handshake = now
        self.session_id = session_id

    def refused(self, frame: Refuse | None, now: datetime) -> None:
        if frame is not None:
            self.last_refusal = Refusal(
                at=now, reason=frame.reason, retry_after=frame.retry_after, detail=frame.detail
            )

    def snapshot(
        self,
        *,
        state: str,
        rtt: float | None,
        bytes_sent: int,
        bytes_received: int,
        failed_attempts: int,
    ) -> ConnectorStatus:
        return ConnectorStatus(
            state=state,
            connected_since=self.connected_since,
            last_handshake=self.last_handshake,
            session_id=self.session_id,
            last_disconnect=self.last_disconnect,
            last_refusal=self.last_refusal,
            rtt=rtt,
            bytes_sent=bytes_sent,
            bytes_received=bytes_received,
            attempts=self.attempts,
            failed_attempts=failed_attempts,
            next_delay=self.next_delay,
        )
