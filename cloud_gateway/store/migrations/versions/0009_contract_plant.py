"""Billing contracts name the plant a monitoring licence is for.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("billing_contracts") as batch:
        batch.add_column(sa.Column("plant_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_billing_contracts_plant_id_plants",
            "plants",
            ["plant_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("billing_contracts") as batch:
        batch.drop_constraint("fk_billing_contracts_plant_id_plants", type_="foreignkey")
        batch.drop_column("plant_id")
