"""Prepaid service contracts: the wished start of an order, service numbers and sites, refunds.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cloud_gateway.store.types import UtcDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("billing_orders") as batch:
        batch.add_column(sa.Column("wished_start", sa.Date(), nullable=True))
    op.create_table(
        "service_contracts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("contract_id", sa.Integer, nullable=False),
        sa.Column("service_number", sa.String(32), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("latitude", sa.String(16), nullable=False),
        sa.Column("longitude", sa.String(16), nullable=False),
        sa.Column("plant_id", sa.Integer, nullable=True),
        sa.Column("precheck_reference", sa.String(64), nullable=False, server_default=""),
        sa.Column("order_key", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["billing_contracts.id"],
            name="fk_service_contracts_contract_id_billing_contracts",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["plant_id"],
            ["plants.id"],
            name="fk_service_contracts_plant_id_plants",
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("contract_id", name="uq_service_contracts_contract_id"),
        sa.UniqueConstraint("service_number", name="uq_service_contracts_service_number"),
        sa.UniqueConstraint("order_key", name="uq_service_contracts_order_key"),
    )
    op.create_table(
        "service_refunds",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("idempotency_key", sa.String(100), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("iban", sa.String(34), nullable=False),
        sa.Column("holder", sa.String(70), nullable=False),
        sa.Column("pain001", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_service_refunds_account_id_accounts",
            ondelete="RESTRICT",
        ),
        sa.UniqueConstraint("idempotency_key", name="uq_service_refunds_idempotency_key"),
    )


def downgrade() -> None:
    op.drop_table("service_refunds")
    op.drop_table("service_contracts")
    with op.batch_alter_table("billing_orders") as batch:
        batch.drop_column("wished_start")
