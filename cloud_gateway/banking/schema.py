"""The bank-transfer area's tables (SQLAlchemy Core, on the gateway's shared metadata).

Every transaction of an imported statement is kept, with what became of it; ``key`` (unique)
makes a repeated or overlapping statement book nothing twice. The queue is the rows in status
``unmatched``. Amounts are positive integer cents; the money itself moves only in the billing
journal. Migration: ``store/migrations/versions/0011_banking.py``.
"""

from __future__ import annotations

import sqlalchemy as sa

from cloud_gateway.store.schema import metadata
from cloud_gateway.store.types import UtcDateTime

__all__ = ["bank_statements", "bank_transactions"]

bank_statements = sa.Table(
    "bank_statements",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("iban", sa.String(34), nullable=False),
    #: ``Stmt/Id`` and ``GrpHdr/MsgId`` as the bank wrote them
    sa.Column("statement_ref", sa.String(35), nullable=False),
    sa.Column("message_id", sa.String(35), nullable=False),
    sa.Column("version", sa.String(2), nullable=False),
    sa.Column("file_name", sa.String(200), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=True),
    sa.Column("imported_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("iban", "statement_ref", name="uq_bank_statements_iban_statement_ref"),
)

bank_transactions = sa.Table(
    "bank_transactions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "statement_id",
        sa.Integer,
        sa.ForeignKey("bank_statements.id", ondelete="RESTRICT"),
        nullable=False,
    ),
    #: IBAN / entry reference / transaction reference (see banking.camt)
    sa.Column("key", sa.String(200), nullable=False, unique=True),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("direction", sa.String(4), nullable=False),
    sa.Column("reversal", sa.Boolean, nullable=False),
    sa.Column("booking_date", sa.Date, nullable=True),
    sa.Column("name", sa.String(140), nullable=False, server_default=""),
    sa.Column("iban", sa.String(34), nullable=False, server_default=""),
    sa.Column("structured_reference", sa.String(35), nullable=False, server_default=""),
    sa.Column("remittance", sa.Text, nullable=False, server_default=""),
    sa.Column("end_to_end_id", sa.String(35), nullable=False, server_default=""),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column(
        "account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="RESTRICT"), nullable=True
    ),
    sa.Column(
        "document_id",
        sa.Integer,
        sa.ForeignKey("billing_documents.id", ondelete="RESTRICT"),
        nullable=True,
    ),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("resolved_at", UtcDateTime(), nullable=True),
    sa.Index("ix_bank_transactions_status", "status"),
    sa.Index("ix_bank_transactions_end_to_end_id", "end_to_end_id"),
)
