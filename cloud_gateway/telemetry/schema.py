"""Telemetry tables (SQLAlchemy Core), on the shared metadata (migration ``0004``).

* ``telemetry_batches``: the dedup key (device, sequence) of every TELEMETRY frame taken.
* ``readings``: one row per inverter reading; ``inverter_days``: first and last energy counter
  of each local day per inverter slot and serial (energy today, power now).
* ``mqtt_outbox``: MQTT messages written with the readings, deleted after PUBACK.
"""

from __future__ import annotations

import sqlalchemy as sa

from cloud_gateway.store.schema import metadata
from cloud_gateway.store.types import BigId, UtcDateTime

__all__ = [
    "inverter_days",
    "mqtt_outbox",
    "readings",
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

readings = sa.Table(
    "readings",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "inverter_id", sa.Integer, sa.ForeignKey("inverters.id", ondelete="CASCADE"), nullable=True
    ),
    sa.Column("device_id", sa.Integer, nullable=False),
    sa.Column("serial", sa.String(32), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("power_w", sa.Float, nullable=True),
    sa.Column("energy_wh", sa.Float, nullable=True),
    sa.Column("dc_power_w", sa.Float, nullable=True),
    sa.Column("state", sa.String(16), nullable=True),
    sa.Index("ix_readings_inverter_id_at", "inverter_id", "at"),
)

inverter_days = sa.Table(
    "inverter_days",
    metadata,
    sa.Column(
        "inverter_id", sa.Integer, sa.ForeignKey("inverters.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("serial", sa.String(32), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("first_at", UtcDateTime(), nullable=False),
    sa.Column("first_wh", sa.Float, nullable=False),
    sa.Column("last_at", UtcDateTime(), nullable=False),
    sa.Column("last_wh", sa.Float, nullable=False),
    sa.Column("last_power_w", sa.Float, nullable=True),
    sa.PrimaryKeyConstraint("inverter_id", "serial", "day", name="pk_inverter_days"),
)

mqtt_outbox = sa.Table(
    "mqtt_outbox",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("topic", sa.String(255), nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)
