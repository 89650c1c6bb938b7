"""Traffic of remote sessions, counted in memory and written to the audit in batches.

The proxy calls :meth:`TrafficLedger.record` when a request ends: no database write
per request. :meth:`TrafficLedger.run` writes the sums every ``interval_s`` seconds on
the injected clock (one transaction for all sessions), :meth:`TrafficLedger.flush_session`
before a session is ended, and :meth:`TrafficLedger.flush` once more at gateway shutdown,
so the audit record (R-DEV-11) ends complete. A failed write keeps the sums for the
next attempt.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from cloud_gateway.errors import StoreError
from cloud_gateway.remote.repository import RemoteAccessRepository, TrafficDelta
from tunnel.clock import Clock

__all__ = ["TrafficLedger"]

_LOGGER = logging.getLogger(__name__)


@dataclass(slots=True, kw_only=True)
class _Pending:
    requests: int = 0
    to_device: int = 0
    from_device: int = 0
    last_seen_at: datetime

    def delta(self, session_id: int) -> TrafficDelta:
        return TrafficDelta(
            session_id=session_id,
            requests=self.requests,
            bytes_to_device=self.to_device,
            bytes_from_device=self.from_device,
            last_seen_at=self.last_seen_at,
        )

    def merge(self, other: _Pending) -> None:
        self.requests += other.requests
        self.to_device += other.to_device
        self.from_device += other.from_device
        self.last_seen_at = max(self.last_seen_at, other.last_seen_at)


class TrafficLedger:
    """Unwritten traffic per remote session."""

    def __init__(
        self, repository: RemoteAccessRepository, clock: Clock, *, interval_s: float = 30.0
    ) -> None:
        self._repository = repository
        self._clock = clock
        self._interval = timedelta(seconds=interval_s)
        self._pending: dict[int, _Pending] = {}

    def record(self, session_id: int, *, now: datetime, to_device: int, from_device: int) -> None:
        """Count one finished request of ``session_id`` (no I/O)."""
        pending = self._pending.get(session_id)
        if pending is None:
            pending = self._pending[session_id] = _Pending(last_seen_at=now)
        pending.requests += 1
        pending.to_device += to_device
        pending.from_device += from_device
        pending.last_seen_at = max(pending.last_seen_at, now)

    def last_seen(self, session_id: int) -> datetime | None:
        """The newest unwritten request of the session, if any."""
        pending = self._pending.get(session_id)
        return None if pending is None else pending.last_seen_at

    @property
    def sessions(self) -> int:
        """How many sessions have unwritten traffic."""
        return len(self._pending)

    async def flush(self) -> int:
        """Write every session's sums in one transaction; how many sessions were written."""
        taken, self._pending = self._pending, {}
        await self._write(taken)
        return len(taken)

    async def flush_session(self, session_id: int) -> None:
        """Write one session's sums now (before it is ended)."""
        pending = self._pending.pop(session_id, None)
        if pending is not None:
            await self._write({session_id: pending})

    async def _write(self, taken: dict[int, _Pending]) -> None:
        if not taken:
            return
        try:
            await self._repository.add_traffic_batch([p.delta(i) for i, p in taken.items()])
        except BaseException:
            for session_id, pending in taken.items():  # keep them for the next attempt
                if (newer := self._pending.get(session_id)) is not None:
                    pending.merge(newer)
                self._pending[session_id] = pending
            raise

    async def run(self) -> None:
        """Write the sums every ``interval_s`` seconds of the injected clock, until cancelled."""
        while True:
            await self._clock.sleep_until(self._clock.now() + self._interval)
            try:
                await self.flush()
            except (StoreError, SQLAlchemyError, OSError) as exc:  # the database may come back
                _LOGGER.warning("remote-access audit not written, retrying later: %s", exc)
