"""Tables of the entitlements area (migration ``0003``): ``entitlement_windows``
and ``entitlement_audit`` (the legacy ``orders`` table was dropped by migration ``0021``:
orders live in the money core).

Attached to the shared :data:`~cloud_gateway.store.schema.metadata`.
"""

from __future__ import annotations

import sqlalchemy as sa

from cloud_gateway.store.schema import metadata
from cloud_gateway.store.types import UtcDateTime, account_fk

__all__ = [
    "entitlement_audit",
    "entitlement_windows",
]

entitlement_windows = sa.Table(
    "entitlement_windows",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("subject", sa.String(16), nullable=False),
    sa.Column("subject_id", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("starts_at", UtcDateTime(), nullable=False),
    sa.Column("ends_at", UtcDateTime(), nullable=False),
    sa.Column("ended_at", UtcDateTime(), nullable=True),
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("booking", sa.String(16), nullable=True),
    sa.Column("product", sa.String(64), nullable=False, server_default=""),
    sa.Column("period_days", sa.Integer, nullable=True),
    sa.Column("licensed_power_w", sa.Integer, nullable=True),
    account_fk(nullable=True),
    sa.Column("idempotency_key", sa.String(120), nullable=True, unique=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Index("ix_entitlement_windows_subject_subject_id", "subject", "subject_id"),
    sa.Index("ix_entitlement_windows_ends_at", "ends_at"),
)

entitlement_audit = sa.Table(
    "entitlement_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime(), nullable=False),
    account_fk("actor_account_id", nullable=True),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("window_id", sa.Integer, nullable=False),
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
    sa.Index("ix_entitlement_audit_window_id", "window_id"),
)
