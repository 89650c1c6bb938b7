"""Remote-access repository: one-time handover tokens and remote sessions (the audit).

A remote session is what a browser holds on a device host after the handover; its row
is kept after it ends and is the audit record of R-DEV-11: who, which device, when, from
which address, how many requests and bytes each way. Only hashes of secrets are stored.

Traffic is not written per request: the remote-access proxy counts it in memory and
hands the sums over in batches (:meth:`RemoteAccessRepository.add_traffic_batch`, one
transaction for many sessions). Counters are added, never overwritten, so several
gateway nodes may report for the same session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from cloud_gateway.remote.schema import remote_handovers, remote_sessions
from cloud_gateway.store.repository import Repository

__all__ = ["Handover", "RemoteAccessRepository", "RemoteSession", "TrafficDelta"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Handover:
    """A used one-time token: which account opened which device."""

    account_id: int
    device_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteSession:
    """A browser's remote-access session on one device host (and its audit record)."""

    id: int
    account_id: int | None
    device_id: int | None
    username: str
    device_slug: str
    source_address: str
    started_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None
    requests: int
    bytes_to_device: int
    bytes_from_device: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TrafficDelta:
    """Traffic of one session since the last report, to be added to its audit record."""

    session_id: int
    requests: int
    bytes_to_device: int
    bytes_from_device: int
    last_seen_at: datetime
    """The newest request in the delta; the record keeps the later of this and its own."""


def _session(row: sa.Row[tuple[object, ...]]) -> RemoteSession:
    m = row._mapping
    return RemoteSession(
        id=m["id"],
        account_id=m["account_id"],
        device_id=m["device_id"],
        username=m["username"],
        device_slug=m["device_slug"],
        source_address=m["source_address"],
        started_at=m["started_at"],
        last_seen_at=m["last_seen_at"],
        ended_at=m["ended_at"],
        requests=m["requests"],
        bytes_to_device=m["bytes_to_device"],
        bytes_from_device=m["bytes_from_device"],
    )


class RemoteAccessRepository(Repository):
    """Handover tokens, remote sessions and their traffic counters."""

    async def create_handover(
        self,
        token_hash: str,
        *,
        account_id: int,
        device_id: int,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        """Store a one-time token (by hash) that opens ``device_id`` for ``account_id``."""
        async with self._db.begin() as conn:
            await conn.execute(
                remote_handovers.insert().values(
                    token_hash=token_hash,
                    account_id=account_id,
                    device_id=device_id,
                    created_at=now,
                    expires_at=expires_at,
                )
            )

    async def consume_handover(self, token_hash: str, now: datetime) -> Handover | None:
        """Use the token once: its account and device, or ``None`` if unknown/used/expired."""
        async with self._db.begin() as conn:
            used = await conn.execute(
                remote_handovers.update()
                .where(
                    remote_handovers.c.token_hash == token_hash,
                    remote_handovers.c.used_at.is_(None),
                    remote_handovers.c.expires_at > now,
                )
                .values(used_at=now)
            )
            if used.rowcount != 1:
                return None
            row = (
                await conn.execute(
                    sa.select(remote_handovers.c.account_id, remote_handovers.c.device_id).where(
                        remote_handovers.c.token_hash == token_hash
                    )
                )
            ).one()
        return Handover(account_id=row.account_id, device_id=row.device_id)

    async def start_session(
        self,
        token_hash: str,
        *,
        account_id: int,
        device_id: int,
        username: str,
        device_slug: str,
        source_address: str,
        now: datetime,
    ) -> RemoteSession:
        """Record a new remote-access session."""
        async with self._db.begin() as conn:
            result = await conn.execute(
                remote_sessions.insert()
                .values(
                    token_hash=token_hash,
                    account_id=account_id,
                    device_id=device_id,
                    username=username,
                    device_slug=device_slug,
                    source_address=source_address[:64],
                    started_at=now,
                    last_seen_at=now,
                )
                .returning(*remote_sessions.c)
            )
            return _session(result.one())

    async def find_session(self, token_hash: str) -> RemoteSession | None:
        """The session for a cookie's token hash."""
        async with self._db.connect() as conn:
            row = (
                await conn.execute(
                    remote_sessions.select().where(remote_sessions.c.token_hash == token_hash)
                )
            ).first()
        return None if row is None else _session(row)

    async def add_traffic(
        self,
        session_id: int,
        *,
        now: datetime,
        to_device: int,
        from_device: int,
        requests: int = 1,
    ) -> None:
        """Count ``requests`` proxied requests and their bytes into one session."""
        await self.add_traffic_batch(
            [
                TrafficDelta(
                    session_id=session_id,
                    requests=requests,
                    bytes_to_device=to_device,
                    bytes_from_device=from_device,
                    last_seen_at=now,
                )
            ]
        )

    async def add_traffic_batch(self, deltas: Sequence[TrafficDelta]) -> None:
        """Add the traffic of many sessions in one transaction (one commit, one fsync)."""
        if not deltas:
            return
        c = remote_sessions.c
        seen = sa.bindparam("b_seen", type_=c.last_seen_at.type)
        statement = (
            remote_sessions.update()
            .where(c.id == sa.bindparam("b_id"))
            .values(
                last_seen_at=sa.case((c.last_seen_at < seen, seen), else_=c.last_seen_at),
                requests=c.requests + sa.bindparam("b_requests"),
                bytes_to_device=c.bytes_to_device + sa.bindparam("b_to"),
                bytes_from_device=c.bytes_from_device + sa.bindparam("b_from"),
            )
        )
        rows = [
            {
                "b_id": d.session_id,
                "b_seen": d.last_seen_at,
                "b_requests": d.requests,
                "b_to": d.bytes_to_device,
                "b_from": d.bytes_from_device,
            }
            for d in deltas
        ]
        async with self._db.begin() as conn:
            await conn.execute(statement, rows)

    async def end_session(self, session_id: int, now: datetime) -> None:
        """Mark the session ended (idle timeout, access withdrawn)."""
        async with self._db.begin() as conn:
            await conn.execute(
                remote_sessions.update()
                .where(remote_sessions.c.id == session_id, remote_sessions.c.ended_at.is_(None))
                .values(ended_at=now)
            )

    async def list_sessions(
        self, *, device_id: int | None = None, account_id: int | None = None, limit: int = 100
    ) -> list[RemoteSession]:
        """Audit records, newest first, optionally for one device or account."""
        query = remote_sessions.select().order_by(remote_sessions.c.id.desc()).limit(limit)
        if device_id is not None:
            query = query.where(remote_sessions.c.device_id == device_id)
        if account_id is not None:
            query = query.where(remote_sessions.c.account_id == account_id)
        async with self._db.connect() as conn:
            return [_session(r) for r in await conn.execute(query)]
