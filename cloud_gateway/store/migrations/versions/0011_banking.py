"""Bank transfers: imported camt.053 statements and every transaction with its outcome; the
rows in status ``unmatched`` are the back-office queue (issue #12, R-BIL-13).

Revision ID: 0011
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cloud_gateway.store.types import UtcDateTime

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bank_statements",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("iban", sa.String(length=34), nullable=False),
        sa.Column("statement_ref", sa.String(length=35), nullable=False),
        sa.Column("message_id", sa.String(length=35), nullable=False),
        sa.Column("version", sa.String(length=2), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=True),
        sa.Column("imported_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_bank_statements"),
        sa.UniqueConstraint("iban", "statement_ref", name="uq_bank_statements_iban_statement_ref"),
    )
    op.create_table(
        "bank_transactions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("statement_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("direction", sa.String(length=4), nullable=False),
        sa.Column("reversal", sa.Boolean(), nullable=False),
        sa.Column("booking_date", sa.Date(), nullable=True),
        sa.Column("name", sa.String(length=140), server_default="", nullable=False),
        sa.Column("iban", sa.String(length=34), server_default="", nullable=False),
        sa.Column("structured_reference", sa.String(length=35), server_default="", nullable=False),
        sa.Column("remittance", sa.Text(), server_default="", nullable=False),
        sa.Column("end_to_end_id", sa.String(length=35), server_default="", nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("resolved_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["bank_statements.id"],
            name="fk_bank_transactions_statement_id_bank_statements",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_bank_transactions_account_id_accounts",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["billing_documents.id"],
            name="fk_bank_transactions_document_id_billing_documents",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_bank_transactions"),
        sa.UniqueConstraint("key", name="uq_bank_transactions_key"),
    )
    op.create_index("ix_bank_transactions_status", "bank_transactions", ["status"])
    op.create_index("ix_bank_transactions_end_to_end_id", "bank_transactions", ["end_to_end_id"])


def downgrade() -> None:
    op.drop_index("ix_bank_transactions_end_to_end_id", table_name="bank_transactions")
    op.drop_index("ix_bank_transactions_status", table_name="bank_transactions")
    op.drop_table("bank_transactions")
    op.drop_table("bank_statements")
