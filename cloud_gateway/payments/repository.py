"""Persistence of payment attempts and seen provider events (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from cloud_gateway.errors import NotFoundError
from cloud_gateway.payments.model import PaymentState, Provider, StoredPayment
from cloud_gateway.payments.schema import payment_events, payments
from cloud_gateway.store.repository import Repository
from cloud_gateway.store.upsert import insert_ignore

__all__ = ["PaymentRepository"]

_P = payments


def _payment(m: sa.RowMapping) -> StoredPayment:
    values = {k: m[k] for k in StoredPayment.__dataclass_fields__}
    values["provider"] = Provider(m["provider"])
    values["state"] = PaymentState(m["state"])
    return StoredPayment(**values)


class PaymentRepository(Repository):
    """Payment attempts, unique by key and by the provider's id."""

    async def claim(self, values: dict[str, Any]) -> StoredPayment:
        """Insert the attempt unless its key exists; either way the stored row.

        Concurrent claims of one key end with one row (``ON CONFLICT DO NOTHING``).
        """
        async with self._db.begin() as conn:
            await insert_ignore(conn, _P, values, ["key"])
            row = (await conn.execute(_P.select().where(_P.c.key == values["key"]))).one()
        return _payment(row._mapping)

    async def get(self, payment_id: int) -> StoredPayment:
        """One attempt by id."""
        async with self._db.connect() as conn:
            row = (await conn.execute(_P.select().where(_P.c.id == payment_id))).first()
        if row is None:
            raise NotFoundError(f"no payment {payment_id}")
        return _payment(row._mapping)

    async def by_key(self, key: str) -> StoredPayment | None:
        """The attempt started with this checkout key, if any."""
        async with self._db.connect() as conn:
            row = (await conn.execute(_P.select().where(_P.c.key == key))).first()
        return None if row is None else _payment(row._mapping)

    async def by_provider_id(
        self, providers: tuple[Provider, ...], provider_id: str
    ) -> StoredPayment:
        """The attempt a provider's order, checkout or subscription id belongs to."""
        query = _P.select().where(
            _P.c.provider.in_([p.value for p in providers]), _P.c.provider_id == provider_id
        )
        async with self._db.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise NotFoundError(f"no payment for {provider_id!r}")
        return _payment(row._mapping)

    async def for_order(self, order_id: int) -> list[StoredPayment]:
        """Every attempt to pay the order, oldest first."""
        query = _P.select().where(_P.c.order_id == order_id).order_by(_P.c.id)
        async with self._db.connect() as conn:
            return [_payment(r._mapping) for r in await conn.execute(query)]

    async def subscriptions(
        self, states: tuple[PaymentState, ...], *, account_id: int | None = None
    ) -> list[StoredPayment]:
        """PayPal subscriptions started at PayPal in one of ``states`` (of one account)."""
        query = (
            _P.select()
            .where(
                _P.c.provider == Provider.PAYPAL_SUBSCRIPTION.value,
                _P.c.provider_id.is_not(None),
                _P.c.state.in_([s.value for s in states]),
            )
            .order_by(_P.c.id)
        )
        if account_id is not None:
            query = query.where(_P.c.account_id == account_id)
        async with self._db.connect() as conn:
            return [_payment(r._mapping) for r in await conn.execute(query)]

    async def set_started(
        self, payment_id: int, provider_id: str, redirect_url: str, now: datetime
    ) -> StoredPayment:
        """The provider answered: its id and the page the buyer goes to (first answer wins).

        Returns the attempt as stored afterwards (with the first answer).
        """
        async with self._db.begin() as conn:
            await conn.execute(
                _P.update()
                .where(_P.c.id == payment_id, _P.c.provider_id.is_(None))
                .values(
                    provider_id=provider_id,
                    redirect_url=redirect_url,
                    state=PaymentState.PENDING.value,
                    updated_at=now,
                )
            )
            row = (await conn.execute(_P.select().where(_P.c.id == payment_id))).one()
        return _payment(row._mapping)

    async def set_state(
        self,
        payment_id: int,
        state: PaymentState,
        now: datetime,
        *,
        message: str = "",
        unless: tuple[PaymentState, ...] = (),
    ) -> None:
        """Move the attempt to ``state`` (not when it stands in one of ``unless``)."""
        async with self._db.begin() as conn:
            await conn.execute(
                _P.update()
                .where(_P.c.id == payment_id, _P.c.state.notin_([u.value for u in unless]))
                .values(state=state.value, message=message, updated_at=now)
            )

    async def seen(self, provider: Provider, event_id: str, event_type: str, now: datetime) -> bool:
        """Record a provider event; ``True`` when it was seen before (a redelivery)."""
        values = {
            "provider": provider.value,
            "event_id": event_id[:80],
            "event_type": event_type[:60],
            "received_at": now,
        }
        async with self._db.begin() as conn:
            return (
                await insert_ignore(conn, payment_events, values, ["provider", "event_id"]) is None
            )
