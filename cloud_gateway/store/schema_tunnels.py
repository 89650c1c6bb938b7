"""Tables of the tunnel area: device certificates, enrolments, guess counters, remote access.

Attached to the shared :data:`~cloud_gateway.store.schema.metadata`; migration ``0002``
creates them. ``remote_sessions`` doubles as the remote-access audit (R-DEV-11): rows are
never deleted, they record who reached which device, when, from where and how many bytes.
"""

from __future__ import annotations

import sqlalchemy as sa

from cloud_gateway.store.schema import metadata
from cloud_gateway.store.types import UtcDateTime

__all__ = [
    "device_certificates",
    "enrol_attempts",
    "enrolments",
    "remote_handovers",
    "remote_sessions",
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

remote_handovers = sa.Table(
    "remote_handovers",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column(
        "account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column(
        "device_id", sa.Integer, sa.ForeignKey("devices.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("used_at", UtcDateTime(), nullable=True),
)

remote_sessions = sa.Table(
    "remote_sessions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column(
        "account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True
    ),
    sa.Column(
        "device_id", sa.Integer, sa.ForeignKey("devices.id", ondelete="SET NULL"), nullable=True
    ),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("device_slug", sa.String(63), nullable=False),
    sa.Column("source_address", sa.String(64), nullable=False, server_default=""),
    sa.Column("started_at", UtcDateTime(), nullable=False),
    sa.Column("last_seen_at", UtcDateTime(), nullable=False),
    sa.Column("ended_at", UtcDateTime(), nullable=True),
    sa.Column("requests", sa.Integer, nullable=False, server_default="0"),
    sa.Column("bytes_to_device", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("bytes_from_device", sa.BigInteger, nullable=False, server_default="0"),
    sa.Index("ix_remote_sessions_device_id", "device_id"),
    sa.Index("ix_remote_sessions_account_id", "account_id"),
)
