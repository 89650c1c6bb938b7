"""Portal: customers' bank data and closed accounts.

Revision ID: 0015
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cloud_gateway.store.types import UtcDateTime

revision = "0015"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bank_accounts",
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("holder", sa.String(140), nullable=False),
        sa.Column("iban", sa.String(34), nullable=False),
        sa.Column("bic", sa.String(11), nullable=False, server_default=""),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "account_closures",
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("accounts.id", ondelete="RESTRICT"),
            primary_key=True,
        ),
        sa.Column("closed_at", UtcDateTime(), nullable=False),
        sa.Column("keep_documents_until", sa.Date(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("account_closures")
    op.drop_table("bank_accounts")
