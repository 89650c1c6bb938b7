"""The support area's tables: tickets, their messages and attachments, repair orders.

Attachments are stored in the database (``data``), checked by content before. A repair order
keeps its quote (net cents, text) and the pro-forma the acceptance issued. Migration:
``store/migrations/versions/0017_support.py``; a ticket's assignee ``0022_ticket_assignment.py``.
"""

from __future__ import annotations

import sqlalchemy as sa

from cloud_gateway.store.schema import metadata
from cloud_gateway.store.types import UtcDateTime, account_fk

__all__ = ["repair_orders", "support_attachments", "support_messages", "support_tickets"]

support_tickets = sa.Table(
    "support_tickets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    account_fk(),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    #: the staff member working on it (migration 0022); None: unassigned
    account_fk("assignee_id", nullable=True),
    sa.Index("ix_support_tickets_account_id", "account_id"),
    sa.Index("ix_support_tickets_assignee_id", "assignee_id"),
)

support_messages = sa.Table(
    "support_messages",
    metadata,
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
    sa.Index("ix_support_messages_ticket_id", "ticket_id"),
)

support_attachments = sa.Table(
    "support_attachments",
    metadata,
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
    sa.Index("ix_support_attachments_message_id", "message_id"),
)

repair_orders = sa.Table(
    "repair_orders",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    account_fk(),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("category", sa.String(32), nullable=False),
    sa.Column("contact_name", sa.String(200), nullable=False),
    sa.Column("contact_email", sa.String(320), nullable=False),
    sa.Column("contact_phone", sa.String(64), nullable=False, server_default=""),
    sa.Column("device_model", sa.String(200), nullable=False, server_default=""),
    sa.Column("device_serial", sa.String(100), nullable=False),
    #: the inverter from the plant list (none for a device not registered here)
    sa.Column("inverter_id", sa.Integer, nullable=True),
    sa.Column("monitoring", sa.Text, nullable=False, server_default=""),
    sa.Column("fault", sa.Text, nullable=False),
    sa.Column("settings", sa.Text, nullable=False, server_default=""),
    sa.Column("review_note", sa.Text, nullable=False, server_default=""),
    #: the quoted net amount in cents (VAT at the standard rate on top)
    sa.Column("quote_net", sa.Integer, nullable=True),
    sa.Column("quote_text", sa.Text, nullable=False, server_default=""),
    #: the pro-forma the acceptance issued (billing_documents.id)
    sa.Column("proforma_id", sa.Integer, nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Index("ix_repair_orders_account_id", "account_id"),
)
