"""The shop's stored carts, their items and the checkouts done.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cloud_gateway.store.types import UtcDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _account() -> sa.Column[int]:
    return sa.Column(
        "account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "shop_carts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _account(),
        sa.Column("voucher_code", sa.String(40), nullable=False, server_default=""),
        sa.Column("revision", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("account_id", name="uq_shop_carts_account_id"),
    )
    op.create_table(
        "shop_cart_items",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "cart_id",
            sa.Integer,
            sa.ForeignKey("shop_carts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("product_code", sa.String(64), nullable=False),
        sa.Column("plan_code", sa.String(32), nullable=False),
        sa.Column("booking", sa.String(16), nullable=False),
        sa.Column("added_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint(
            "cart_id", "product_code", "plan_code", "booking", name="uq_shop_cart_items_line"
        ),
    )
    op.create_table(
        "shop_checkouts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(96), nullable=False, unique=True),
        _account(),
        sa.Column("order_id", sa.Integer, nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("redirect_url", sa.String(2000), nullable=False, server_default=""),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_shop_checkouts_account_id", "shop_checkouts", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_shop_checkouts_account_id", "shop_checkouts")
    op.drop_table("shop_checkouts")
    op.drop_table("shop_cart_items")
    op.drop_table("shop_carts")
