"""Read-only views of the money core for the back office (the console's payments page):
unsettled pro-formas of all accounts, orders waiting for delivery reservations, one
payment account's journal with balance and overdraft allowance, and the accounts holding
credit that may be paid back."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from cloud_gateway.accounts.schema import accounts
from cloud_gateway.billing.model import StoredDocument, StoredEntry, StoredOrder
from cloud_gateway.billing.rendering.view import DocumentKind
from cloud_gateway.billing.repository import BillingRepository, document_row, order_row
from cloud_gateway.billing.schema import (
    billing_contracts,
    billing_documents,
    billing_journal,
    billing_orders,
    billing_settlements,
)
from cloud_gateway.billing.states import ContractState
from cloud_gateway.store.repository import Repository

__all__ = ["AccountCredit", "AccountLedger", "BackOfficeRepository"]

_D, _O, _S, _J = billing_documents, billing_orders, billing_settlements, billing_journal
_C = billing_contracts


@dataclass(frozen=True, slots=True)
class AccountLedger:
    """A payment account: its journal (oldest first), balance and overdraft allowance."""

    account_id: int
    entries: tuple[StoredEntry, ...]
    balance: int
    overdraft_limit: int


@dataclass(frozen=True, slots=True)
class AccountCredit:
    """An account whose payment account holds credit (a refund may pay it back)."""

    account_id: int
    username: str
    balance: int
    """Cents, > 0."""


class BackOfficeRepository(Repository):
    """What the back office lists; every money move still goes through the services."""

    async def open_proformas(self, *, limit: int = 200) -> list[StoredDocument]:
        """Pro-formas not settled yet, oldest due first; those of cancelled orders are void."""
        settled = sa.select(_S.c.document_id)
        void = sa.select(_C.c.id).where(_C.c.state == ContractState.CANCELLED.value)
        stmt = (
            sa.select(_D)
            .where(
                _D.c.kind == DocumentKind.PROFORMA.value,
                _D.c.id.not_in(settled),
                sa.or_(_D.c.contract_id.is_(None), _D.c.contract_id.not_in(void)),
            )
            .order_by(_D.c.due_date, _D.c.id)
            .limit(limit)
        )
        async with self._db.begin() as conn:
            return [document_row(r._mapping) for r in await conn.execute(stmt)]

    async def orders_with_reservations(self, *, limit: int = 200) -> list[StoredOrder]:
        """Orders with delivery reservations still to be confirmed, oldest first."""
        stmt = sa.select(_O).where(_O.c.open_reservations != "").order_by(_O.c.id).limit(limit)
        async with self._db.begin() as conn:
            return [order_row(r._mapping) for r in await conn.execute(stmt)]

    async def ledger(self, account_id: int) -> AccountLedger:
        """The account's journal, balance and overdraft allowance in one transaction."""
        billing = BillingRepository(self._db)
        async with self._db.begin() as conn:
            return AccountLedger(
                account_id=account_id,
                entries=tuple(await billing.journal(conn, account_id)),
                balance=await billing.balance(conn, account_id),
                overdraft_limit=await billing.overdraft_limit(conn, account_id),
            )

    async def credits(self, *, limit: int = 200) -> list[AccountCredit]:
        """Accounts with a positive balance, the largest first."""
        balance = sa.func.sum(_J.c.amount)
        stmt = (
            sa.select(_J.c.account_id, accounts.c.username, balance.label("balance"))
            .join(accounts, accounts.c.id == _J.c.account_id)
            .group_by(_J.c.account_id, accounts.c.username)
            .having(balance > 0)
            .order_by(balance.desc(), _J.c.account_id)
            .limit(limit)
        )
        async with self._db.connect() as conn:
            return [
                AccountCredit(int(r.account_id), str(r.username), int(r.balance))
                for r in await conn.execute(stmt)
            ]

    async def corrections(self, account_id: int) -> list[tuple[StoredDocument, str | None]]:
        """The account's invoices, newest first, each with the number of the credit note
        correcting it (None: not corrected)."""
        billing = BillingRepository(self._db)
        async with self._db.begin() as conn:
            documents = await billing.documents(conn, account_id=account_id)
        notes = {d.preceding_id: d.number for d in documents if d.kind is DocumentKind.CREDIT_NOTE}
        invoices = [d for d in documents if d.kind is DocumentKind.INVOICE]
        return [(d, notes.get(d.id)) for d in reversed(invoices)]
