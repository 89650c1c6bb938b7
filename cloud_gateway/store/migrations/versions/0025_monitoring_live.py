"""Monitoring: retained MQTT messages; inverters' live state and SunSpec events.

Revision ID: 0025
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cloud_gateway.store.types import BigId, UtcDateTime

revision = "0025"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mqtt_outbox") as batch:
        batch.add_column(
            sa.Column("retain", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "inverter_live",
        sa.Column(
            "inverter_id",
            sa.Integer,
            sa.ForeignKey("inverters.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("events", sa.BigInteger, nullable=True),
        sa.Column("payload", sa.Text, nullable=False),
    )
    op.create_table(
        "inverter_events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "inverter_id",
            sa.Integer,
            sa.ForeignKey("inverters.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("code", sa.Integer, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_index("ix_inverter_events_inverter_id_at", "inverter_events", ["inverter_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_inverter_events_inverter_id_at", table_name="inverter_events")
    op.drop_table("inverter_events")
    op.drop_table("inverter_live")
    with op.batch_alter_table("mqtt_outbox") as batch:
        batch.drop_column("retain")
