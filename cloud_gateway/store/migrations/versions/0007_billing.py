"""The money core: orders, contracts, vouchers, documents with gap-free sequences, the payment
journal, pro-forma settlements, the billing job queue and idempotency keys (issue #22).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cloud_gateway.store.types import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "billing_idempotency",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("operation", sa.String(length=40), nullable=False),
        sa.Column("result", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_billing_idempotency"),
        sa.UniqueConstraint("key", name="uq_billing_idempotency_key"),
    )
    op.create_table(
        "billing_sequences",
        sa.Column("range_key", sa.String(length=40), nullable=False),
        sa.Column("next", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("range_key", name="pk_billing_sequences"),
    )
    op.create_table(
        "billing_vouchers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=20), nullable=False),
        sa.Column("periods", sa.Integer(), nullable=False),
        sa.Column("products", sa.String(length=400), server_default="", nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_billing_vouchers"),
        sa.UniqueConstraint("code", name="uq_billing_vouchers_code"),
    )
    op.create_table(
        "billing_orders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("catalogue_version", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("open_reservations", sa.String(length=200), server_default="", nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_billing_orders_account_id_accounts",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_billing_orders"),
    )
    op.create_index("ix_billing_orders_account_id", "billing_orders", ["account_id"])
    op.create_table(
        "billing_contracts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("catalogue_version", sa.String(length=32), nullable=False),
        sa.Column("product_code", sa.String(length=64), nullable=False),
        sa.Column("plan_code", sa.String(length=32), nullable=False),
        sa.Column("booking", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("start_day", sa.Date(), nullable=True),
        sa.Column("paid_periods", sa.Integer(), server_default="0", nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("power_w", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("voucher_code", sa.String(length=40), nullable=True),
        sa.Column("buyer", sa.Text(), nullable=False),
        sa.Column("vat_category", sa.String(length=4), nullable=False),
        sa.Column("vat_rate", sa.String(length=8), nullable=False),
        sa.Column("vat_note_de", sa.Text(), server_default="", nullable=False),
        sa.Column("vat_note_en", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_billing_contracts_account_id_accounts",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["billing_orders.id"],
            name="fk_billing_contracts_order_id_billing_orders",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_billing_contracts"),
        sa.UniqueConstraint("order_id", "line_no", name="uq_billing_contracts_order_id_line_no"),
    )
    op.create_index("ix_billing_contracts_state", "billing_contracts", ["state"])
    op.create_index("ix_billing_contracts_voucher_code", "billing_contracts", ["voucher_code"])
    op.create_table(
        "billing_documents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=True),
        sa.Column("period", sa.Integer(), nullable=True),
        sa.Column("item_kind", sa.String(length=16), nullable=True),
        sa.Column("preceding_id", sa.Integer(), nullable=True),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("net", sa.BigInteger(), nullable=False),
        sa.Column("tax", sa.BigInteger(), nullable=False),
        sa.Column("gross", sa.BigInteger(), nullable=False),
        sa.Column("due", sa.BigInteger(), nullable=False),
        sa.Column("payment_reference", sa.String(length=40), nullable=True),
        sa.Column("canonical", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_billing_documents_account_id_accounts",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["billing_contracts.id"],
            name="fk_billing_documents_contract_id_billing_contracts",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["preceding_id"],
            ["billing_documents.id"],
            name="fk_billing_documents_preceding_id_billing_documents",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_billing_documents"),
        sa.UniqueConstraint(
            "contract_id",
            "period",
            "item_kind",
            name="uq_billing_documents_contract_id_period_item",
        ),
        sa.UniqueConstraint("number", name="uq_billing_documents_number"),
    )
    op.create_index("ix_billing_documents_account_id", "billing_documents", ["account_id"])
    op.create_index("ix_billing_documents_issue_date", "billing_documents", ["issue_date"])
    op.create_index(
        "ix_billing_documents_payment_reference", "billing_documents", ["payment_reference"]
    )
    op.create_table(
        "billing_jobs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=False),
        sa.Column("done_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["billing_contracts.id"],
            name="fk_billing_jobs_contract_id_billing_contracts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_billing_jobs"),
        sa.UniqueConstraint("contract_id", "due_at", name="uq_billing_jobs_contract_id_due_at"),
    )
    op.create_index("ix_billing_jobs_due_at", "billing_jobs", ["due_at"])
    op.create_table(
        "billing_journal",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("overdraft_limit", sa.BigInteger(), nullable=True),
        sa.Column("source_key", sa.String(length=200), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("reference", sa.String(length=140), server_default="", nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_billing_journal_account_id_accounts",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["billing_documents.id"],
            name="fk_billing_journal_document_id_billing_documents",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_billing_journal"),
        sa.UniqueConstraint("source_key", name="uq_billing_journal_source_key"),
    )
    op.create_index("ix_billing_journal_account_id", "billing_journal", ["account_id"])
    op.create_table(
        "billing_settlements",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("journal_id", sa.Integer(), nullable=False),
        sa.Column("settled_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["billing_documents.id"],
            name="fk_billing_settlements_document_id_billing_documents",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["journal_id"],
            ["billing_journal.id"],
            name="fk_billing_settlements_journal_id_billing_journal",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_billing_settlements"),
        sa.UniqueConstraint("document_id", name="uq_billing_settlements_document_id"),
    )
    _forbid_changes("billing_documents", "finalised documents never change (ADR 0015)")
    _forbid_changes("billing_journal", "the payment journal is append-only")


def _forbid_changes(table: str, reason: str) -> None:
    """A trigger refusing UPDATE and DELETE on ``table`` (both backends)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION {table}_immutable() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{reason}'; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_immutable()"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{reason}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("billing_documents", "billing_journal"):
            op.execute(f"DROP TRIGGER {table}_immutable ON {table}")
            op.execute(f"DROP FUNCTION {table}_immutable()")
    op.drop_table("billing_settlements")
    op.drop_table("billing_journal")
    op.drop_table("billing_jobs")
    op.drop_table("billing_documents")
    op.drop_table("billing_contracts")
    op.drop_table("billing_orders")
    op.drop_table("billing_vouchers")
    op.drop_table("billing_sequences")
    op.drop_table("billing_idempotency")
