"""A hub's LAN targets (Netzwerkgeräte): list, add, remove."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from cloud_gateway.errors import NotFoundError
from cloud_gateway.remote.lan import LanTarget
from cloud_gateway.remote.schema import lan_targets
from cloud_gateway.store.repository import Repository

__all__ = ["LanTargetRepository"]

_L = lan_targets


def _target(row: sa.Row[tuple[object, ...]]) -> LanTarget:
    m = row._mapping
    return LanTarget(
        id=m["id"], device_id=m["device_id"], name=m["name"], host=m["host"], port=m["port"]
    )


class LanTargetRepository(Repository):
    """LAN targets per device; a taken ``host:port`` of the same hub is a ConflictError."""

    async def list_for_device(self, device_id: int) -> list[LanTarget]:
        """The hub's targets, oldest first."""
        query = _L.select().where(_L.c.device_id == device_id).order_by(_L.c.id)
        async with self._db.connect() as conn:
            return [_target(r) for r in await conn.execute(query)]

    async def get(self, target_id: int, device_id: int) -> LanTarget:
        """One target of the hub (NotFoundError for another hub's)."""
        query = _L.select().where(_L.c.id == target_id, _L.c.device_id == device_id)
        async with self._db.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise NotFoundError(f"no LAN target {target_id} on device {device_id}")
        return _target(row)

    async def add(
        self, device_id: int, *, name: str, host: str, port: int, now: datetime
    ) -> LanTarget:
        """Add a target (checked by :func:`~cloud_gateway.remote.lan.check_lan_target`)."""
        async with self._db.begin() as conn:
            result = await conn.execute(
                _L.insert()
                .values(device_id=device_id, name=name, host=host, port=port, created_at=now)
                .returning(_L.c.id)
            )
            target_id = int(result.scalar_one())
        return LanTarget(id=target_id, device_id=device_id, name=name, host=host, port=port)

    async def remove(self, target_id: int, device_id: int) -> None:
        """Remove one target of the hub."""
        async with self._db.begin() as conn:
            result = await conn.execute(
                _L.delete().where(_L.c.id == target_id, _L.c.device_id == device_id)
            )
        if result.rowcount == 0:
            raise NotFoundError(f"no LAN target {target_id} on device {device_id}")
