"""The payments area's tables (migration ``store/migrations/versions/0010_payments.py``).

``payments`` holds each attempt, unique by the checkout's idempotency key and by the
provider's id; ``payment_events`` every provider event id seen, so a redelivered event is
recognised (its booking is idempotent anyway, by the provider's capture or sale id).
"""

from __future__ import annotations

import sqlalchemy as sa

from cloud_gateway.store.schema import metadata
from cloud_gateway.store.types import UtcDateTime

__all__ = ["payment_events", "payments"]

payments = sa.Table(
    "payments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(200), nullable=False, unique=True),
    sa.Column(
        "account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="RESTRICT"), nullable=False
    ),
    sa.Column(
        "order_id",
        sa.Integer,
        sa.ForeignKey("billing_orders.id", ondelete="RESTRICT"),
        nullable=False,
    ),
    sa.Column("provider", sa.String(24), nullable=False),
    sa.Column("provider_id", sa.String(64), nullable=True),
    sa.Column("state", sa.String(16), nullable=False),
    #: integer cents
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("return_url", sa.String(500), nullable=False),
    sa.Column("cancel_url", sa.String(500), nullable=False),
    sa.Column("redirect_url", sa.String(500), nullable=True),
    sa.Column("message", sa.String(200), nullable=False, server_default=""),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("provider", "provider_id", name="uq_payments_provider_provider_id"),
    sa.Index("ix_payments_order_id", "order_id"),
)

payment_events = sa.Table(
    "payment_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("provider", sa.String(24), nullable=False),
    sa.Column("event_id", sa.String(80), nullable=False),
    sa.Column("event_type", sa.String(60), nullable=False),
    sa.Column("received_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("provider", "event_id", name="uq_payment_events_provider_event_id"),
)
