"""Telemetry tables (SQLAlchemy Core), on the shared metadata (migration ``0004``).

* ``telemetry_batches``: the dedup key (device, sequence) of every TELEMETRY frame taken.
* ``mqtt_outbox``: MQTT messages written with the readings, deleted after PUBACK; ``retain``
  (migration ``0025``) sets the RETAIN flag (alert messages, ``docs/mqtt-topics.md``).
"""

from __future__ import annotations

import sqlalchemy as sa

from cloud_gateway.store.schema import metadata
from cloud_gateway.store.types import BigId, UtcDateTime

__all__ = [
    "mqtt_outbox",
    "telemetry_batches",
]

telemetry_batches = sa.Table(
    "telemetry_batches",
    metadata,
    sa.Column(
        "device_id", sa.Integer, sa.ForeignKey("devices.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("received_at", UtcDateTime(), nullable=False),
    sa.Column("rejected", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.PrimaryKeyConstraint("device_id", "seq", name="pk_telemetry_batches"),
)

mqtt_outbox = sa.Table(
    "mqtt_outbox",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("topic", sa.String(255), nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("retain", sa.Boolean, nullable=False, server_default=sa.false()),
)
