"""Monitoring: retained MQTT messages; inverters' live state and SunSpec events.

Revision ID: 0025
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mqtt_outbox") as batch:
        batch.add_column(
            sa.Column("retain", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("mqtt_outbox") as batch:
        batch.drop_column("retain")
