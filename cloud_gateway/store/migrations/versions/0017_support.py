"""Support: tickets, messages, attachments and repair orders.

Revision ID: 0017
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cloud_gateway.store.types import UtcDateTime

revision = "0017"
down_revision = "0015"
branch_labels = None
depends_on = None


def _account() -> sa.Column[int]:
    return sa.Column(
        "account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "support_tickets",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _account(),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_support_tickets_account_id", "support_tickets", ["account_id"])
    op.create_table(
        "support_messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "ticket_id",
            sa.Integer,
            sa.ForeignKey("support_tickets.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("author", sa.String(16), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_support_messages_ticket_id", "support_messages", ["ticket_id"])
    op.create_table(
        "support_attachments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "message_id",
            sa.Integer,
            sa.ForeignKey("support_messages.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_support_attachments_message_id", "support_attachments", ["message_id"])
    op.create_table(
        "repair_orders",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _account(),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("contact_name", sa.String(200), nullable=False),
        sa.Column("contact_email", sa.String(320), nullable=False),
        sa.Column("contact_phone", sa.String(64), nullable=False, server_default=""),
        sa.Column("device_model", sa.String(200), nullable=False, server_default=""),
        sa.Column("device_serial", sa.String(100), nullable=False),
        sa.Column("inverter_id", sa.Integer, nullable=True),
        sa.Column("monitoring", sa.Text, nullable=False, server_default=""),
        sa.Column("fault", sa.Text, nullable=False),
        sa.Column("settings", sa.Text, nullable=False, server_default=""),
        sa.Column("review_note", sa.Text, nullable=False, server_default=""),
        sa.Column("quote_net", sa.Integer, nullable=True),
        sa.Column("quote_text", sa.Text, nullable=False, server_default=""),
        sa.Column("proforma_id", sa.Integer, nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_repair_orders_account_id", "repair_orders", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_repair_orders_account_id", "repair_orders")
    op.drop_index("ix_support_attachments_message_id", "support_attachments")
    op.drop_index("ix_support_messages_ticket_id", "support_messages")
    op.drop_index("ix_support_tickets_account_id", "support_tickets")
    op.drop_table("repair_orders")
    op.drop_table("support_attachments")
    op.drop_table("support_messages")
    op.drop_table("support_tickets")
