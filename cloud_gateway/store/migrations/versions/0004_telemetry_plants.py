"""Plants, inverters, telemetry readings.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cloud_gateway.store.types import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fk(table: str, column: str, target: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "plants",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("module_name", sa.String(100), nullable=False, server_default=""),
        sa.Column("latitude", sa.Float, nullable=True),
        sa.Column("longitude", sa.Float, nullable=True),
        sa.Column("postcode", sa.String(16), nullable=False, server_default=""),
        sa.Column("town", sa.String(100), nullable=False, server_default=""),
        sa.Column("country", sa.String(2), nullable=False, server_default="DE"),
        sa.Column("temp_coefficient", sa.Float, nullable=True),
        sa.Column("azimuth_deg", sa.Integer, nullable=True),
        sa.Column("tilt_deg", sa.Integer, nullable=True),
        sa.Column("module_area_m2", sa.Float, nullable=True),
        sa.Column("feed_in_tariff_mct", sa.Integer, nullable=True),
        sa.Column("plant_type", sa.String(16), nullable=False, server_default="pv"),
        sa.Column("public", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("trial_started_at", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_plants"),
        _fk("plants", "account_id", "accounts"),
    )
    op.create_index("ix_plants_account_id", "plants", ["account_id"])
    op.create_table(
        "inverters",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("plant_id", sa.Integer, nullable=False),
        sa.Column("serial", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False, server_default=""),
        sa.Column("activated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_inverters"),
        sa.UniqueConstraint("serial", name="uq_inverters_serial"),
        _fk("inverters", "plant_id", "plants"),
    )
    op.create_index("ix_inverters_plant_id", "inverters", ["plant_id"])
    op.create_table(
        "inverter_nameplates",
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("serial", sa.String(32), nullable=False),
        sa.Column("manufacturer", sa.String(64), nullable=False, server_default=""),
        sa.Column("model", sa.String(64), nullable=False, server_default=""),
        sa.Column("version", sa.String(32), nullable=False, server_default=""),
        sa.Column("w_rating", sa.Integer, nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "serial", name="pk_inverter_nameplates"),
        _fk("inverter_nameplates", "account_id", "accounts"),
    )
    op.create_table(
        "activation_failures",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_activation_failures"),
        _fk("activation_failures", "account_id", "accounts"),
    )
    op.create_index(
        "ix_activation_failures_account_id_at", "activation_failures", ["account_id", "at"]
    )
    op.create_table(
        "telemetry_batches",
        sa.Column("device_id", sa.Integer, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("rejected", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("device_id", "seq", name="pk_telemetry_batches"),
        _fk("telemetry_batches", "device_id", "devices"),
    )
    op.create_table(
        "readings",
        sa.Column("id", _BIG_ID, autoincrement=True),
        sa.Column("inverter_id", sa.Integer, nullable=True),
        sa.Column("device_id", sa.Integer, nullable=False),
        sa.Column("serial", sa.String(32), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("power_w", sa.Float, nullable=True),
        sa.Column("energy_wh", sa.Float, nullable=True),
        sa.Column("dc_power_w", sa.Float, nullable=True),
        sa.Column("state", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_readings"),
        _fk("readings", "inverter_id", "inverters"),
    )
    op.create_index("ix_readings_inverter_id_at", "readings", ["inverter_id", "at"])
    op.create_table(
        "inverter_days",
        sa.Column("inverter_id", sa.Integer, nullable=False),
        sa.Column("serial", sa.String(32), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("first_at", UtcDateTime(), nullable=False),
        sa.Column("first_wh", sa.Float, nullable=False),
        sa.Column("last_at", UtcDateTime(), nullable=False),
        sa.Column("last_wh", sa.Float, nullable=False),
        sa.Column("last_power_w", sa.Float, nullable=True),
        sa.PrimaryKeyConstraint("inverter_id", "serial", "day", name="pk_inverter_days"),
        _fk("inverter_days", "inverter_id", "inverters"),
    )
    op.create_table(
        "mqtt_outbox",
        sa.Column("id", _BIG_ID, autoincrement=True),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_mqtt_outbox"),
    )


def downgrade() -> None:
    op.drop_table("mqtt_outbox")
    op.drop_table("inverter_days")
    op.drop_index("ix_readings_inverter_id_at", "readings")
    op.drop_table("readings")
    op.drop_table("telemetry_batches")
    op.drop_index("ix_activation_failures_account_id_at", "activation_failures")
    op.drop_table("activation_failures")
    op.drop_table("inverter_nameplates")
    op.drop_index("ix_inverters_plant_id", "inverters")
    op.drop_table("inverters")
    op.drop_index("ix_plants_account_id", "plants")
    op.drop_table("plants")
