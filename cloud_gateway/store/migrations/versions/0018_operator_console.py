"""Operator console: second factor, console audit; support grants of the remote area.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cloud_gateway.store.types import UtcDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def _account(name: str = "account_id", *, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(
        name,
        sa.Integer,
        sa.ForeignKey("accounts.id", ondelete="SET NULL" if nullable else "CASCADE"),
        nullable=nullable,
    )


def upgrade() -> None:
    op.create_table(
        "operator_totp",
        sa.Column(
            "account_id",
            sa.Integer,
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("confirmed_at", UtcDateTime(), nullable=True),
        sa.Column("last_step", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "operator_recovery_codes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _account(),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("used_at", UtcDateTime(), nullable=True),
    )
    op.create_index(
        "ix_operator_recovery_codes_account_id", "operator_recovery_codes", ["account_id"]
    )
    op.create_table(
        "operator_mfa_sessions",
        sa.Column(
            "token_hash",
            sa.String(64),
            sa.ForeignKey("portal_sessions.token_hash", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("verified_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "console_audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        _account("operator_account_id", nullable=True),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("action", sa.String(48), nullable=False),
        sa.Column("target", sa.String(128), nullable=False, server_default=""),
        sa.Column("reason", sa.String(500), nullable=False, server_default=""),
        sa.Column("detail", sa.String(500), nullable=False, server_default=""),
    )
    op.create_index("ix_console_audit_at", "console_audit", ["at"])
    op.create_table(
        "support_grants",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "device_id",
            sa.Integer,
            sa.ForeignKey("devices.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _account("owner_account_id"),
        sa.Column("granted_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_support_grants_device_id", "support_grants", ["device_id"])


def downgrade() -> None:
    op.drop_table("support_grants")
    op.drop_table("console_audit")
    op.drop_table("operator_mfa_sessions")
    op.drop_table("operator_recovery_codes")
    op.drop_table("operator_totp")
