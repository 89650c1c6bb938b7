"""The money core's tables (SQLAlchemy Core, on the gateway's shared metadata).

Amounts are integer cents (``BigInteger``). Nothing here holds a balance: the payment account's
balance is ``SUM(billing_journal.amount)``. Finalised documents are inserted once and never
updated; their numbers come from ``billing_sequences`` (one counter row per range), moved in the
finalising transaction. Migration: ``store/migrations/versions/0007_billing.py``.
"""

from __future__ import annotations

import sqlalchemy as sa

from cloud_gateway.plants.schema import plants
from cloud_gateway.store.schema import metadata
from cloud_gateway.store.types import UtcDateTime

__all__ = [
    "billing_contracts",
    "billing_documents",
    "billing_idempotency",
    "billing_jobs",
    "billing_journal",
    "billing_orders",
    "billing_sequences",
    "billing_settlements",
    "billing_vouchers",
]


def _account() -> sa.Column[int]:
    return sa.Column(
        "account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="RESTRICT"), nullable=False
    )


billing_orders = sa.Table(
    "billing_orders",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    _account(),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("catalogue_version", sa.String(32), nullable=False),
    sa.Column("language", sa.String(2), nullable=False),
    #: delivery reservations still open, space-separated codes
    sa.Column("open_reservations", sa.String(200), nullable=False, server_default=""),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Index("ix_billing_orders_account_id", "account_id"),
)

billing_vouchers = sa.Table(
    "billing_vouchers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(40), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("value", sa.String(20), nullable=False),
    sa.Column("periods", sa.Integer, nullable=False),
    sa.Column("products", sa.String(400), nullable=False, server_default=""),
    sa.Column("valid_until", sa.Date, nullable=True),
    sa.Column("max_uses", sa.Integer, nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

billing_contracts = sa.Table(
    "billing_contracts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "order_id",
        sa.Integer,
        sa.ForeignKey("billing_orders.id", ondelete="RESTRICT"),
        nullable=False,
    ),
    sa.Column("line_no", sa.Integer, nullable=False),
    _account(),
    sa.Column("catalogue_version", sa.String(32), nullable=False),
    sa.Column("product_code", sa.String(64), nullable=False),
    sa.Column("plan_code", sa.String(32), nullable=False),
    sa.Column("booking", sa.String(16), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("start_day", sa.Date, nullable=True),
    sa.Column("paid_periods", sa.Integer, nullable=False, server_default="0"),
    sa.Column("ended_on", sa.Date, nullable=True),
    sa.Column("power_w", sa.Integer, nullable=True),
    sa.Column("language", sa.String(2), nullable=False),
    sa.Column("voucher_code", sa.String(40), nullable=True),
    #: the buyer as printed (JSON of a Party) and the VAT treatment fixed at booking
    sa.Column("buyer", sa.Text, nullable=False),
    sa.Column("vat_category", sa.String(4), nullable=False),
    sa.Column("vat_rate", sa.String(8), nullable=False),
    sa.Column("vat_note_de", sa.Text, nullable=False, server_default=""),
    sa.Column("vat_note_en", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    #: the plant a monitoring licence is for (``None`` for other families)
    sa.Column(
        "plant_id",
        sa.Integer,
        sa.ForeignKey(
            "plants.id", ondelete="SET NULL", name="fk_billing_contracts_plant_id_plants"
        ),
        nullable=True,
    ),
    sa.UniqueConstraint("order_id", "line_no", name="uq_billing_contracts_order_id_line_no"),
    sa.Index("ix_billing_contracts_state", "state"),
    sa.Index("ix_billing_contracts_voucher_code", "voucher_code"),
)

billing_sequences = sa.Table(
    "billing_sequences",
    metadata,
    sa.Column("range_key", sa.String(40), primary_key=True),
    #: the counter the next document of this range gets
    sa.Column("next", sa.BigInteger, nullable=False),
)

billing_documents = sa.Table(
    "billing_documents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("number", sa.String(32), nullable=False, unique=True),
    _account(),
    sa.Column(
        "contract_id",
        sa.Integer,
        sa.ForeignKey("billing_contracts.id", ondelete="RESTRICT"),
        nullable=True,
    ),
    sa.Column("period", sa.Integer, nullable=True),
    sa.Column("item_kind", sa.String(16), nullable=True),
    sa.Column(
        "preceding_id",
        sa.Integer,
        sa.ForeignKey("billing_documents.id", ondelete="RESTRICT"),
        nullable=True,
    ),
    sa.Column("issue_date", sa.Date, nullable=False),
    sa.Column("due_date", sa.Date, nullable=True),
    sa.Column("net", sa.BigInteger, nullable=False),
    sa.Column("tax", sa.BigInteger, nullable=False),
    sa.Column("gross", sa.BigInteger, nullable=False),
    sa.Column("due", sa.BigInteger, nullable=False),
    sa.Column("payment_reference", sa.String(40), nullable=True),
    #: canonical JSON of the DocumentView; ``sha256`` is over exactly these bytes
    sa.Column("canonical", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint(
        "contract_id", "period", "item_kind", name="uq_billing_documents_contract_id_period_item"
    ),
    sa.Index("ix_billing_documents_account_id", "account_id"),
    sa.Index("ix_billing_documents_issue_date", "issue_date"),
    sa.Index("ix_billing_documents_payment_reference", "payment_reference"),
)

billing_journal = sa.Table(
    "billing_journal",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    _account(),
    sa.Column("kind", sa.String(20), nullable=False),
    #: signed cents: payments and credits positive, charges and refunds negative
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("overdraft_limit", sa.BigInteger, nullable=True),
    #: what caused it (an idempotency key or a billing-run item key); makes every move unique
    sa.Column("source_key", sa.String(200), nullable=False, unique=True),
    sa.Column(
        "document_id",
        sa.Integer,
        sa.ForeignKey("billing_documents.id", ondelete="RESTRICT"),
        nullable=True,
    ),
    sa.Column("reference", sa.String(140), nullable=False, server_default=""),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Index("ix_billing_journal_account_id", "account_id"),
)

billing_settlements = sa.Table(
    "billing_settlements",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "document_id",
        sa.Integer,
        sa.ForeignKey("billing_documents.id", ondelete="RESTRICT"),
        nullable=False,
        unique=True,
    ),
    sa.Column(
        "journal_id",
        sa.Integer,
        sa.ForeignKey("billing_journal.id", ondelete="RESTRICT"),
        nullable=False,
    ),
    sa.Column("settled_at", UtcDateTime(), nullable=False),
)

billing_jobs = sa.Table(
    "billing_jobs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "contract_id",
        sa.Integer,
        sa.ForeignKey("billing_contracts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("due_at", UtcDateTime(), nullable=False),
    sa.Column("done_at", UtcDateTime(), nullable=True),
    sa.UniqueConstraint("contract_id", "due_at", name="uq_billing_jobs_contract_id_due_at"),
    sa.Index("ix_billing_jobs_due_at", "due_at"),
)

billing_idempotency = sa.Table(
    "billing_idempotency",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(200), nullable=False, unique=True),
    sa.Column("operation", sa.String(40), nullable=False),
    #: the first call's result (JSON), returned to every retry
    sa.Column("result", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)
