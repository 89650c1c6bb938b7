"""Tables of the operator console (migration ``0018``).

Attached to the shared :data:`~cloud_gateway.store.schema.metadata`:

- ``operator_totp``: the TOTP secret of a staff account (operator or accountant), when it
  was confirmed, and the last time step used (a code works once);
- ``operator_recovery_codes``: single-use recovery codes, only their SHA-256 hashes;
- ``operator_mfa_sessions``: portal sessions whose second factor was verified (ends with
  the session);
- ``console_audit``: every state-changing console action: who, what, on which object, why,
  when. Rows are never changed or deleted.
"""

from __future__ import annotations

import sqlalchemy as sa

from cloud_gateway.store.schema import metadata
from cloud_gateway.store.types import UtcDateTime, account_fk

__all__ = [
    "console_audit",
    "operator_mfa_sessions",
    "operator_recovery_codes",
    "operator_totp",
]

operator_totp = sa.Table(
    "operator_totp",
    metadata,
    sa.Column(
        "account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("secret", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("confirmed_at", UtcDateTime(), nullable=True),
    sa.Column("last_step", sa.BigInteger, nullable=False, server_default="0"),
)

operator_recovery_codes = sa.Table(
    "operator_recovery_codes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    account_fk(),
    sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("used_at", UtcDateTime(), nullable=True),
    sa.Index("ix_operator_recovery_codes_account_id", "account_id"),
)

operator_mfa_sessions = sa.Table(
    "operator_mfa_sessions",
    metadata,
    sa.Column(
        "token_hash",
        sa.String(64),
        sa.ForeignKey("portal_sessions.token_hash", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("verified_at", UtcDateTime(), nullable=False),
)

console_audit = sa.Table(
    "console_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime(), nullable=False),
    account_fk("operator_account_id", nullable=True),
    sa.Column("operator", sa.String(64), nullable=False),
    sa.Column("action", sa.String(48), nullable=False),
    sa.Column("target", sa.String(128), nullable=False, server_default=""),
    sa.Column("reason", sa.String(500), nullable=False, server_default=""),
    sa.Column("detail", sa.String(500), nullable=False, server_default=""),
    sa.Index("ix_console_audit_at", "at"),
)
