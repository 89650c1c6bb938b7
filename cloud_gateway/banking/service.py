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
from cloud_gateway.banking.errors import BankingError, QueueStateError, StatementError
from cloud_gateway.banking.matching import Candidates, Match, match, wanted
from cloud_gateway.banking.model import (
    Direction,
    ImportSummary,
    Statement,
    StoredTransaction,
    Transaction,
    TransactionStatus,
)
from cloud_gateway.banking.repository import BankRepository
from cloud_gateway.billing.payments_bulk import Payment
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.repository_bulk import BillingBulkRepository
from cloud_gateway.billing.service import BillingService
from cloud_gateway.errors import GatewayError, StateError
from cloud_gateway.localdays import local_date
from cloud_gateway.store import Store, UnitOfWork
from cloud_gateway.store.database import BoundConnection
from tunnel.clock import Clock

__all__ = ["BankService"]

_LOGGER = logging.getLogger(__name__)
#: transactions booked per database transaction: on SQLite a writing transaction holds the one
#: write lock (checkouts wait for it), on PostgreSQL only the rows of its accounts
CHUNK = 500
CHUNK_POSTGRESQL = 2000
_CURRENCY = "EUR"
_Booker = Callable[["UnitOfWork", StoredTransaction], Awaitable[dict[str, object]]]


@dataclass(frozen=True, slots=True)
class _Decision:
    transaction: Transaction
    found: Match | None


@dataclass(frozen=True, slots=True)
class _Outcome:
    status: TransactionStatus
    note: str
    account_id: int | None = None
    document_id: int | None = None


def _key(transaction: Transaction) -> str:
    return f"bank:{transaction.key}"


def _pays_document(decision: _Decision) -> bool:
    """A credit in euros matched to a pro-forma: booked through the batch."""
    t = decision.transaction
    return (
        t.currency == _CURRENCY
        and t.direction is Direction.CREDIT
        and not t.reversal
        and decision.found is not None
        and decision.found.document is not None
    )


def _payment(decision: _Decision) -> Payment:
    found = decision.found
    document = found.document if found else None
    if found is None or document is None:
        raise StateError("only a credit matched to a pro-forma is a payment")
    return Payment(
        account_id=found.account_id,
        amount=decision.transaction.amount,
        reference=document.reference or document.number,
        key=_key(decision.transaction),
    )


def _credit_outcome(decision: _Decision, result: dict[str, Any], open_before: set[int]) -> _Outcome:
    """A credit's outcome from the money core's answer."""
    found = decision.found
    document = found.document if found else None
    if found is None or document is None:
        raise StateError("only a credit matched to a pro-forma has a credit outcome")
    if result.get("settled_document_id") is not None:
        more = decision.transaction.amount > document.gross
        status = TransactionStatus.SURPLUS if more else TransactionStatus.MATCHED
    elif document.id in open_before:
        status = TransactionStatus.PARTIAL  # credit until the rest arrives
    else:
        status = TransactionStatus.LATE  # expired, ended or paid already: credit
    return _Outcome(status, found.by.value, found.account_id, document.id)


def _row(statement_id: int, t: Transaction, outcome: _Outcome, now: datetime) -> dict[str, Any]:
    return {
        "statement_id": statement_id, "key": t.key, "amount": t.amount,
        "currency": t.currency[:3], "direction": t.direction.value, "reversal": t.reversal,
        "booking_date": t.booking_date, "name": t.name[:140], "iban": t.iban[:34],
        "structured_reference": t.structured_reference[:35], "remittance": t.remittance,
        "end_to_end_id": t.end_to_end_id[:35], "status": outcome.status.value,
        "account_id": outcome.account_id, "document_id": outcome.document_id,
        "note": outcome.note, "created_at": now,
    }  # fmt: skip


class BankService:
    """Statement import, matching and the queue of unmatched payments."""

    def __init__(
        self,
        store: Store,
        billing: BillingService,
        clock: Clock,
        *,
        iban: str | None = None,
        chunk: int | None = None,
    ) -> None:
        self._store = store
        self._billing = billing
        self._clock = clock
        #: the seller's account: a statement of another account is refused (None: any)
        self._iban = iban.replace(" ", "").upper() if iban else None
        postgresql = store.engine.dialect.name == "postgresql"
        self._chunk = chunk or (CHUNK_POSTGRESQL if postgresql else CHUNK)

    # --- import -------------------------------------------------------------------------------
    async def import_statement(self, data: bytes, file: str) -> ImportSummary:
        """Validate, read, match and book a camt.053 file; the counts of what happened.

        Raises :class:`~cloud_gateway.banking.errors.StatementError` (nothing booked) for a file
        that is not a valid camt.053.001.02 or .08 statement.
        """
        statements = await asyncio.to_thread(read_statements, data, file)
        for statement in statements:
            if self._iban is not None and statement.iban.upper() != self._iban:
                raise StatementError(
                    file, f"the statement is for account {statement.iban}, not the seller's"
                )
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
        """Book a chunk in one transaction: its credits for pro-formas in one batch."""
        async with self._store.transaction() as unit:
            billing = self._billing.within(unit.repo(BillingRepository))
            credits = [d for d in chunk if _pays_document(d)]
            results = await billing.record_payments([_payment(d) for d in credits])
            open_before = await self._still_open(unit, credits, results)
            outcomes = dict(zip((d.transaction.key for d in credits), results, strict=True))
            rows = []
            for decision in chunk:
                result = outcomes.get(decision.transaction.key)
                if result is None:
                    outcome = await self._move(unit, decision)
                else:
                    outcome = _credit_outcome(decision, result, open_before)
                rows.append(_row(statement_id, decision.transaction, outcome, now))
            recorded = await unit.repo(BankRepository).add_transactions(unit.connection, rows)
        for result in results:  # committed now: listeners read the new windows
            await self._billing.after_commit(result)
        return [
            TransactionStatus(row["status"]) if row["key"] in recorded else None for row in rows
        ]

    async def _still_open(
        self, unit: UnitOfWork, credits: Sequence[_Decision], results: Sequence[dict[str, Any]]
    ) -> set[int]:
        """Pro-formas of unsettling credits that were open and are not settled (partial)."""
        waiting = {
            d.found.document.id
            for d, r in zip(credits, results, strict=True)
            if d.found and d.found.document and d.found.document.open
            and r.get("settled_document_id") is None
        }  # fmt: skip
        bulk = BillingBulkRepository(BoundConnection(unit.connection))
        return waiting - await bulk.settled(unit.connection, waiting)

    async def _book_alone(
        self, statement_id: int, decision: _Decision, now: datetime
    ) -> TransactionStatus | None:
        """One transaction in its own database transaction; queued with the reason if it fails."""
        try:
            async with self._store.transaction() as unit:
                if _pays_document(decision):
                    billing = self._billing.within(unit.repo(BillingRepository))
                    [result] = await billing.record_payments([_payment(decision)])
                    open_before = await self._still_open(unit, [decision], [result])
                    outcome = _credit_outcome(decision, result, open_before)
                else:
                    outcome = await self._move(unit, decision)
                row = _row(statement_id, decision.transaction, outcome, now)
                recorded = await unit.repo(BankRepository).add_transactions(unit.connection, [row])
            if _pays_document(decision):
                await self._billing.after_commit(result)
        except GatewayError as exc:
            _LOGGER.warning("bank transaction %s queued: %s", decision.transaction.key, exc)
            failed = _Outcome(TransactionStatus.UNMATCHED, f"booking failed: {exc}")
            row = _row(statement_id, decision.transaction, failed, now)
            async with self._store.transaction() as unit:
                recorded = await unit.repo(BankRepository).add_transactions(unit.connection, [row])
        return TransactionStatus(row["status"]) if row["key"] in recorded else None

    async def _move(self, unit: UnitOfWork, decision: _Decision) -> _Outcome:
        """Everything but a credit for a pro-forma: reversals, debits, the queue."""
        t, found = decision.transaction, decision.found
        billing = self._billing.within(unit.repo(BillingRepository))
        if t.currency != _CURRENCY:
            return _Outcome(TransactionStatus.UNMATCHED, f"currency {t.currency}")
        if t.reversal and found is not None:
            document = found.document
            reference = document.number if document else t.end_to_end_id
            await billing.reverse_payment(found.account_id, t.amount, reference, key=_key(t))
            return _Outcome(
                TransactionStatus.REVERSED, found.by.value, found.account_id,
                document.id if document else None,
            )  # fmt: skip
        if t.reversal:
            return _Outcome(
                TransactionStatus.UNMATCHED, "reversal: the credit it takes back is unknown"
            )
        if t.direction is Direction.DEBIT:
            return _Outcome(TransactionStatus.DEBIT, "")
        return _Outcome(TransactionStatus.UNMATCHED, "no known reference, no unique customer")

    # --- the queue ----------------------------------------------------------------------------
    async def transactions(
        self,
        status: TransactionStatus | None = None,
        *,
        reversal: bool | None = None,
        limit: int = 200,
    ) -> list[StoredTransaction]:
        """Recorded transactions, newest first (``UNMATCHED``: the queue)."""
        repo = self._store.repo(BankRepository)
        async with repo.transaction() as conn:
            return await repo.recent(conn, status=status, reversal=reversal, limit=limit)

    async def assign(self, transaction_id: int, document_id: int) -> StoredTransaction:
        """A queued payment pays pro-forma ``document_id`` (a reversal: taken back there)."""

        async def book(unit: UnitOfWork, t: StoredTransaction) -> dict[str, object]:
            proforma = await unit.repo(BankRepository).proforma(
                unit.connection, document_id, local_date(self._clock.now())
            )
            await self._book_queued(
                unit, t, proforma.account_id, proforma.reference or proforma.number
            )
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
            await self._book_queued(
                unit, t, account_id, t.structured_reference or t.remittance[:140]
            )
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

    async def _book_queued(
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
