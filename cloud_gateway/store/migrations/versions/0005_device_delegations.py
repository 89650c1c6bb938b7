"""Delegations of one device (remote access for an installer, R-MON-20 / R-DEV-7).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("delegations") as batch:
        batch.add_column(sa.Column("device_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_delegations_device_id_devices", "devices", ["device_id"], ["id"], ondelete="CASCADE"
        )


def downgrade() -> None:
    with op.batch_alter_table("delegations") as batch:
        batch.drop_constraint("fk_delegations_device_id_devices", type_="foreignkey")
        batch.drop_column("device_id")
