"""Tickets assigned to a staff member (the console's queue: mine / unassigned).

Revision ID: 0022
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("support_tickets") as batch:
        batch.add_column(sa.Column("assignee_id", sa.Integer, nullable=True))
        batch.create_foreign_key(
            "fk_support_tickets_assignee_id_accounts",
            "accounts",
            ["assignee_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_support_tickets_assignee_id", ["assignee_id"])


def downgrade() -> None:
    with op.batch_alter_table("support_tickets") as batch:
        batch.drop_index("ix_support_tickets_assignee_id")
        batch.drop_constraint("fk_support_tickets_assignee_id_accounts", type_="foreignkey")
        batch.drop_column("assignee_id")
