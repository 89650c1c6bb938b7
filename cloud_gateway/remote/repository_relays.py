"""The forwarded-access audit: per remote session, which node took the requests and which
node's tunnel carried them, with the traffic (one upsert per session and node pair for the
requests the holder gathered over half a second, :mod:`cloud_gateway.remote.relay`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from cloud_gateway.remote.schema import remote_relays
from cloud_gateway.store.repository import Repository
from cloud_gateway.store.upsert import dialect_insert

__all__ = ["RelayAudit", "RelayAuditRepository"]

_R = remote_relays


@dataclass(frozen=True, slots=True, kw_only=True)
class RelayAudit:
    """Forwarded traffic of one remote session between two nodes."""

    session_id: int
    entry_node: str
    tunnel_node: str
    requests: int
    bytes_to_device: int
    bytes_from_device: int
    first_at: datetime
    last_at: datetime


class RelayAuditRepository(Repository):
    """Counts forwarded requests per (session, entry node, tunnel node)."""

    async def record(
        self,
        session_id: int,
        *,
        entry_node: str,
        tunnel_node: str,
        to_device: int,
        from_device: int,
        now: datetime,
        requests: int = 1,
        first_at: datetime | None = None,
    ) -> None:
        """Add ``requests`` forwarded requests (the first at ``first_at``, the last at ``now``)
        to the session's row for the two nodes."""
        async with self._db.begin() as conn:
            stmt = dialect_insert(conn, _R).values(
                session_id=session_id,
                entry_node=entry_node,
                tunnel_node=tunnel_node,
                requests=requests,
                bytes_to_device=to_device,
                bytes_from_device=from_device,
                first_at=first_at or now,
                last_at=now,
            )
            await conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[_R.c.session_id, _R.c.entry_node, _R.c.tunnel_node],
                    set_={
                        "requests": _R.c.requests + requests,
                        "bytes_to_device": _R.c.bytes_to_device + to_device,
                        "bytes_from_device": _R.c.bytes_from_device + from_device,
                        "last_at": now,
                    },
                )
            )

    async def for_session(self, session_id: int) -> list[RelayAudit]:
        """The session's forwarded traffic, by node pair."""
        async with self._db.connect() as conn:
            rows = await conn.execute(
                sa.select(_R)
                .where(_R.c.session_id == session_id)
                .order_by(_R.c.entry_node, _R.c.tunnel_node)
            )
            return [RelayAudit(**r._mapping) for r in rows]
