"""Importing camt.053 statements and the queue of unmatched payments.

An import validates and reads the file first (nothing is booked from an invalid file), skips
every transaction whose key is recorded already (the same or an overlapping statement), looks
up the pro-formas the rest name in one pass, matches each (:mod:`cloud_gateway.banking.matching`)
and books it through the money core, :meth:`BillingService.record_payment` for a credit and
:meth:`BillingService.reverse_payment` for money taken back, keyed ``bank:<transaction key>``.

Bookings run in chunks, each chunk one transaction that records the transactions and books
their money together (the billing service bound to the chunk's unit of work). Should a chunk
fail, its transactions are booked one by one, and one that still fails lands in the queue with
the reason: a statement is never half lost. Every booking is idempotent by its key, so a crash
and a second import of the same file book nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from cloud_gateway.banking.camt import read_statements
from cloud_gateway.banking.errors import BankingError, QueueStateError
from cloud_gateway.banking.matching import Candidates, Match, ProForma, match, wanted
from cloud_gateway.banking.model import (
    Direction,
    ImportSummary,
    Statement,
    StoredTransaction,
    Transaction,
    TransactionStatus,
)
from cloud_gateway.banking.repository import BankRepository
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.service import BillingService
from cloud_gateway.errors import GatewayError
from cloud_gateway.localdays import local_date
from cloud_gateway.store import Store, UnitOfWork
from tunnel.clock import Clock

__all__ = ["BankService"]

_LOGGER = logging.getLogger(__name__)
#: transactions booked per database transaction
CHUNK = 500
_CURRENCY = "EUR"
_Booker = Callable[["UnitOfWork", StoredTransaction], Awaitable[dict[str, object]]]


@dataclass(frozen=True, slots=True)
class _Decision:
    transaction: Transaction
    found: Match | None


def _key(transaction: Transaction) -> str:
    return f"bank:{transaction.key}"


async def _outcome(
    unit: UnitOfWork, document: ProForma, amount: int, result: dict[str, Any]
) -> TransactionStatus:
    """A credit's outcome from the money core's answer."""
    if result.get("settled_document_id") is not None:
        return TransactionStatus.SURPLUS if amount > document.gross else TransactionStatus.MATCHED
    if not document.open or await unit.repo(BillingRepository).is_settled(
        unit.connection, document.id
    ):
        return TransactionStatus.LATE  # expired, ended or paid already: credit on the account
    return TransactionStatus.PARTIAL


class BankService:
    """Statement import, matching and the queue of unmatched payments."""

    def __init__(
        self, store: Store, billing: BillingService, clock: Clock, *, chunk: int = CHUNK
    ) -> None:
        self._store = store
        self._billing = billing
        self._clock = clock
        self._chunk = chunk

    # --- import -------------------------------------------------------------------------------
    async def import_statement(self, data: bytes, file: str) -> ImportSummary:
        """Validate, read, match and book a camt.053 file; the counts of what happened.

        Raises :class:`~cloud_gateway.banking.errors.StatementError` (nothing booked) for a file
        that is not a valid camt.053.001.02 or .08 statement.
        """
        statements = await asyncio.to_thread(read_statements, data, file)
        summary = ImportSummary()
        for statement in statements:
            await self._import(statement, file, summary)
        _LOGGER.info("bank statement %s imported: %s", file, summary.as_dict())
        return summary

    async def _import(self, statement: Statement, file: str, summary: ImportSummary) -> None:
        now = self._clock.now()
        summary.statements += 1
        async with self._store.transaction() as unit:
            repo, conn = unit.repo(BankRepository), unit.connection
            statement_id = await repo.add_statement(
                conn,
                iban=statement.iban,
                statement_ref=statement.statement_id[:35],
                message_id=statement.message_id[:35],
                version=statement.version.value,
                file_name=file[-200:],
                created_at=statement.created_at,
                imported_at=now,
            )
            known = await repo.known_keys(conn, (t.key for t in statement.transactions))
            fresh: dict[str, Transaction] = {}
            for t in statement.transactions:
                if t.key in known or t.key in fresh:
                    summary.duplicates += 1
                else:
                    fresh[t.key] = t
            decisions = await self._decide(unit, list(fresh.values()), local_date(now))
        for start in range(0, len(decisions), self._chunk):
            chunk = decisions[start : start + self._chunk]
            try:
                statuses = await self._book_all(statement_id, chunk, now)
            except GatewayError as exc:
                _LOGGER.warning("bank chunk failed (%s); booking one by one", exc)
                statuses = [await self._book_alone(statement_id, d, now) for d in chunk]
            for status in statuses:
                if status is None:
                    summary.duplicates += 1
                else:
                    summary.count(status)

    async def _decide(
        self, unit: UnitOfWork, transactions: Sequence[Transaction], today: date
    ) -> list[_Decision]:
        """Match every transaction: one pass of look-ups by reference, one by amount."""
        repo, conn = unit.repo(BankRepository), unit.connection
        wanted_now = wanted(transactions)
        candidates = Candidates()
        candidates.add(await repo.proformas(conn, wanted_now, today))
        candidates.originals = await repo.originals(conn, wanted_now.originals)
        found = {t.key: match(t, candidates) for t in transactions}
        by_name = [
            t
            for t in transactions
            if found[t.key] is None and t.direction is Direction.CREDIT and not t.reversal
        ]
        if by_name:
            candidates.add(await repo.open_by_amount(conn, {t.amount for t in by_name}, today))
            found |= {t.key: match(t, candidates) for t in by_name}
        decisions = []
        for t in transactions:
            hit = found[t.key]
            if hit is None and t.reversal:  # the credit it takes back came in this statement
                hit = match(t, candidates)
            decisions.append(_Decision(t, hit))
            if hit is not None and t.end_to_end_id and not t.reversal:
                candidates.originals[t.end_to_end_id] = hit.account_id
        return decisions

    async def _book_all(
        self, statement_id: int, chunk: Sequence[_Decision], now: datetime
    ) -> list[TransactionStatus | None]:
        async with self._store.transaction() as unit:
            return [await self._book(unit, statement_id, d, now) for d in chunk]

    async def _book_alone(
        self, statement_id: int, decision: _Decision, now: datetime
    ) -> TransactionStatus | None:
        try:
            async with self._store.transaction() as unit:
                return await self._book(unit, statement_id, decision, now)
        except GatewayError as exc:
            _LOGGER.warning("bank transaction %s queued: %s", decision.transaction.key, exc)
            async with self._store.transaction() as unit:
                return await self._record(
                    unit,
                    statement_id,
                    decision.transaction,
                    now,
                    status=TransactionStatus.UNMATCHED,
                    note=f"booking failed: {exc}",
                )

    async def _book(
        self, unit: UnitOfWork, statement_id: int, decision: _Decision, now: datetime
    ) -> TransactionStatus | None:
        """Book one transaction's money and record it; ``None`` if recorded already."""
        t, found = decision.transaction, decision.found
        billing = self._billing.within(unit.repo(BillingRepository))
        document = found.document if found else None
        note = found.by.value if found else ""
        if t.currency != _CURRENCY:
            status, found, note = TransactionStatus.UNMATCHED, None, f"currency {t.currency}"
        elif t.reversal and found is not None:
            reference = document.number if document else t.end_to_end_id
            await billing.reverse_payment(found.account_id, t.amount, reference, key=_key(t))
            status = TransactionStatus.REVERSED
        elif t.reversal:
            status = TransactionStatus.UNMATCHED
            note = "reversal: the credit it takes back is unknown"
        elif t.direction is Direction.DEBIT:
            status = TransactionStatus.DEBIT
        elif found is None or document is None:
            status, note = TransactionStatus.UNMATCHED, "no known reference, no unique customer"
        else:
            result = await billing.record_payment(
                found.account_id, t.amount, document.reference or document.number, key=_key(t)
            )
            status = await _outcome(unit, document, t.amount, result)
        return await self._record(
            unit,
            statement_id,
            t,
            now,
            status=status,
            note=note,
            account_id=found.account_id if found else None,
            document_id=document.id if document and found else None,
        )

    async def _record(
        self,
        unit: UnitOfWork,
        statement_id: int,
        t: Transaction,
        now: datetime,
        *,
        status: TransactionStatus,
        note: str,
        account_id: int | None = None,
        document_id: int | None = None,
    ) -> TransactionStatus | None:
        new = await unit.repo(BankRepository).add_transaction(
            unit.connection,
            statement_id=statement_id,
            key=t.key,
            amount=t.amount,
            currency=t.currency[:3],
            direction=t.direction.value,
            reversal=t.reversal,
            booking_date=t.booking_date,
            name=t.name[:140],
            iban=t.iban[:34],
            structured_reference=t.structured_reference[:35],
            remittance=t.remittance,
            end_to_end_id=t.end_to_end_id[:35],
            status=status.value,
            account_id=account_id,
            document_id=document_id,
            note=note,
            created_at=now,
        )
        return None if new is None else status

    # --- the queue ----------------------------------------------------------------------------
    async def transactions(
        self, status: TransactionStatus | None = None, *, reversal: bool | None = None
    ) -> list[StoredTransaction]:
        """Recorded transactions, newest first (``UNMATCHED``: the queue)."""
        repo = self._store.repo(BankRepository)
        async with repo.transaction() as conn:
            return await repo.recent(conn, status=status, reversal=reversal)

    async def assign(self, transaction_id: int, document_id: int) -> StoredTransaction:
        """A queued payment pays pro-forma ``document_id`` (a reversal: taken back there)."""

        async def book(unit: UnitOfWork, t: StoredTransaction) -> dict[str, object]:
            proforma = await unit.repo(BankRepository).proforma(
                unit.connection, document_id, local_date(self._clock.now())
            )
            await self._move(unit, t, proforma.account_id, proforma.reference or proforma.number)
            status = TransactionStatus.REVERSED if t.reversal else TransactionStatus.ASSIGNED
            return {
                "status": status.value,
                "account_id": proforma.account_id,
                "document_id": proforma.id,
                "note": f"assigned to {proforma.number}",
            }

        return await self._resolve(transaction_id, book)

    async def book_to_account(self, transaction_id: int, account_id: int) -> StoredTransaction:
        """A queued payment goes to ``account_id``'s payment account as credit (or is taken
        back there, for a reversal)."""

        async def book(unit: UnitOfWork, t: StoredTransaction) -> dict[str, object]:
            await self._move(unit, t, account_id, t.structured_reference or t.remittance[:140])
            status = TransactionStatus.REVERSED if t.reversal else TransactionStatus.BOOKED
            return {
                "status": status.value,
                "account_id": account_id,
                "note": f"booked to account {account_id}",
            }

        return await self._resolve(transaction_id, book)

    async def refund(self, transaction_id: int, note: str = "") -> StoredTransaction:
        """A queued payment is sent back to the payer (by the bank; nothing is booked)."""

        async def book(_unit: UnitOfWork, _t: StoredTransaction) -> dict[str, object]:
            return {"status": TransactionStatus.REFUNDED.value, "note": note or "refunded"}

        return await self._resolve(transaction_id, book)

    async def _move(
        self, unit: UnitOfWork, t: StoredTransaction, account_id: int, reference: str
    ) -> None:
        billing = self._billing.within(unit.repo(BillingRepository))
        if t.direction is Direction.DEBIT and not t.reversal:
            raise BankingError(f"bank transaction {t.id} is a debit, not a payment")
        if t.reversal:
            await billing.reverse_payment(account_id, t.amount, reference, key=f"bank:{t.key}")
        else:
            await billing.record_payment(account_id, t.amount, reference, key=f"bank:{t.key}")

    async def _resolve(self, transaction_id: int, book: _Booker) -> StoredTransaction:
        now = self._clock.now()
        async with self._store.transaction() as unit:
            repo, conn = unit.repo(BankRepository), unit.connection
            t = await repo.get(conn, transaction_id)
            if t.status is not TransactionStatus.UNMATCHED:
                raise QueueStateError(f"bank transaction {t.id} is {t.status.value} already")
            values = await book(unit, t)
            if not await repo.resolve(conn, transaction_id, now, **values):
                raise QueueStateError(f"bank transaction {t.id} was resolved meanwhile")
            return await repo.get(conn, transaction_id)
