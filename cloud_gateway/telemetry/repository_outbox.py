"""MQTT outbox repository: messages written with the readings, deleted after PUBACK."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from cloud_gateway.store.repository import Repository
from cloud_gateway.telemetry.schema import mqtt_outbox

__all__ = ["MqttOutboxRepository", "OutboxMessage"]

_PG_DELETE = sa.text("DELETE FROM mqtt_outbox WHERE id = ANY(:ids)")


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One message waiting to be published."""

    id: int
    topic: str
    payload: bytes
    retain: bool = False
    """Publish with the RETAIN flag (the broker keeps it for later subscribers)."""


class MqttOutboxRepository(Repository):
    """Read and delete pending MQTT messages, oldest first."""

    async def pending(self, limit: int = 500, *, after_id: int = 0) -> list[OutboxMessage]:
        """The oldest ``limit`` messages with an id above ``after_id``."""
        o = mqtt_outbox.c
        async with self._db.connect() as conn:
            rows = await conn.execute(
                sa.select(o.id, o.topic, o.payload, o.retain)
                .where(o.id > after_id)
                .order_by(o.id)
                .limit(limit)
            )
            return [OutboxMessage(r.id, r.topic, bytes(r.payload), bool(r.retain)) for r in rows]

    async def delete(self, ids: Sequence[int]) -> None:
        """Forget messages the broker acknowledged."""
        if not ids:
            return
        async with self._db.begin() as conn:
            if conn.dialect.name == "postgresql":
                # one array parameter instead of an IN list compiled with 500 placeholders
                await conn.execute(_PG_DELETE, {"ids": list(ids)})
            else:
                await conn.execute(mqtt_outbox.delete().where(mqtt_outbox.c.id.in_(list(ids))))

    async def count(self) -> int:
        """How many messages wait."""
        async with self._db.connect() as conn:
            found = await conn.scalar(sa.select(sa.func.count()).select_from(mqtt_outbox))
        return int(found or 0)
