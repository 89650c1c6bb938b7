"""Set-wise reads and writes of the money core for many payments at once (a bank statement).

Each method is one statement per set of values (:func:`~cloud_gateway.store.sets.one_of`; on
SQLite one per slice of it) or one multi-row insert or update, in the caller's transaction;
:mod:`cloud_gateway.billing.payments_bulk` books a statement's payments with a handful of these
instead of a dozen statements per payment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from cloud_gateway.billing.model import StoredDocument, StoredOrder
from cloud_gateway.billing.rendering.view import DocumentKind
from cloud_gateway.billing.repository import document_row, order_row
from cloud_gateway.billing.schema import (
    billing_contracts,
    billing_documents,
    billing_idempotency,
    billing_journal,
    billing_orders,
    billing_settlements,
)
from cloud_gateway.store.repository import Repository
from cloud_gateway.store.sets import columns, insert_rows, one_of, slices

__all__ = ["BillingBulkRepository"]

_I, _J, _D, _O, _C = (
    billing_idempotency,
    billing_journal,
    billing_documents,
    billing_orders,
    billing_contracts,
)


class BillingBulkRepository(Repository):
    """Claims, journal lines, settlements and look-ups for many payments in few statements."""

    async def lock_accounts(self, conn: AsyncConnection, account_ids: Iterable[int]) -> None:
        """Serialise money moves of these accounts until commit (in id order: no deadlock)."""
        if conn.dialect.name != "postgresql":
            return  # SQLite serialises writers anyway
        accounts = sa.table("accounts", sa.column("id", sa.Integer))
        for chunk in slices(conn, account_ids):
            await conn.execute(
                sa.select(accounts.c.id)
                .where(one_of(conn, accounts.c.id, chunk))
                .order_by(accounts.c.id)
                .with_for_update(key_share=True)
            )

    async def claims(
        self, conn: AsyncConnection, keys: Sequence[str]
    ) -> dict[str, tuple[str, str]]:
        """``key -> (operation, result)`` of the keys claimed already."""
        found: dict[str, tuple[str, str]] = {}
        for chunk in slices(conn, keys):
            stmt = sa.select(_I.c.key, _I.c.operation, _I.c.result).where(
                one_of(conn, _I.c.key, chunk)
            )
            found.update((str(k), (str(o), str(r))) for k, o, r in await conn.execute(stmt))
        return found

    async def claim_all(
        self, conn: AsyncConnection, operation: str, results: Mapping[str, str], now: datetime
    ) -> int:
        """Claim every key with its result; how many were new (a racer's keys are skipped)."""
        rows = [
            {"key": k, "operation": operation, "result": r, "created_at": now}
            for k, r in results.items()
        ]
        if not rows:
            return 0
        insert, params = insert_rows(conn, _I, rows)
        stmt = insert.on_conflict_do_nothing(index_elements=["key"]).returning(_I.c.key)
        return len((await conn.execute(stmt, params)).all())

    async def append_all(
        self, conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]
    ) -> dict[str, int]:
        """Append journal lines; ``source_key -> id`` of those not booked before."""
        if not rows:
            return {}
        insert, params = insert_rows(conn, _J, rows)
        stmt = insert.on_conflict_do_nothing(index_elements=["source_key"]).returning(
            _J.c.source_key, _J.c.id
        )
        return {str(k): int(i) for k, i in await conn.execute(stmt, params)}

    async def documents_by_reference(
        self, conn: AsyncConnection, references: Iterable[str]
    ) -> dict[str, StoredDocument]:
        found: dict[str, StoredDocument] = {}
        for chunk in slices(conn, references):
            stmt = sa.select(_D).where(one_of(conn, _D.c.payment_reference, chunk))
            for row in await conn.execute(stmt):
                document = document_row(row._mapping)
                found[str(document.payment_reference)] = document
        return found

    async def settled(self, conn: AsyncConnection, document_ids: Iterable[int]) -> set[int]:
        """Which of ``document_ids`` are settled."""
        found: set[int] = set()
        column = billing_settlements.c.document_id
        for chunk in slices(conn, document_ids):
            stmt = sa.select(column).where(one_of(conn, column, chunk))
            found.update(int(i) for (i,) in await conn.execute(stmt))
        return found

    async def balances(self, conn: AsyncConnection, account_ids: Iterable[int]) -> dict[int, int]:
        """The balance of each account (0 for one without journal lines)."""
        found = dict.fromkeys(account_ids, 0)
        for chunk in slices(conn, found):
            stmt = (
                sa.select(_J.c.account_id, sa.func.sum(_J.c.amount))
                .where(one_of(conn, _J.c.account_id, chunk))
                .group_by(_J.c.account_id)
            )
            found.update((int(a), int(s or 0)) for a, s in await conn.execute(stmt))
        return found

    async def orders(
        self, conn: AsyncConnection, order_ids: Iterable[int]
    ) -> dict[int, StoredOrder]:
        found: dict[int, StoredOrder] = {}
        for chunk in slices(conn, order_ids):
            for row in await conn.execute(sa.select(_O).where(one_of(conn, _O.c.id, chunk))):
                order = order_row(row._mapping)
                found[order.id] = order
        return found

    async def first_proforma_counts(
        self, conn: AsyncConnection, order_ids: Iterable[int]
    ) -> dict[int, int]:
        """How many pro-formas of period 0 (one per order line) each order has.

        Two single-table look-ups by index (the orders' contracts, then their documents), not
        one join: right after many pro-formas are written, before the statistics know them,
        PostgreSQL planned the join as a scan of every period-0 document per chunk (0.1 s each,
        2 s for a statement of 10,000).
        """
        order_of: dict[int, int] = {}
        for chunk in slices(conn, order_ids):
            stmt = sa.select(_C.c.id, _C.c.order_id).where(one_of(conn, _C.c.order_id, chunk))
            order_of.update((int(c), int(o)) for c, o in await conn.execute(stmt))
        found: dict[int, int] = {}
        for chunk in slices(conn, order_of):
            stmt = (
                sa.select(_D.c.contract_id, sa.func.count(_D.c.id))
                .where(
                    one_of(conn, _D.c.contract_id, chunk),
                    _D.c.kind == DocumentKind.PROFORMA.value,
                    _D.c.period == 0,
                )
                .group_by(_D.c.contract_id)
            )
            for contract_id, count in await conn.execute(stmt):
                order_id = order_of[int(contract_id)]
                found[order_id] = found.get(order_id, 0) + int(count)
        return found

    async def settle_all(
        self, conn: AsyncConnection, rows: Sequence[Mapping[str, Any]], now: datetime
    ) -> None:
        """Record settlements ``{"document_id", "journal_id"}``."""
        if rows:
            values = [{**row, "settled_at": now} for row in rows]
            await conn.execute(*insert_rows(conn, billing_settlements, values))

    async def add_paid_periods_all(self, conn: AsyncConnection, counts: Mapping[int, int]) -> None:
        """Add paid periods per contract (one statement; an executemany on SQLite)."""
        if not counts:
            return
        if conn.dialect.name == "postgresql":
            rows = [{"id": c, "paid_periods": n} for c, n in counts.items()]
            source = columns(_C, rows, ["id", "paid_periods"])
            await conn.execute(
                _C.update()
                .where(_C.c.id == source.c.id)
                .values(paid_periods=_C.c.paid_periods + source.c.paid_periods)
            )
            return
        stmt = (
            _C.update()
            .where(_C.c.id == sa.bindparam("contract"))
            .values(paid_periods=_C.c.paid_periods + sa.bindparam("count"))
        )
        await conn.execute(stmt, [{"contract": c, "count": n} for c, n in counts.items()])

    async def set_order_states(self, conn: AsyncConnection, states: Mapping[int, str]) -> None:
        """Set order states (one statement; an executemany on SQLite)."""
        if not states:
            return
        if conn.dialect.name == "postgresql":
            rows = [{"id": o, "state": s} for o, s in states.items()]
            source = columns(_O, rows, ["id", "state"])
            await conn.execute(
                _O.update().where(_O.c.id == source.c.id).values(state=source.c.state)
            )
            return
        stmt = _O.update().where(_O.c.id == sa.bindparam("order")).values(state=sa.bindparam("to"))
        await conn.execute(stmt, [{"order": o, "to": s} for o, s in states.items()])
