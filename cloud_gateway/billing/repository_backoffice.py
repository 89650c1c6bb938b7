"""Read-only views of the money core for the back office (the console's payments page):
unsettled pro-formas of all accounts, orders waiting for delivery reservations, and one
payment account's journal with balance and overdraft allowance."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from cloud_gateway.billing.model import StoredDocument, StoredEntry, StoredOrder
from cloud_gateway.billing.rendering.view import DocumentKind
from cloud_gateway.billing.repository import BillingRepository, document_row, order_row
from cloud_gateway.billing.schema import billing_documents, billing_orders, billing_settlements
from cloud_gateway.store.repository import Repository

__all__ = ["AccountLedger", "BackOfficeRepository"]

_D, _O, _S = billing_documents, billing_orders, billing_settlements


@dataclass(frozen=True, slots=True)
class AccountLedger:
    """A payment account: its journal (oldest first), balance and overdraft allowance."""

    account_id: int
    entries: tuple[StoredEntry, ...]
    balance: int
    overdraft_limit: int


class BackOfficeRepository(Repository):
    """What the back office lists; every money move still goes through the services."""

    async def open_proformas(self, *, limit: int = 200) -> list[StoredDocument]:
        """Pro-formas not settled yet, oldest due first."""
        settled = sa.select(_S.c.document_id)
        stmt = (
            sa.select(_D)
            .where(_D.c.kind == DocumentKind.PROFORMA.value, _D.c.id.not_in(settled))
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
