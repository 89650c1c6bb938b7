"""Persistence of imported statements and transactions; the pro-formas matching looks up.

Like the billing repository, every method takes the connection of the transaction it belongs
to, so the service records a transaction and books its money in one commit. Look-ups take
whole sets (:func:`~cloud_gateway.store.sets.one_of`): one pass per statement, not one query
per transaction.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from cloud_gateway.banking.matching import ProForma, Wanted
from cloud_gateway.banking.model import Direction, StoredTransaction, TransactionStatus
from cloud_gateway.banking.schema import bank_statements, bank_transactions
from cloud_gateway.billing.rendering.view import DocumentKind
from cloud_gateway.billing.schema import billing_contracts, billing_documents, billing_settlements
from cloud_gateway.billing.states import ContractState
from cloud_gateway.errors import NotFoundError
from cloud_gateway.store.repository import Repository
from cloud_gateway.store.sets import insert_rows, one_of, slices
from cloud_gateway.store.upsert import insert_ignore

__all__ = ["BankRepository"]

_S, _T = bank_statements, bank_transactions
_D, _C, _P = billing_documents, billing_contracts, billing_settlements
_ENDED = (ContractState.ENDED.value, ContractState.CANCELLED.value)


def _transaction(m: sa.RowMapping) -> StoredTransaction:
    values = {k: m[k] for k in StoredTransaction.__dataclass_fields__}
    values["direction"] = Direction(m["direction"])
    values["status"] = TransactionStatus(m["status"])
    values["reversal"] = bool(m["reversal"])
    return StoredTransaction(**values)


def _customer(buyer: str) -> str:
    try:
        return str(json.loads(buyer).get("name", ""))
    except (ValueError, AttributeError):
        return ""


class BankRepository(Repository):
    """Statements, transactions and the queue; pro-formas for matching."""

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """One transaction (or the unit of work's, when bound to its connection)."""
        async with self._db.begin() as conn:
            yield conn

    # --- statements and transactions ------------------------------------------------------
    async def add_statement(self, conn: AsyncConnection, **values: Any) -> int:
        """Record a statement; an already imported one keeps its row (its id is returned)."""
        new = await insert_ignore(conn, _S, values, ["iban", "statement_ref"])
        if new is not None:
            return new
        stmt = sa.select(_S.c.id).where(
            _S.c.iban == values["iban"], _S.c.statement_ref == values["statement_ref"]
        )
        return int((await conn.execute(stmt)).scalar_one())

    async def known_keys(self, conn: AsyncConnection, keys: Iterable[str]) -> set[str]:
        """Which of ``keys`` are recorded already."""
        found: set[str] = set()
        for chunk in slices(conn, keys):
            rows = await conn.execute(sa.select(_T.c.key).where(one_of(conn, _T.c.key, chunk)))
            found.update(str(k) for (k,) in rows)
        return found

    async def add_transactions(
        self, conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]
    ) -> set[str]:
        """Record transactions; the keys recorded now (not those a racer recorded first)."""
        if not rows:
            return set()
        insert, params = insert_rows(conn, _T, rows)
        stmt = insert.on_conflict_do_nothing(index_elements=["key"]).returning(_T.c.key)
        return {str(k) for (k,) in await conn.execute(stmt, params)}

    async def get(self, conn: AsyncConnection, transaction_id: int) -> StoredTransaction:
        row = (await conn.execute(sa.select(_T).where(_T.c.id == transaction_id))).one_or_none()
        if row is None:
            raise NotFoundError(f"no bank transaction {transaction_id}")
        return _transaction(row._mapping)

    async def recent(
        self,
        conn: AsyncConnection,
        *,
        status: TransactionStatus | None = None,
        reversal: bool | None = None,
        limit: int = 200,
    ) -> list[StoredTransaction]:
        """Newest first."""
        stmt = sa.select(_T).order_by(_T.c.id.desc()).limit(limit)
        if status is not None:
            stmt = stmt.where(_T.c.status == status.value)
        if reversal is not None:
            stmt = stmt.where(_T.c.reversal == reversal)
        return [_transaction(r._mapping) for r in await conn.execute(stmt)]

    async def resolve(
        self, conn: AsyncConnection, transaction_id: int, now: datetime, **values: Any
    ) -> bool:
        """Move a queued transaction out of the queue; ``False`` if it was not queued."""
        result = await conn.execute(
            _T.update()
            .where(_T.c.id == transaction_id, _T.c.status == TransactionStatus.UNMATCHED.value)
            .values(resolved_at=now, **values)
        )
        return bool(result.rowcount)

    async def originals(
        self, conn: AsyncConnection, end_to_end_ids: Iterable[str]
    ) -> dict[str, int]:
        """Accounts of booked credits by their end-to-end reference (what a reversal undoes)."""
        found: dict[str, int] = {}
        for chunk in slices(conn, end_to_end_ids):
            stmt = sa.select(_T.c.end_to_end_id, _T.c.account_id).where(
                one_of(conn, _T.c.end_to_end_id, chunk),
                _T.c.direction == Direction.CREDIT.value,
                _T.c.account_id.is_not(None),
            )
            found.update((str(e), int(a)) for e, a in await conn.execute(stmt))
        return found

    # --- pro-formas -----------------------------------------------------------------------
    def _proformas(self, today: date, *, open_only: bool = False) -> sa.Select[Any]:
        settled = sa.exists().where(_P.c.document_id == _D.c.id)
        expired = sa.and_(_D.c.due_date.is_not(None), _D.c.due_date < today)
        waiting = sa.not_(sa.or_(settled, expired, _C.c.state.in_(_ENDED)))
        stmt = (
            sa.select(
                _D.c.id,
                _D.c.number,
                _D.c.payment_reference,
                _D.c.account_id,
                _D.c.gross,
                _C.c.order_id,
                _C.c.buyer,
                waiting.label("open"),
            )
            .select_from(_D.join(_C, _C.c.id == _D.c.contract_id))
            .where(_D.c.kind == DocumentKind.PROFORMA.value)
        )
        return stmt.where(waiting) if open_only else stmt

    async def _select(self, conn: AsyncConnection, stmt: sa.Select[Any]) -> list[ProForma]:
        return [
            ProForma(
                id=int(r.id),
                number=str(r.number),
                reference=str(r.payment_reference or ""),
                account_id=int(r.account_id),
                gross=int(r.gross),
                order_id=r.order_id,
                customer=_customer(r.buyer),
                open=bool(r.open),
            )
            for r in await conn.execute(stmt)
        ]

    async def proformas(self, conn: AsyncConnection, wanted: Wanted, today: date) -> list[ProForma]:
        """Pro-formas named by reference, number or order (open or not), in one pass."""
        base = self._proformas(today)
        found: list[ProForma] = []
        columns: Sequence[tuple[sa.ColumnElement[Any], Iterable[Any]]] = (
            (_D.c.payment_reference, wanted.references),
            (_D.c.number, wanted.numbers),
            (_C.c.order_id, wanted.orders),
        )
        for column, values in columns:
            for chunk in slices(conn, values):
                found += await self._select(conn, base.where(one_of(conn, column, chunk)))
        return found

    async def open_by_amount(
        self, conn: AsyncConnection, amounts: Iterable[int], today: date
    ) -> list[ProForma]:
        """Open pro-formas whose total is one of ``amounts`` (matching by amount and name)."""
        found: list[ProForma] = []
        for chunk in slices(conn, amounts):
            stmt = self._proformas(today, open_only=True).where(one_of(conn, _D.c.gross, chunk))
            found += await self._select(conn, stmt)
        return found

    async def proforma(self, conn: AsyncConnection, document_id: int, today: date) -> ProForma:
        """One pro-forma (an operator assigns a queued payment to it)."""
        found = await self._select(conn, self._proformas(today).where(_D.c.id == document_id))
        if not found:
            raise NotFoundError(f"no pro-forma {document_id}")
        return found[0]
