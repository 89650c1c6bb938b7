"""Portal: customers' bank data, closed accounts, hubs' LAN targets (Netzwerkgeräte).

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cloud_gateway.store.types import UtcDateTime

revision = "0015"
down_revision = "0014"
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

    op.create_table(
        "lan_targets",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "device_id",
            sa.Integer(),
            sa.ForeignKey("devices.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("host", sa.String(253), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("device_id", "host", "port", name="uq_lan_targets_device_host_port"),
    )


def downgrade() -> None:
    op.drop_table("lan_targets")
    op.drop_table("account_closures")
    op.drop_table("bank_accounts")
