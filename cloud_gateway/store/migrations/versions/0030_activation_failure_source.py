"""Wrong activation codes remember their source address (a per-address guessing limit).

Revision ID: 0030
Revises: 0025
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("activation_failures") as batch:
        batch.add_column(
            sa.Column("source_address", sa.String(64), nullable=False, server_default="")
        )
        batch.create_index("ix_activation_failures_source_address_at", ["source_address", "at"])


def downgrade() -> None:
    with op.batch_alter_table("activation_failures") as batch:
        batch.drop_index("ix_activation_failures_source_address_at")
        batch.drop_column("source_address")
