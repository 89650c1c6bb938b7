"""The ``notification_outbox`` table (migration ``0003``) and its attachments (``0006``, ``0020``):
e-mails written in the same transaction as their cause, sent by the worker afterwards.

Attached to the shared :data:`~cloud_gateway.store.schema.metadata`.
"""

from __future__ import annotations

import sqlalchemy as sa

from cloud_gateway.store.schema import metadata
from cloud_gateway.store.types import UtcDateTime

__all__ = [
    "notification_attachments",
    "notification_outbox",
]

notification_outbox = sa.Table(
    "notification_outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("channel", sa.String(16), nullable=False, server_default="email"),
    sa.Column("recipient", sa.String(254), nullable=False),
    sa.Column("template", sa.String(64), nullable=False),
    sa.Column("language", sa.String(2), nullable=False),
    sa.Column("subject", sa.String(300), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("dedup_key", sa.String(200), nullable=True, unique=True),
    sa.Column("state", sa.String(16), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
    sa.Column("claimed_until", UtcDateTime(), nullable=True),
    sa.Column("sent_at", UtcDateTime(), nullable=True),
    sa.Column("last_error", sa.Text, nullable=False, server_default=""),
    sa.Index("ix_notification_outbox_state_next_attempt_at", "state", "next_attempt_at"),
)

notification_attachments = sa.Table(
    "notification_attachments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "outbox_id",
        sa.Integer,
        sa.ForeignKey("notification_outbox.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("filename", sa.String(200), nullable=False),
    sa.Column("content_type", sa.String(100), nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    #: ``scheme:reference`` rendered when sent (``data`` empty), migration 0020
    sa.Column("source", sa.String(200), nullable=False, server_default=""),
    sa.UniqueConstraint("outbox_id", "position", name="uq_notification_attachments_outbox_id"),
)
