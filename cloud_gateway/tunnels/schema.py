"""Tables of the tunnel area: device certificates, enrolments, guess counters.

Attached to the shared :data:`~cloud_gateway.store.schema.metadata`; migration ``0002``
creates them.
"""

from __future__ import annotations

import sqlalchemy as sa

from cloud_gateway.store.schema import metadata
from cloud_gateway.store.types import UtcDateTime

__all__ = [
    "device_certificates",
    "enrol_attempts",
    "enrolments",
]

device_certificates = sa.Table(
    "device_certificates",
    metadata,
    sa.Column("serial", sa.String(40), primary_key=True),
    sa.Column(
        "device_id", sa.Integer, sa.ForeignKey("devices.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("not_before", UtcDateTime(), nullable=False),
    sa.Column("not_after", UtcDateTime(), nullable=False),
    sa.Column("issued_at", UtcDateTime(), nullable=False),
    sa.Column("revoked_at", UtcDateTime(), nullable=True),
    sa.Column("revoke_reason", sa.String(200), nullable=False, server_default=""),
    sa.Index("ix_device_certificates_device_id", "device_id"),
)

enrolments = sa.Table(
    "enrolments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("poll_token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("code_hash", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("name", sa.String(100), nullable=False, server_default=""),
    sa.Column("csr_pem", sa.Text, nullable=False),
    sa.Column("source_address", sa.String(64), nullable=False, server_default=""),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("claimed_at", UtcDateTime(), nullable=True),
    sa.Column(
        "account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True
    ),
    sa.Column(
        "device_id", sa.Integer, sa.ForeignKey("devices.id", ondelete="CASCADE"), nullable=True
    ),
    sa.Column("certificate_pem", sa.Text, nullable=True),
    sa.Column("collected_at", UtcDateTime(), nullable=True),
    sa.Index("ix_enrolments_code_hash", "code_hash"),
)

enrol_attempts = sa.Table(
    "enrol_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("source_address", sa.String(64), nullable=False, server_default=""),
    sa.Column("account_id", sa.Integer, nullable=True),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Index("ix_enrol_attempts_kind", "kind", "at"),
)
