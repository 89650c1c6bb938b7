"""Tunnels: device certificates, pairing codes, revocation, audit.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cloud_gateway.store.types import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "device_certificates",
        sa.Column("serial", sa.String(40), nullable=False),
        sa.Column("device_id", sa.Integer, nullable=False),
        sa.Column("not_before", UtcDateTime(), nullable=False),
        sa.Column("not_after", UtcDateTime(), nullable=False),
        sa.Column("issued_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.Column("revoke_reason", sa.String(200), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("serial", name="pk_device_certificates"),
        _fk("device_certificates", "device_id", "devices", "CASCADE"),
    )
    op.create_index("ix_device_certificates_device_id", "device_certificates", ["device_id"])
    op.create_table(
        "enrolments",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("poll_token_hash", sa.String(64), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(100), nullable=False, server_default=""),
        sa.Column("csr_pem", sa.Text, nullable=False),
        sa.Column("source_address", sa.String(64), nullable=False, server_default=""),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("claimed_at", UtcDateTime(), nullable=True),
        sa.Column("account_id", sa.Integer, nullable=True),
        sa.Column("device_id", sa.Integer, nullable=True),
        sa.Column("certificate_pem", sa.Text, nullable=True),
        sa.Column("collected_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_enrolments"),
        sa.UniqueConstraint("poll_token_hash", name="uq_enrolments_poll_token_hash"),
        _fk("enrolments", "account_id", "accounts", "SET NULL"),
        _fk("enrolments", "device_id", "devices", "CASCADE"),
    )
    op.create_index("ix_enrolments_code_hash", "enrolments", ["code_hash"])
    op.create_table(
        "enrol_attempts",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source_address", sa.String(64), nullable=False, server_default=""),
        sa.Column("account_id", sa.Integer, nullable=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_enrol_attempts"),
    )
    op.create_index("ix_enrol_attempts_kind", "enrol_attempts", ["kind", "at"])
    op.create_table(
        "remote_handovers",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("device_id", sa.Integer, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("used_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name="pk_remote_handovers"),
        _fk("remote_handovers", "account_id", "accounts", "CASCADE"),
        _fk("remote_handovers", "device_id", "devices", "CASCADE"),
    )
    op.create_table(
        "remote_sessions",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("account_id", sa.Integer, nullable=True),
        sa.Column("device_id", sa.Integer, nullable=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("device_slug", sa.String(63), nullable=False),
        sa.Column("source_address", sa.String(64), nullable=False, server_default=""),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("last_seen_at", UtcDateTime(), nullable=False),
        sa.Column("ended_at", UtcDateTime(), nullable=True),
        sa.Column("requests", sa.Integer, nullable=False, server_default="0"),
        sa.Column("bytes_to_device", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("bytes_from_device", sa.BigInteger, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", name="pk_remote_sessions"),
        sa.UniqueConstraint("token_hash", name="uq_remote_sessions_token_hash"),
        _fk("remote_sessions", "account_id", "accounts", "SET NULL"),
        _fk("remote_sessions", "device_id", "devices", "SET NULL"),
    )
    op.create_index("ix_remote_sessions_device_id", "remote_sessions", ["device_id"])
    op.create_index("ix_remote_sessions_account_id", "remote_sessions", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_remote_sessions_account_id", "remote_sessions")
    op.drop_index("ix_remote_sessions_device_id", "remote_sessions")
    op.drop_table("remote_sessions")
    op.drop_table("remote_handovers")
    op.drop_index("ix_enrol_attempts_kind", "enrol_attempts")
    op.drop_table("enrol_attempts")
    op.drop_index("ix_enrolments_code_hash", "enrolments")
    op.drop_table("enrolments")
    op.drop_index("ix_device_certificates_device_id", "device_certificates")
    op.drop_table("device_certificates")
