"""Persistence of the money core (SQLAlchemy Core; SQLite and PostgreSQL).

The repository is built on a :class:`~cloud_gateway.store.database.Database`: the engine (each
:meth:`BillingRepository.transaction` is one database transaction) or the connection of a unit of
work, whose transaction the caller owns. Every method takes the connection of the transaction it
belongs to, so a service can finalise a document, move money and record its idempotency key
atomically. Driver errors become :class:`~cloud_gateway.errors.StoreError` (``ConflictError``
for unique keys) through the store's one mapping (:func:`~cloud_gateway.store.repository.
store_error`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from cloud_gateway.billing.catalogue import BookingType
from cloud_gateway.billing.journal import EntryKind
from cloud_gateway.billing.model import StoredContract, StoredDocument, StoredEntry, StoredOrder
from cloud_gateway.billing.pricing import Voucher, VoucherKind
from cloud_gateway.billing.rendering.view import DocumentKind
from cloud_gateway.billing.schema import (
    billing_contracts,
    billing_documents,
    billing_idempotency,
    billing_jobs,
    billing_journal,
    billing_orders,
    billing_sequences,
    billing_settlements,
    billing_vouchers,
)
from cloud_gateway.billing.states import ContractState, OrderState
from cloud_gateway.errors import NotFoundError
from cloud_gateway.store.repository import Repository, store_error
from cloud_gateway.store.sets import one_of, slices
from cloud_gateway.store.upsert import insert_ignore

__all__ = ["BillingRepository", "document_row", "order_row"]

_LOGGER = logging.getLogger(__name__)
_O, _C, _D, _J = billing_orders, billing_contracts, billing_documents, billing_journal
#: rows per statement of a bulk insert (keeps SQLite under its bound-parameter limit)
_CHUNK = 1000


@contextmanager
def _mapped() -> Iterator[None]:
    try:
        yield
    except DBAPIError as exc:
        raise store_error(exc, "billing transaction") from exc


def _order(m: sa.RowMapping) -> StoredOrder:
    return StoredOrder(
        id=m["id"],
        account_id=m["account_id"],
        state=OrderState(m["state"]),
        catalogue_version=m["catalogue_version"],
        language=m["language"],
        open_reservations=tuple(m["open_reservations"].split()),
        created_at=m["created_at"],
        wished_start=m["wished_start"],
    )


def _contract(m: sa.RowMapping) -> StoredContract:
    values = {k: m[k] for k in StoredContract.__dataclass_fields__}
    values["booking"] = BookingType(m["booking"])
    values["state"] = ContractState(m["state"])
    return StoredContract(**values)


def _document(m: sa.RowMapping) -> StoredDocument:
    values = {k: m[k] for k in StoredDocument.__dataclass_fields__}
    values["kind"] = DocumentKind(m["kind"])
    return StoredDocument(**values)


def _entry(m: sa.RowMapping) -> StoredEntry:
    values = {k: m[k] for k in StoredEntry.__dataclass_fields__}
    values["kind"] = EntryKind(m["kind"])
    return StoredEntry(**values)


#: a documents row as :class:`StoredDocument` (for the bulk repository)
document_row = _document
#: an orders row as :class:`StoredOrder`
order_row = _order


class BillingRepository(Repository):
    """Orders, contracts, documents, journal, sequences, jobs and idempotency keys."""

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """One transaction (or the unit of work's, when bound to its connection)."""
        with _mapped():
            async with self._db.begin() as conn:
                yield conn

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads only (on SQLite it does not queue behind the writers)."""
        with _mapped():
            async with self._db.connect() as conn:
                yield conn

    # --- idempotency -------------------------------------------------------------------
    async def claim(
        self, conn: AsyncConnection, key: str, operation: str, now: datetime
    ) -> tuple[str, str] | None:
        """Claim ``key``; ``None`` when new, else the first call's ``(operation, result)``.

        On PostgreSQL a concurrent claim of the same key waits for the first transaction.
        """
        with _mapped():
            values = {"key": key, "operation": operation, "result": "", "created_at": now}
            if await insert_ignore(conn, billing_idempotency, values, ["key"]) is not None:
                return None
            row = (
                await conn.execute(
                    sa.select(billing_idempotency.c.operation, billing_idempotency.c.result).where(
                        billing_idempotency.c.key == key
                    )
                )
            ).one()
            return str(row.operation), str(row.result)

    async def claimed(self, conn: AsyncConnection, key: str) -> tuple[str, str] | None:
        """The ``(operation, result)`` stored under ``key``, if it was claimed."""
        with _mapped():
            row = (
                await conn.execute(
                    sa.select(billing_idempotency.c.operation, billing_idempotency.c.result).where(
                        billing_idempotency.c.key == key
                    )
                )
            ).first()
            return None if row is None else (str(row.operation), str(row.result))

    async def remember(self, conn: AsyncConnection, key: str, result: str) -> None:
        """Store the result a retry of ``key`` gets."""
        with _mapped():
            await conn.execute(
                billing_idempotency.update()
                .where(billing_idempotency.c.key == key)
                .values(result=result)
            )

    # --- orders and contracts ------------------------------------------------------------
    async def insert_order(self, conn: AsyncConnection, **values: Any) -> int:
        with _mapped():
            result = await conn.execute(_O.insert().values(**values).returning(_O.c.id))
            return int(result.scalar_one())

    async def insert_contract(self, conn: AsyncConnection, **values: Any) -> int:
        with _mapped():
            result = await conn.execute(_C.insert().values(**values).returning(_C.c.id))
            return int(result.scalar_one())

    async def order(self, conn: AsyncConnection, order_id: int) -> StoredOrder:
        with _mapped():
            row = (await conn.execute(sa.select(_O).where(_O.c.id == order_id))).one_or_none()
        if row is None:
            raise NotFoundError(f"no order {order_id}")
        return _order(row._mapping)

    async def orders(self, conn: AsyncConnection, account_id: int) -> list[StoredOrder]:
        stmt = sa.select(_O).where(_O.c.account_id == account_id).order_by(_O.c.id)
        with _mapped():
            return [_order(r._mapping) for r in await conn.execute(stmt)]

    async def set_order(self, conn: AsyncConnection, order_id: int, **values: Any) -> None:
        with _mapped():
            await conn.execute(_O.update().where(_O.c.id == order_id).values(**values))

    async def contracts(
        self,
        conn: AsyncConnection,
        *,
        order_id: int | None = None,
        state: ContractState | None = None,
        ids: Sequence[int] | None = None,
    ) -> list[StoredContract]:
        stmt = sa.select(_C).order_by(_C.c.id)
        if order_id is not None:
            stmt = stmt.where(_C.c.order_id == order_id)
        if state is not None:
            stmt = stmt.where(_C.c.state == state.value)
        if ids is None:
            with _mapped():
                return [_contract(r._mapping) for r in await conn.execute(stmt)]
        found: list[StoredContract] = []
        with _mapped():
            for chunk in slices(conn, ids, _CHUNK):
                sliced = stmt.where(one_of(conn, _C.c.id, chunk))
                found += [_contract(r._mapping) for r in await conn.execute(sliced)]
        return found

    async def set_contract(self, conn: AsyncConnection, contract_id: int, **values: Any) -> None:
        with _mapped():
            await conn.execute(_C.update().where(_C.c.id == contract_id).values(**values))

    async def add_paid_periods(self, conn: AsyncConnection, contract_id: int, count: int) -> None:
        with _mapped():
            await conn.execute(
                _C.update()
                .where(_C.c.id == contract_id)
                .values(paid_periods=_C.c.paid_periods + count)
            )

    async def insert_voucher(self, conn: AsyncConnection, **values: Any) -> int:
        with _mapped():
            result = await conn.execute(
                billing_vouchers.insert().values(**values).returning(billing_vouchers.c.id)
            )
            return int(result.scalar_one())

    async def voucher(self, conn: AsyncConnection, code: str) -> Voucher:
        stmt = sa.select(billing_vouchers).where(billing_vouchers.c.code == code)
        with _mapped():
            row = (await conn.execute(stmt)).one_or_none()
        if row is None:
            raise NotFoundError(f"no voucher {code!r}")
        m = row._mapping
        return Voucher(
            code=m["code"],
            kind=VoucherKind(m["kind"]),
            value=Decimal(m["value"]),
            periods=m["periods"],
            products=frozenset(m["products"].split()),
            valid_until=m["valid_until"],
            max_uses=m["max_uses"],
        )

    async def contracts_in_force(self, conn: AsyncConnection, product_code: str) -> int:
        """How many pending or active contracts book ``product_code`` (available quantity)."""
        stmt = (
            sa.select(sa.func.count())
            .select_from(_C)
            .where(
                _C.c.product_code == product_code,
                _C.c.state.in_([ContractState.PENDING.value, ContractState.ACTIVE.value]),
            )
        )
        with _mapped():
            return int((await conn.execute(stmt)).scalar_one())

    async def voucher_uses(self, conn: AsyncConnection, code: str) -> int:
        stmt = sa.select(sa.func.count()).select_from(_C).where(_C.c.voucher_code == code)
        with _mapped():
            return int((await conn.execute(stmt)).scalar_one())

    # --- numbering and documents ---------------------------------------------------------
    async def take_numbers(self, conn: AsyncConnection, range_key: str, count: int = 1) -> int:
        """Reserve ``count`` consecutive counters of ``range_key``; returns the first.

        The counter row is updated in the caller's transaction: PostgreSQL locks the row until
        commit (concurrent finalisations queue), SQLite serialises writers; a rollback returns
        the numbers, so the range has no gaps.
        """
        bump = (
            billing_sequences.update()
            .where(billing_sequences.c.range_key == range_key)
            .values(next=billing_sequences.c.next + count)
            .returning(billing_sequences.c.next)
        )
        with _mapped():
            after = (await conn.execute(bump)).scalar_one_or_none()
            if after is None:
                await insert_ignore_key(conn, range_key)
                after = (await conn.execute(bump)).scalar_one()
        return int(after) - count

    async def insert_documents(
        self, conn: AsyncConnection, rows: Sequence[Mapping[str, Any]], *, with_ids: bool = True
    ) -> dict[str, int]:
        """Insert finalised documents; returns their ids by number (empty unless ``with_ids``)."""
        ids: dict[str, int] = {}
        with _mapped():
            if not with_ids:
                for start in range(0, len(rows), _CHUNK):
                    await conn.execute(_D.insert(), list(rows[start : start + _CHUNK]))
                return ids
            stmt = _D.insert().returning(_D.c.number, _D.c.id, sort_by_parameter_order=True)
            for start in range(0, len(rows), _CHUNK):
                result = await conn.execute(stmt, list(rows[start : start + _CHUNK]))
                ids.update((str(n), int(i)) for n, i in result)
        return ids

    async def document_keys(
        self, conn: AsyncConnection, contract_ids: Iterable[int] | None = None
    ) -> set[tuple[int, int, str]]:
        """The ``(contract, period, item kind)`` keys of the existing contract documents."""
        stmt = sa.select(_D.c.contract_id, _D.c.period, _D.c.item_kind).where(
            _D.c.contract_id.is_not(None)
        )
        if contract_ids is None:
            with _mapped():
                return {(int(c), int(p), str(k)) for c, p, k in await conn.execute(stmt)}
        ids, keys = list(contract_ids), set()
        with _mapped():
            for start in range(0, len(ids), _CHUNK):
                chunk = stmt.where(_D.c.contract_id.in_(ids[start : start + _CHUNK]))
                keys |= {(int(c), int(p), str(k)) for c, p, k in await conn.execute(chunk)}
        return keys

    async def documents(
        self,
        conn: AsyncConnection,
        *,
        account_id: int | None = None,
        issued_from: date | None = None,
        issued_to: date | None = None,
        contract_id: int | None = None,
    ) -> list[StoredDocument]:
        stmt = sa.select(_D).order_by(_D.c.issue_date, _D.c.id)
        if account_id is not None:
            stmt = stmt.where(_D.c.account_id == account_id)
        if contract_id is not None:
            stmt = stmt.where(_D.c.contract_id == contract_id)
        if issued_from is not None:
            stmt = stmt.where(_D.c.issue_date >= issued_from)
        if issued_to is not None:
            stmt = stmt.where(_D.c.issue_date <= issued_to)
        with _mapped():
            return [_document(r._mapping) for r in await conn.execute(stmt)]

    async def document(self, conn: AsyncConnection, document_id: int) -> StoredDocument:
        with _mapped():
            row = (await conn.execute(sa.select(_D).where(_D.c.id == document_id))).one_or_none()
        if row is None:
            raise NotFoundError(f"no document {document_id}")
        return _document(row._mapping)

    async def document_by_reference(
        self, conn: AsyncConnection, reference: str
    ) -> StoredDocument | None:
        stmt = sa.select(_D).where(_D.c.payment_reference == reference)
        with _mapped():
            row = (await conn.execute(stmt)).one_or_none()
        return None if row is None else _document(row._mapping)

    # --- payment account ------------------------------------------------------------------
    async def lock_account(self, conn: AsyncConnection, account_id: int) -> None:
        """Serialise money moves of one account until commit.

        PostgreSQL: ``FOR NO KEY UPDATE`` on the account row (foreign-key checks do not wait
        for it); taken first in a transaction. SQLite serialises writers anyway.
        """
        accounts = sa.table("accounts", sa.column("id"))
        stmt = (
            sa.select(accounts.c.id)
            .where(accounts.c.id == account_id)
            .with_for_update(key_share=True)
        )
        with _mapped():
            await conn.execute(stmt)

    async def append(self, conn: AsyncConnection, **values: Any) -> int | None:
        """Append a journal entry; ``None`` if its ``source_key`` is already booked."""
        with _mapped():
            return await insert_ignore(conn, _J, values, ["source_key"])

    async def balance(self, conn: AsyncConnection, account_id: int) -> int:
        """The payment account's balance: the sum of its journal."""
        stmt = sa.select(sa.func.coalesce(sa.func.sum(_J.c.amount), 0)).where(
            _J.c.account_id == account_id
        )
        with _mapped():
            return int((await conn.execute(stmt)).scalar_one())

    async def overdraft_limit(self, conn: AsyncConnection, account_id: int) -> int:
        stmt = (
            sa.select(_J.c.overdraft_limit)
            .where(_J.c.account_id == account_id, _J.c.overdraft_limit.is_not(None))
            .order_by(_J.c.id.desc())
            .limit(1)
        )
        with _mapped():
            return int((await conn.execute(stmt)).scalar_one_or_none() or 0)

    async def journal(self, conn: AsyncConnection, account_id: int) -> list[StoredEntry]:
        stmt = sa.select(_J).where(_J.c.account_id == account_id).order_by(_J.c.id)
        with _mapped():
            return [_entry(r._mapping) for r in await conn.execute(stmt)]

    async def settle(
        self, conn: AsyncConnection, document_id: int, journal_id: int, now: datetime
    ) -> None:
        with _mapped():
            await conn.execute(
                billing_settlements.insert().values(
                    document_id=document_id, journal_id=journal_id, settled_at=now
                )
            )

    async def is_settled(self, conn: AsyncConnection, document_id: int) -> bool:
        stmt = sa.select(billing_settlements.c.id).where(
            billing_settlements.c.document_id == document_id
        )
        with _mapped():
            return (await conn.execute(stmt)).first() is not None

    # --- job queue ------------------------------------------------------------------------
    async def schedule(self, conn: AsyncConnection, jobs: Sequence[tuple[int, datetime]]) -> None:
        """Queue billing jobs ``(contract id, due instant)``; an existing one stays as it is."""
        insert: Any = (
            postgresql.insert(billing_jobs)
            if conn.dialect.name == "postgresql"
            else sqlite.insert(billing_jobs)
        )
        stmt = insert.on_conflict_do_nothing(index_elements=["contract_id", "due_at"])
        values = [{"contract_id": c, "due_at": d} for c, d in jobs]
        with _mapped():
            for start in range(0, len(values), _CHUNK):
                await conn.execute(stmt, values[start : start + _CHUNK])

    async def next_job_at(self, conn: AsyncConnection) -> datetime | None:
        """When the earliest open job is due."""
        stmt = (
            sa.select(billing_jobs.c.due_at)
            .where(billing_jobs.c.done_at.is_(None))
            .order_by(billing_jobs.c.due_at)
            .limit(1)
        )
        with _mapped():
            return (await conn.execute(stmt)).scalar_one_or_none()

    async def due_jobs(self, conn: AsyncConnection, now: datetime) -> list[tuple[int, int]]:
        """``(job id, contract id)`` of every open job due at ``now``."""
        stmt = (
            sa.select(billing_jobs.c.id, billing_jobs.c.contract_id)
            .where(billing_jobs.c.done_at.is_(None), billing_jobs.c.due_at <= now)
            .order_by(billing_jobs.c.due_at, billing_jobs.c.id)
        )
        with _mapped():
            return [(int(j), int(c)) for j, c in await conn.execute(stmt)]

    async def finish_jobs(
        self, conn: AsyncConnection, job_ids: Sequence[int], now: datetime
    ) -> None:
        with _mapped():
            await conn.execute(
                billing_jobs.update().where(billing_jobs.c.id.in_(job_ids)).values(done_at=now)
            )


async def insert_ignore_key(conn: AsyncConnection, range_key: str) -> None:
    """Create the counter row of a new range (first number 1), unless a racer did."""
    insert: Any = (
        postgresql.insert(billing_sequences)
        if conn.dialect.name == "postgresql"
        else sqlite.insert(billing_sequences)
    )
    await conn.execute(
        insert.values(range_key=range_key, next=1).on_conflict_do_nothing(
            index_elements=["range_key"]
        )
    )
