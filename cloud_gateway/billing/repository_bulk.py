"""Set-wise reads and writes of the money core for many payments at once (a bank statement).

Each method is one statement per chunk of rows (``IN`` lists and multi-row inserts), in the
caller's transaction; :mod:`cloud_gateway.billing.payments_bulk` books a statement's payments
with a handful of these instead of a dozen statements per payment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
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

__all__ = ["BillingBulkRepository"]

_I, _J, _D, _O, _C = (
    billing_idempotency,
    billing_journal,
    billing_documents,
    billing_orders,
    billing_contracts,
)
_CHUNK = 500


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _insert(conn: AsyncConnection, table: sa.Table) -> Any:
    return postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)


class BillingBulkRepository(Repository):
    """Claims, journal lines, settlements and look-ups for many payments in few statements."""

    async def lock_accounts(self, conn: AsyncConnection, account_ids: Iterable[int]) -> None:
        """Serialise money moves of these accounts until commit (in id order: no deadlock)."""
        if conn.dialect.name != "postgresql":
            return  # SQLite serialises writers anyway
        accounts = sa.table("accounts", sa.column("id"))
        for chunk in _chunks(sorted(set(account_ids))):
            await conn.execute(
                sa.select(accounts.c.id)
                .where(accounts.c.id.in_(chunk))
                .order_by(accounts.c.id)
                .with_for_update(key_share=True)
            )

    async def claims(
        self, conn: AsyncConnection, keys: Sequence[str]
    ) -> dict[str, tuple[str, str]]:
        """``key -> (operation, result)`` of the keys claimed already."""
        found: dict[str, tuple[str, str]] = {}
        for chunk in _chunks(sorted(set(keys))):
            stmt = sa.select(_I.c.key, _I.c.operation, _I.c.result).where(_I.c.key.in_(chunk))
            found.update((str(k), (str(o), str(r))) for k, o, r in await conn.execute(stmt))
        return found

    async def claim_all(
        self, conn: AsyncConnection, operation: str, results: Mapping[str, str], now: datetime
    ) -> int:
        """Claim every key with its result; how many were new (a racer's keys are skipped).

        One executemany: SQLAlchemy sends it as multi-row statements (``insertmanyvalues``)
        compiled once.
        """
        rows = [
            {"key": k, "operation": operation, "result": r, "created_at": now}
            for k, r in results.items()
        ]
        if not rows:
            return 0
        stmt = _insert(conn, _I).on_conflict_do_nothing(index_elements=["key"]).returning(_I.c.key)
        return len((await conn.execute(stmt, rows)).all())

    async def append_all(
        self, conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]
    ) -> dict[str, int]:
        """Append journal lines; ``source_key -> id`` of those not booked before."""
        if not rows:
            return {}
        stmt = (
            _insert(conn, _J)
            .on_conflict_do_nothing(index_elements=["source_key"])
            .returning(_J.c.source_key, _J.c.id)
        )
        return {str(k): int(i) for k, i in await conn.execute(stmt, list(rows))}

    async def documents_by_reference(
        self, conn: AsyncConnection, references: Iterable[str]
    ) -> dict[str, StoredDocument]:
        found: dict[str, StoredDocument] = {}
        for chunk in _chunks(sorted(set(references))):
            stmt = sa.select(_D).where(_D.c.payment_reference.in_(chunk))
            for row in await conn.execute(stmt):
                document = document_row(row._mapping)
                found[str(document.payment_reference)] = document
        return found

    async def settled(self, conn: AsyncConnection, document_ids: Iterable[int]) -> set[int]:
        """Which of ``document_ids`` are settled."""
        found: set[int] = set()
        column = billing_settlements.c.document_id
        for chunk in _chunks(sorted(set(document_ids))):
            found.update(
                int(i) for (i,) in await conn.execute(sa.select(column).where(column.in_(chunk)))
            )
        return found

    async def balances(self, conn: AsyncConnection, account_ids: Iterable[int]) -> dict[int, int]:
        """The balance of each account (0 for one without journal lines)."""
        found = dict.fromkeys(account_ids, 0)
        for chunk in _chunks(sorted(found)):
            stmt = (
                sa.select(_J.c.account_id, sa.func.sum(_J.c.amount))
                .where(_J.c.account_id.in_(chunk))
                .group_by(_J.c.account_id)
            )
            found.update((int(a), int(s or 0)) for a, s in await conn.execute(stmt))
        return found

    async def orders(
        self, conn: AsyncConnection, order_ids: Iterable[int]
    ) -> dict[int, StoredOrder]:
        found: dict[int, StoredOrder] = {}
        for chunk in _chunks(sorted(set(order_ids))):
            for row in await conn.execute(sa.select(_O).where(_O.c.id.in_(chunk))):
                order = order_row(row._mapping)
                found[order.id] = order
        return found

    async def first_proforma_counts(
        self, conn: AsyncConnection, order_ids: Iterable[int]
    ) -> dict[int, int]:
        """How many pro-formas of period 0 (one per order line) each order has."""
        found: dict[int, int] = {}
        for chunk in _chunks(sorted(set(order_ids))):
            stmt = (
                sa.select(_C.c.order_id, sa.func.count(_D.c.id))
                .join(_D, _D.c.contract_id == _C.c.id)
                .where(
                    _C.c.order_id.in_(chunk),
                    _D.c.kind == DocumentKind.PROFORMA.value,
                    _D.c.period == 0,
                )
                .group_by(_C.c.order_id)
            )
            found.update((int(o), int(n)) for o, n in await conn.execute(stmt))
        return found

    async def settle_all(
        self, conn: AsyncConnection, rows: Sequence[Mapping[str, Any]], now: datetime
    ) -> None:
        """Record settlements ``{"document_id", "journal_id"}``."""
        if rows:
            values = [{**row, "settled_at": now} for row in rows]
            await conn.execute(billing_settlements.insert(), values)

    async def add_paid_periods_all(self, conn: AsyncConnection, counts: Mapping[int, int]) -> None:
        """Add paid periods per contract (one executemany)."""
        if not counts:
            return
        stmt = (
            _C.update()
            .where(_C.c.id == sa.bindparam("contract"))
            .values(paid_periods=_C.c.paid_periods + sa.bindparam("count"))
        )
        await conn.execute(stmt, [{"contract": c, "count": n} for c, n in counts.items()])

    async def set_order_states(self, conn: AsyncConnection, states: Mapping[int, str]) -> None:
        """Set order states (one executemany)."""
        if not states:
            return
        stmt = _O.update().where(_O.c.id == sa.bindparam("order")).values(state=sa.bindparam("to"))
        await conn.execute(stmt, [{"order": o, "to": s} for o, s in states.items()])
