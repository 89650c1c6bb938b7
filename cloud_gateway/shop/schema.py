"""The shop's tables: one stored cart per account, its items, and the checkouts done.

A cart row lives as long as its account; ``revision`` grows with every change (and when a
checkout empties the cart), so the checkout key made from it is new for every cart content.
``shop_checkouts`` remembers which order (and which payment redirect) a checkout key gave,
so a repeated "Jetzt kaufen" leads to the same order. Migration:
``store/migrations/versions/0012_shop_carts.py``.
"""

from __future__ import annotations

import sqlalchemy as sa

from cloud_gateway.store.schema import metadata
from cloud_gateway.store.types import UtcDateTime, account_fk

__all__ = ["shop_cart_items", "shop_carts", "shop_checkouts"]

shop_carts = sa.Table(
    "shop_carts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    account_fk(),
    #: the voucher code entered with "Gutschein einlösen" ('' for none)
    sa.Column("voucher_code", sa.String(40), nullable=False, server_default=""),
    sa.Column("revision", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("account_id", name="uq_shop_carts_account_id"),
)

shop_cart_items = sa.Table(
    "shop_cart_items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "cart_id", sa.Integer, sa.ForeignKey("shop_carts.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("product_code", sa.String(64), nullable=False),
    sa.Column("plan_code", sa.String(32), nullable=False),
    sa.Column("booking", sa.String(16), nullable=False),
    sa.Column("added_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint(
        "cart_id", "product_code", "plan_code", "booking", name="uq_shop_cart_items_line"
    ),
)

shop_checkouts = sa.Table(
    "shop_checkouts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    #: the checkout's idempotency key (account, cart revision and content)
    sa.Column("key", sa.String(96), nullable=False, unique=True),
    account_fk(),
    sa.Column("order_id", sa.Integer, nullable=False),
    sa.Column("method", sa.String(16), nullable=False),
    #: the provider page the buyer was sent to ('' for none: the order page)
    sa.Column("redirect_url", sa.String(2000), nullable=False, server_default=""),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Index("ix_shop_checkouts_account_id", "account_id"),
)
