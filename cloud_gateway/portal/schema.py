"""Tables of the portal area (migration ``0015``).

- ``bank_accounts``: a customer's bank data for refunds (1:1 with ``accounts``; erased when
  the account is closed);
- ``account_closures``: when an account was closed and until when its invoices are kept
  (the account row stays, anonymised, because documents refer to it).
"""

from __future__ import annotations

import sqlalchemy as sa

from cloud_gateway.store.schema import metadata
from cloud_gateway.store.types import UtcDateTime

__all__ = ["account_closures", "bank_accounts"]

bank_accounts = sa.Table(
    "bank_accounts",
    metadata,
    sa.Column(
        "account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("holder", sa.String(140), nullable=False),
    sa.Column("iban", sa.String(34), nullable=False),
    sa.Column("bic", sa.String(11), nullable=False, server_default=""),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

account_closures = sa.Table(
    "account_closures",
    metadata,
    sa.Column(
        "account_id",
        sa.Integer,
        sa.ForeignKey("accounts.id", ondelete="RESTRICT"),
        primary_key=True,
    ),
    sa.Column("closed_at", UtcDateTime(), nullable=False),
    sa.Column("keep_documents_until", sa.Date, nullable=False),
)
