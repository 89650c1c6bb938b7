"""The fleet's tables: node heartbeats and the tunnel directory (which node holds a device).

Every write is one short transaction; the directory's claim returns who held the device
before, so the new holder can tell an older session on another node to close. Works on both
backends (a single SQLite node keeps its directory too); :meth:`FleetRepository.notify` is
PostgreSQL's ``pg_notify``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from cloud_gateway.devices.schema import devices
from cloud_gateway.fleet.schema import fleet_nodes, tunnel_directory
from cloud_gateway.store.repository import Repository
from cloud_gateway.store.upsert import dialect_insert

__all__ = ["DirectoryEntry", "FleetNodeRow", "FleetRepository"]

_N = fleet_nodes
_D = tunnel_directory
_CHUNK = 1000
"""Directory rows per statement when a node claims its tunnels again (bound parameters)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DirectoryEntry:
    """Where a device's tunnel is held."""

    device_id: int
    node_id: str
    session_id: str
    since: datetime
    internal_url: str = ""
    """The holding node's internal (node-to-node) address."""

    def newer_than(self, since: datetime) -> bool:
        """True if this row's session began after a session that began at ``since``."""
        return self.since > since


@dataclass(frozen=True, slots=True, kw_only=True)
class FleetNodeRow:
    """A gateway node as the fleet sees it."""

    node_id: str
    started_at: datetime
    heartbeat_at: datetime
    internal_url: str
    draining: bool


class FleetRepository(Repository):
    """Node rows and directory rows."""

    # -- nodes ---------------------------------------------------------------------------

    async def join(
        self, node_id: str, now: datetime, *, internal_url: str = "", forget: bool = True
    ) -> None:
        """Announce the node (again): its row fresh; with ``forget`` (a start) directory rows
        of an earlier run with the same id are removed."""
        async with self._db.begin() as conn:
            if forget:
                await conn.execute(_D.delete().where(_D.c.node_id == node_id))
            insert = dialect_insert(conn, _N).values(
                node_id=node_id,
                started_at=now,
                heartbeat_at=now,
                internal_url=internal_url,
                draining=False,
            )
            await conn.execute(
                insert.on_conflict_do_update(
                    index_elements=[_N.c.node_id],
                    set_={
                        "started_at": now,
                        "heartbeat_at": now,
                        "internal_url": internal_url,
                        "draining": False,
                    },
                )
            )

    async def heartbeat(self, node_id: str, now: datetime, *, draining: bool = False) -> bool:
        """Refresh the node's row; False when it was gone (reaped as dead: join again)."""
        async with self._db.begin() as conn:
            result = await conn.execute(
                _N.update()
                .where(_N.c.node_id == node_id)
                .values(heartbeat_at=now, draining=draining)
            )
        return result.rowcount == 1

    async def reap(self, now: datetime, dead_after: timedelta, *, keep: str = "") -> list[str]:
        """Remove nodes silent for longer than ``dead_after`` with their directory rows
        (never ``keep``: the reaping node, alive as it is reaping).

        One ``DELETE`` judges and removes, so a node that beats or joins again while it is
        being reaped is either removed before (and its join inserts a fresh row) or judged on
        its new heartbeat and kept: never a fresh row removed on an old reading.
        """
        async with self._db.begin() as conn:
            dead = [
                r[0]
                for r in await conn.execute(
                    _N.delete()
                    .where(_N.c.heartbeat_at < now - dead_after, _N.c.node_id != keep)
                    .returning(_N.c.node_id)
                )
            ]
            if dead:  # gone with their node (ON DELETE CASCADE); said here for every backend
                await conn.execute(_D.delete().where(_D.c.node_id.in_(dead)))
        return sorted(dead)

    async def rejoin(
        self,
        node_id: str,
        now: datetime,
        tunnels: Sequence[tuple[int, str, datetime]],
        *,
        internal_url: str = "",
        draining: bool = False,
    ) -> list[DirectoryEntry]:
        """The node was reaped while alive: its row and its live ``tunnels`` (device id,
        session id, since) come back in one transaction, so a reaper sees all or none of
        them. A device whose row another node holds meanwhile (it came back there: that
        session is the newer one) is not taken over; those rows are returned."""
        async with self._db.begin() as conn:
            await conn.execute(
                dialect_insert(conn, _N)
                .values(
                    node_id=node_id,
                    started_at=now,
                    heartbeat_at=now,
                    internal_url=internal_url,
                    draining=draining,
                )
                .on_conflict_do_update(
                    index_elements=[_N.c.node_id],
                    set_={
                        "heartbeat_at": now,
                        "internal_url": internal_url,
                        "draining": draining,
                    },
                )
            )
            # a device deleted meanwhile has no row to claim (its tunnel is being closed)
            ids = [d for d, _s, _t in tunnels]
            known: set[int] = set()
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                query = sa.select(devices.c.id).where(devices.c.id.in_(chunk))
                known.update(r[0] for r in await conn.execute(query))
            tunnels = [t for t in tunnels if t[0] in known]
            if not tunnels:
                return []
            claimed: set[int] = set()
            for start in range(0, len(tunnels), _CHUNK):
                insert = dialect_insert(conn, _D).values(
                    [
                        {"device_id": d, "node_id": node_id, "session_id": s, "since": t}
                        for d, s, t in tunnels[start : start + _CHUNK]
                    ]
                )
                upsert = insert.on_conflict_do_update(
                    index_elements=[_D.c.device_id],
                    set_={"session_id": insert.excluded.session_id, "since": insert.excluded.since},
                    where=_D.c.node_id == node_id,  # never another node's (newer) row
                )
                claimed.update(r[0] for r in await conn.execute(upsert.returning(_D.c.device_id)))
            others = [d for d, _s, _t in tunnels if d not in claimed]
            if not others:
                return []
            rows = await conn.execute(
                sa.select(*_D.c, _N.c.internal_url)
                .select_from(_D.join(_N, _N.c.node_id == _D.c.node_id))
                .where(_D.c.device_id.in_(others))
                .order_by(_D.c.device_id)
            )
            return [DirectoryEntry(**r._mapping) for r in rows]

    async def leave(self, node_id: str) -> None:
        """The node shuts down: its row and directory rows go."""
        async with self._db.begin() as conn:
            await conn.execute(_D.delete().where(_D.c.node_id == node_id))
            await conn.execute(_N.delete().where(_N.c.node_id == node_id))

    async def nodes(self) -> list[FleetNodeRow]:
        """Every node with a row, by id."""
        async with self._db.connect() as conn:
            rows = await conn.execute(sa.select(_N).order_by(_N.c.node_id))
            return [FleetNodeRow(**r._mapping) for r in rows]

    # -- directory -----------------------------------------------------------------------

    async def claim(
        self, device_id: int, node_id: str, session_id: str, since: datetime
    ) -> DirectoryEntry | None:
        """Record that ``node_id`` holds the device's tunnel; returns the previous holder.

        A claim never overwrites a newer session's row (one with a later ``since``): a late
        claim, e.g. one tried again after the pool timed out, of a session the device has
        left meanwhile for another node writes nothing, and the entry returned is that newer
        holder, still holding (:meth:`DirectoryEntry.newer_than` tells).
        """
        async with self._db.begin() as conn:
            row = (
                await conn.execute(
                    sa.select(_D).where(_D.c.device_id == device_id).with_for_update()
                )
            ).first()
            previous = None if row is None else DirectoryEntry(**row._mapping)
            if previous is not None and previous.newer_than(since):
                return previous
            insert = dialect_insert(conn, _D).values(
                device_id=device_id, node_id=node_id, session_id=session_id, since=since
            )
            await conn.execute(
                insert.on_conflict_do_update(
                    index_elements=[_D.c.device_id],
                    set_={"node_id": node_id, "session_id": session_id, "since": since},
                    where=_D.c.since <= since,  # a row inserted meanwhile (no row was locked)
                )
            )
        return previous

    async def release(self, device_id: int, node_id: str, session_id: str) -> bool:
        """The session ended: its row goes (not a newer session's row)."""
        async with self._db.begin() as conn:
            result = await conn.execute(
                _D.delete().where(
                    _D.c.device_id == device_id,
                    _D.c.node_id == node_id,
                    _D.c.session_id == session_id,
                )
            )
        return result.rowcount == 1

    async def locate(self, device_id: int) -> DirectoryEntry | None:
        """Where the device's tunnel is held, with the holder's internal address."""
        async with self._db.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(*_D.c, _N.c.internal_url)
                    .select_from(_D.join(_N, _N.c.node_id == _D.c.node_id))
                    .where(_D.c.device_id == device_id)
                )
            ).first()
        return None if row is None else DirectoryEntry(**row._mapping)

    async def directory(self, *, limit: int = 10_000) -> list[DirectoryEntry]:
        """The fleet's tunnels: every directory row with its holder's internal address,
        newest first (the operator's list)."""
        async with self._db.connect() as conn:
            rows = await conn.execute(
                sa.select(*_D.c, _N.c.internal_url)
                .select_from(_D.join(_N, _N.c.node_id == _D.c.node_id))
                .order_by(_D.c.since.desc(), _D.c.device_id)
                .limit(limit)
            )
            return [DirectoryEntry(**r._mapping) for r in rows]

    async def held_by(self, node_id: str) -> list[DirectoryEntry]:
        """Every directory row of the node, by device id."""
        async with self._db.connect() as conn:
            rows = await conn.execute(
                sa.select(_D).where(_D.c.node_id == node_id).order_by(_D.c.device_id)
            )
            return [DirectoryEntry(**r._mapping) for r in rows]

    async def notify(self, channel: str, payload: str) -> None:
        """PostgreSQL ``NOTIFY`` on ``channel`` (delivered after this short commit)."""
        async with self._db.begin() as conn:
            await conn.execute(sa.select(sa.func.pg_notify(channel, payload)))
