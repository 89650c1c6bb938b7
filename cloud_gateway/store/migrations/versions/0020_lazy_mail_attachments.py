"""Mail attachments rendered when sent: ``notification_attachments.source``.

An invoice PDF attached to the "Zahlung erhalten" mail is stored as ``billing-document:ID``
and rendered by the mail worker, so the payment's transaction does not wait for it (#12).

Revision ID: 0020
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "notification_attachments",
        sa.Column("source", sa.String(200), nullable=False, server_default=""),
    )


def downgrade() -> None:
    with op.batch_alter_table("notification_attachments") as batch:
        batch.drop_column("source")
