"""Tables of the accounts and entitlements areas (migration ``0003`` creates them).

Attached to the shared :data:`~cloud_gateway.store.schema.metadata`:

- account security: ``account_security`` (1:1 with ``accounts``: e-mail validation, password
  age), ``password_history``, ``login_failures`` (lockout), ``account_tokens`` (validation and
  reset links; only hashes are stored);
- terms: ``legal_documents`` (published versions), ``legal_acceptances`` (who accepted which);
- ``customer_data`` (address, business data, VAT ID check and its proof);
- ``delegations``: an owner lets an installer monitor one plant (or all, ``plant_id`` NULL),
  or open one device remotely (``device_id``, migration 0005);
- entitlements: ``entitlement_windows``, ``entitlement_audit``, ``orders`` (the minimal
  next-period order of a subscription);
- ``notification_outbox``: e-mails written in the same transaction as their cause.
"""

from __future__ import annotations

import sqlalchemy as sa

from cloud_gateway.store.schema import metadata
from cloud_gateway.store.types import UtcDateTime

__all__ = [
    "account_security",
    "account_tokens",
    "customer_data",
    "delegations",
    "entitlement_audit",
    "entitlement_windows",
    "legal_acceptances",
    "legal_documents",
    "login_failures",
    "notification_outbox",
    "orders",
    "password_history",
]


def _account_fk(name: str = "account_id", *, nullable: bool = False) -> sa.Column[int]:
    ondelete = "SET NULL" if nullable else "CASCADE"
    return sa.Column(
        name, sa.Integer, sa.ForeignKey("accounts.id", ondelete=ondelete), nullable=nullable
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
    _account_fk(),
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
    _account_fk(),
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

customer_data = sa.Table(
    "customer_data",
    metadata,
    sa.Column(
        "account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("customer_kind", sa.String(16), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("name_corrected", sa.String(200), nullable=False, server_default=""),
    sa.Column("street", sa.String(200), nullable=False),
    sa.Column("street_corrected", sa.String(200), nullable=False, server_default=""),
    sa.Column("postcode", sa.String(16), nullable=False),
    sa.Column("city", sa.String(100), nullable=False),
    sa.Column("city_corrected", sa.String(100), nullable=False, server_default=""),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("vat_id", sa.String(20), nullable=False, server_default=""),
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
    _account_fk("owner_account_id"),
    _account_fk("installer_account_id"),
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
    _account_fk(nullable=True),
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
    _account_fk("actor_account_id", nullable=True),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("window_id", sa.Integer, nullable=False),
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
    sa.Index("ix_entitlement_audit_window_id", "window_id"),
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    _account_fk(),
    sa.Column("product", sa.String(64), nullable=False, server_default=""),
    sa.Column("booking", sa.String(16), nullable=False),
    sa.Column("period_days", sa.Integer, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("previous_window_id", sa.Integer, nullable=True),
    sa.Column("idempotency_key", sa.String(120), nullable=True, unique=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Index("ix_orders_account_id", "account_id"),
)

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
