"""Tables of the accounts area (migrations ``0001``, ``0003`` and ``0005`` create them).

Attached to the shared :data:`~cloud_gateway.store.schema.metadata`:

- ``accounts`` and ``portal_sessions`` (logged-in browsers, only token hashes are stored);
- account security: ``account_security`` (1:1 with ``accounts``: e-mail validation, password
  age), ``password_history``, ``login_failures`` (lockout), ``account_tokens`` (validation and
  reset links; only hashes are stored);
- terms: ``legal_documents`` (published versions), ``legal_acceptances`` (who accepted which);
- ``customer_data`` (address, business data, VAT ID check and its proof);
- ``delegations``: an owner lets an installer monitor one plant (or all, ``plant_id`` NULL),
  or open one device remotely (``device_id``, migration 0005).
"""

from __future__ import annotations

import sqlalchemy as sa

from cloud_gateway.accounts.customer_fields import CUSTOMER_FIELDS
from cloud_gateway.store.schema import metadata
from cloud_gateway.store.types import UtcDateTime, account_fk

__all__ = [
    "account_security",
    "account_tokens",
    "accounts",
    "customer_data",
    "delegations",
    "legal_acceptances",
    "legal_documents",
    "login_failures",
    "password_history",
    "portal_sessions",
]

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("email", sa.String(254), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False, server_default="customer"),
    sa.Column("language", sa.String(2), nullable=False, server_default="de"),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

portal_sessions = sa.Table(
    "portal_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column(
        "account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("last_seen_at", UtcDateTime(), nullable=False),
    sa.Column("source_address", sa.String(64), nullable=False, server_default=""),
    sa.Index("ix_portal_sessions_account_id", "account_id"),
)

account_security = sa.Table(
    "account_security",
    metadata,
    sa.Column(
        "account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("email_verified_at", UtcDateTime(), nullable=True),
    sa.Column("password_changed_at", UtcDateTime(), nullable=False),
    sa.Column("must_change_password", sa.Boolean, nullable=False, server_default=sa.false()),
)

password_history = sa.Table(
    "password_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    account_fk(),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Index("ix_password_history_account_id", "account_id"),
)

login_failures = sa.Table(
    "login_failures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("subject", sa.String(320), nullable=False),
    sa.Column("failed_at", UtcDateTime(), nullable=False),
    sa.Index("ix_login_failures_subject_failed_at", "subject", "failed_at"),
)

account_tokens = sa.Table(
    "account_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    account_fk(),
    sa.Column("purpose", sa.String(24), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("used_at", UtcDateTime(), nullable=True),
    sa.Index("ix_account_tokens_account_id", "account_id"),
)

legal_documents = sa.Table(
    "legal_documents",
    metadata,
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("version", sa.String(32), primary_key=True),
    sa.Column("published_at", UtcDateTime(), nullable=False),
)

legal_acceptances = sa.Table(
    "legal_acceptances",
    metadata,
    sa.Column(
        "account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("version", sa.String(32), primary_key=True),
    sa.Column("accepted_at", UtcDateTime(), nullable=False),
)


def _customer_columns() -> list[sa.Column[str]]:
    """The text columns of the customer data, from their one spec (``customer_fields``)."""
    columns: list[sa.Column[str]] = []
    for f in CUSTOMER_FIELDS:
        default = None if f.required else ""
        columns.append(
            sa.Column(f.name, sa.String(f.max_length), nullable=False, server_default=default)
        )
        if f.correctable:
            columns.append(
                sa.Column(
                    f"{f.name}_corrected",
                    sa.String(f.max_length),
                    nullable=False,
                    server_default="",
                )
            )
    return columns


customer_data = sa.Table(
    "customer_data",
    metadata,
    sa.Column(
        "account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("customer_kind", sa.String(16), nullable=False),
    *_customer_columns(),
    sa.Column("vat_state", sa.String(16), nullable=False, server_default="none"),
    sa.Column("vat_checked_at", UtcDateTime(), nullable=True),
    sa.Column("vat_next_check_at", UtcDateTime(), nullable=True),
    sa.Column("vat_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("vat_proof", sa.Text, nullable=False, server_default=""),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Index("ix_customer_data_vat_next_check_at", "vat_next_check_at"),
)

delegations = sa.Table(
    "delegations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    account_fk("owner_account_id"),
    account_fk("installer_account_id"),
    # plants arrive in migration 0004, after this one: no foreign key, checked by the service
    sa.Column("plant_id", sa.Integer, nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("revoked_at", UtcDateTime(), nullable=True),
    sa.Column(
        "device_id", sa.Integer, sa.ForeignKey("devices.id", ondelete="CASCADE"), nullable=True
    ),
    sa.Index("ix_delegations_installer_account_id", "installer_account_id"),
    sa.Index("ix_delegations_owner_account_id", "owner_account_id"),
)
