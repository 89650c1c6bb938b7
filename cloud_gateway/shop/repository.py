"""The stored carts and checkouts (``shop.schema``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from cloud_gateway.billing.catalogue import BookingType, PaymentMedium
from cloud_gateway.shop.cart import Cart, CartItem
from cloud_gateway.shop.schema import shop_cart_items, shop_carts, shop_checkouts
from cloud_gateway.store.repository import Repository
from cloud_gateway.store.upsert import insert_ignore

__all__ = ["CartRepository", "Checkout"]

_CART, _ITEM, _OUT = shop_carts, shop_cart_items, shop_checkouts


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkout:
    """A checkout done: which order its key placed, where the buyer was sent."""

    key: str
    account_id: int
    order_id: int
    method: PaymentMedium
    redirect_url: str


def _checkout(m: sa.RowMapping) -> Checkout:
    return Checkout(
        key=m["key"],
        account_id=m["account_id"],
        order_id=m["order_id"],
        method=PaymentMedium(m["method"]),
        redirect_url=m["redirect_url"],
    )


class CartRepository(Repository):
    """One cart per account; items; the checkouts done."""

    async def _cart_id(self, conn: AsyncConnection, account_id: int, now: datetime) -> int:
        values = {"account_id": account_id, "voucher_code": "", "revision": 0, "updated_at": now}
        await insert_ignore(conn, _CART, values, ["account_id"])
        stmt = sa.select(_CART.c.id).where(_CART.c.account_id == account_id)
        return int((await conn.execute(stmt)).scalar_one())

    @staticmethod
    async def _bump(conn: AsyncConnection, cart_id: int, now: datetime, **values: str) -> None:
        await conn.execute(
            _CART.update()
            .where(_CART.c.id == cart_id)
            .values(revision=_CART.c.revision + 1, updated_at=now, **values)
        )

    async def cart(self, account_id: int) -> Cart:
        """The account's cart (empty, revision 0, when it never had one)."""
        async with self._db.connect() as conn:
            head = (
                await conn.execute(sa.select(_CART).where(_CART.c.account_id == account_id))
            ).first()
            if head is None:
                return Cart(account_id=account_id, revision=0, voucher_code="", items=())
            rows = await conn.execute(
                sa.select(_ITEM).where(_ITEM.c.cart_id == head.id).order_by(_ITEM.c.id)
            )
            items = tuple(
                CartItem(
                    id=r.id,
                    product=r.product_code,
                    plan=r.plan_code,
                    booking=BookingType(r.booking),
                )
                for r in rows
            )
        return Cart(
            account_id=account_id,
            revision=head.revision,
            voucher_code=head.voucher_code,
            items=items,
        )

    async def add(
        self, account_id: int, product: str, plan: str, booking: BookingType, now: datetime
    ) -> None:
        """Put a line into the cart (the same line twice stays one line)."""
        async with self._db.begin() as conn:
            cart_id = await self._cart_id(conn, account_id, now)
            values = {
                "cart_id": cart_id,
                "product_code": product,
                "plan_code": plan,
                "booking": booking.value,
                "added_at": now,
            }
            keys = ["cart_id", "product_code", "plan_code", "booking"]
            if await insert_ignore(conn, _ITEM, values, keys) is not None:
                await self._bump(conn, cart_id, now)

    async def remove(self, account_id: int, item_ids: Iterable[int], now: datetime) -> int:
        """Take the account's lines ``item_ids`` out; returns how many went."""
        ids = list(item_ids)
        async with self._db.begin() as conn:
            cart_id = await self._cart_id(conn, account_id, now)
            result = await conn.execute(
                _ITEM.delete().where(_ITEM.c.cart_id == cart_id, _ITEM.c.id.in_(ids))
            )
            if result.rowcount:
                await self._bump(conn, cart_id, now)
            return int(result.rowcount or 0)

    async def set_voucher(self, account_id: int, code: str, now: datetime) -> None:
        """Remember the redeemed voucher code ('' drops it)."""
        async with self._db.begin() as conn:
            cart_id = await self._cart_id(conn, account_id, now)
            await self._bump(conn, cart_id, now, voucher_code=code)

    async def checkout(self, key: str) -> Checkout | None:
        """The checkout done with ``key``, if any."""
        async with self._db.connect() as conn:
            row = (await conn.execute(sa.select(_OUT).where(_OUT.c.key == key))).first()
        return None if row is None else _checkout(row._mapping)

    async def checkouts(self, account_id: int) -> dict[int, Checkout]:
        """The account's checkouts by order id."""
        async with self._db.connect() as conn:
            rows = await conn.execute(sa.select(_OUT).where(_OUT.c.account_id == account_id))
            return {r.order_id: _checkout(r._mapping) for r in rows}

    async def record_checkout(
        self, cart: Cart, *, key: str, order_id: int, method: PaymentMedium, now: datetime
    ) -> Checkout:
        """Remember that ``key`` placed ``order_id`` and empty the cart it was made from.

        Once per key: a repeated call finds the first record and changes nothing. The cart is
        emptied only if it is still the revision that was bought.
        """
        async with self._db.begin() as conn:
            values = {
                "key": key,
                "account_id": cart.account_id,
                "order_id": order_id,
                "method": method.value,
                "redirect_url": "",
                "created_at": now,
            }
            if await insert_ignore(conn, _OUT, values, ["key"]) is not None:
                cart_id = await self._cart_id(conn, cart.account_id, now)
                still = await conn.scalar(sa.select(_CART.c.revision).where(_CART.c.id == cart_id))
                if still == cart.revision:
                    await conn.execute(_ITEM.delete().where(_ITEM.c.cart_id == cart_id))
                    await self._bump(conn, cart_id, now, voucher_code="")
            row = (await conn.execute(sa.select(_OUT).where(_OUT.c.key == key))).one()
            return _checkout(row._mapping)

    async def set_redirect(self, key: str, url: str) -> None:
        """Remember the provider page the checkout's payment started on."""
        async with self._db.begin() as conn:
            await conn.execute(_OUT.update().where(_OUT.c.key == key).values(redirect_url=url))
