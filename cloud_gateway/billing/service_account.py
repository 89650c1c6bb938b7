"""The payment account's side of the billing service: payments in, settlements, credits,
refunds, reversals and overdraft limits (an append-only journal per customer)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from cloud_gateway.billing.documents import (
    view_from_canonical,
)
from cloud_gateway.billing.errors import (
    BillingError,
    OverdraftError,
)
from cloud_gateway.billing.journal import EntryKind, can_charge, signed
from cloud_gateway.billing.model import StoredContract, StoredDocument
from cloud_gateway.billing.payments_bulk import Payment, book_payments
from cloud_gateway.billing.periods import local_date
from cloud_gateway.billing.rendering.view import DocumentKind
from cloud_gateway.billing.service_core import SERVICE_ITEM, BillingCore
from cloud_gateway.billing.states import (
    ContractState,
    OrderEvent,
    OrderState,
    advance,
)

__all__ = ["AccountOps"]


class AccountOps(BillingCore):
    """Money received and paid back; pro-formas settled from the payment account."""

    async def record_payment(
        self, account_id: int, amount: int, reference: str, *, key: str
    ) -> dict[str, Any]:
        """Book money received; settle the pro-forma it names if still valid (else credit)."""

        async def action(conn: AsyncConnection, now: datetime) -> dict[str, Any]:
            await self._repo.lock_account(conn, account_id)
            entry = await self._repo.append(
                conn,
                account_id=account_id,
                kind=EntryKind.PAYMENT.value,
                amount=signed(EntryKind.PAYMENT, amount),
                source_key=key,
                reference=reference,
                created_at=now,
            )
            document = await self._repo.document_by_reference(
                conn, reference.replace(" ", "").upper()
            )
            settled = None
            activated = False
            if document is not None and document.kind is DocumentKind.PROFORMA:
                settled = await self._settle(conn, document, now, allow_overdraft=False)
            if settled is not None and document is not None and document.period == 0:
                [contract] = await self._repo.contracts(conn, ids=[document.contract_id or 0])
                order = await self._repo.order(conn, contract.order_id)
                activated = order.state is OrderState.ACTIVE
            return {
                "journal_id": entry,
                "settled_document_id": settled,
                "activated": activated,
                "account_id": account_id,
            }

        result = await self._once(key, "record_payment", action)
        await self._after_own_commit(result)
        return result

    async def record_payments(self, payments: Sequence[Payment]) -> list[dict[str, Any]]:
        """:meth:`record_payment` for a batch, in one transaction with a few statements in all
        (a bank statement); same keys, rules and results (see :mod:`.payments_bulk`)."""
        return await book_payments(self, self._repo, payments, self._clock.now())

    async def credit(
        self, account_id: int, amount: int, reference: str, *, key: str
    ) -> dict[str, Any]:
        """Credit ``amount`` cents to the payment account (e.g. the remaining value of a
        licence that ended early, R-MON-14); the same ``key`` credits once."""
        if amount <= 0:
            raise BillingError(f"a credit must be positive, not {amount}")

        async def action(conn: AsyncConnection, now: datetime) -> dict[str, Any]:
            return await self._journal_entry(
                conn, EntryKind.CREDIT, account_id, amount, reference, key=key, now=now
            )

        return await self._once(key, "credit", action)

    async def settle_from_account(self, document_id: int, *, key: str) -> dict[str, Any]:
        """Settle a pro-forma from the payment account, within its overdraft limit (R-BIL-11)."""

        async def action(conn: AsyncConnection, now: datetime) -> dict[str, Any]:
            document = await self._repo.document(conn, document_id)
            settled = await self._settle(conn, document, now, allow_overdraft=True)
            if settled is None:
                raise BillingError(f"pro-forma {document.number} cannot be settled")
            return {"settled_document_id": settled}

        return await self._once(key, "settle_from_account", action)

    async def refund(
        self, account_id: int, amount: int, reference: str, *, key: str
    ) -> dict[str, Any]:
        """Pay credit back to the customer; only from a positive balance, never into overdraft."""

        async def action(conn: AsyncConnection, now: datetime) -> dict[str, Any]:
            await self._repo.lock_account(conn, account_id)
            balance = await self._repo.balance(conn, account_id)
            if not can_charge(balance, 0, amount):
                raise OverdraftError(f"account {account_id}: refund {amount} > balance {balance}")
            return await self._journal_entry(
                conn, EntryKind.REFUND, account_id, amount, reference, key=key, now=now
            )

        return await self._once(key, "refund", action)

    async def reverse_payment(
        self, account_id: int, amount: int, reference: str, *, key: str
    ) -> dict[str, Any]:
        """Take back money the bank reversed or returned; the balance may go below zero.

        Settled documents stay settled (they are final): a negative balance is what the
        customer owes, shown on the account and evened out by the next payment.
        """

        async def action(conn: AsyncConnection, now: datetime) -> dict[str, Any]:
            return await self._journal_entry(
                conn, EntryKind.REVERSAL, account_id, amount, reference, key=key, now=now
            )

        return await self._once(key, "reverse_payment", action)

    async def _journal_entry(
        self,
        conn: AsyncConnection,
        kind: EntryKind,
        account_id: int,
        amount: int,
        reference: str,
        *,
        key: str,
        now: datetime,
    ) -> dict[str, Any]:
        """One journal entry of ``kind`` under the account's lock (re-entrant in the
        transaction: a caller that checked the balance holds it already)."""
        await self._repo.lock_account(conn, account_id)
        entry = await self._repo.append(
            conn,
            account_id=account_id,
            kind=kind.value,
            amount=signed(kind, amount),
            source_key=key,
            reference=reference,
            created_at=now,
        )
        return {"journal_id": entry}

    async def set_overdraft_limit(self, account_id: int, limit: int, *, key: str) -> dict[str, Any]:
        """The operator allows the account to go down to ``-limit`` cents."""

        async def action(conn: AsyncConnection, now: datetime) -> dict[str, Any]:
            entry = await self._repo.append(
                conn,
                account_id=account_id,
                kind=EntryKind.OVERDRAFT_LIMIT.value,
                amount=0,
                overdraft_limit=limit,
                source_key=key,
                created_at=now,
            )
            return {"journal_id": entry}

        return await self._once(key, "set_overdraft_limit", action)

    async def _first_proformas(
        self,
        conn: AsyncConnection,
        order_id: int,
        contracts: Sequence[StoredContract] | None = None,
    ) -> list[StoredDocument]:
        """The order's own pro-formas (period 0, one per line): paying the order settles them.

        ``contracts``: the order's contracts when the caller has read them already.
        """
        if contracts is None:
            contracts = await self._repo.contracts(conn, order_id=order_id)
        return [
            d
            for contract in contracts
            for d in await self._repo.documents(conn, contract_id=contract.id)
            if d.kind is DocumentKind.PROFORMA and d.period == 0
        ]

    async def _settle(
        self,
        conn: AsyncConnection,
        proforma: StoredDocument,
        now: datetime,
        *,
        allow_overdraft: bool,
        order_rows: tuple[Sequence[StoredContract], Sequence[StoredDocument]] | None = None,
    ) -> int | None:
        """Charge a valid, unpaid pro-forma to the account; ``None`` if it cannot be.

        ``order_rows``: the contracts and period-0 pro-formas of the pro-forma's order, read by
        the caller in this transaction before any of them changed (read here otherwise).
        """
        service = proforma.item_kind == SERVICE_ITEM and proforma.contract_id is None
        if proforma.kind is not DocumentKind.PROFORMA or (
            proforma.contract_id is None and not service
        ):
            return None
        await self._repo.lock_account(conn, proforma.account_id)
        if await self._repo.is_settled(conn, proforma.id):
            return None
        if proforma.due_date is not None and local_date(now) > proforma.due_date:
            return None  # expired (R-BIL-9): the money stays on the account as credit
        if proforma.contract_id is not None:
            known = [c for c in (order_rows or ((), ()))[0] if c.id == proforma.contract_id]
            [contract] = known or await self._repo.contracts(conn, ids=[proforma.contract_id])
            if contract.state in (ContractState.ENDED, ContractState.CANCELLED):
                return None
        balance = await self._repo.balance(conn, proforma.account_id)
        limit = (
            await self._repo.overdraft_limit(conn, proforma.account_id) if allow_overdraft else 0
        )
        if not can_charge(balance, limit, proforma.gross):
            if allow_overdraft:
                raise OverdraftError(f"account {proforma.account_id}: limit {limit} exceeded")
            return None
        entry = await self._repo.append(
            conn,
            account_id=proforma.account_id,
            kind=EntryKind.CHARGE.value,
            amount=signed(EntryKind.CHARGE, proforma.gross),
            source_key=f"settle:{proforma.id}",
            document_id=proforma.id,
            reference=proforma.number,
            created_at=now,
        )
        if entry is None:  # settled meanwhile by a concurrent call
            return None
        await self._repo.settle(conn, proforma.id, entry, now)
        if proforma.contract_id is None:  # a service pro-forma: no periods, no order
            return proforma.id
        view = view_from_canonical(proforma.canonical.encode())
        periods = int(view.lines[-1].quantity)  # the plan's line comes last (run._draft)
        await self._repo.add_paid_periods(conn, contract.id, periods)
        if proforma.period == 0:
            order = await self._repo.order(conn, contract.order_id)
            siblings = (
                order_rows[1]
                if order_rows is not None and any(d.id == proforma.id for d in order_rows[1])
                else await self._first_proformas(conn, order.id)
            )
            if order.state in (OrderState.PLACED, OrderState.CONFIRMED) and not [
                d for d in siblings if not await self._repo.is_settled(conn, d.id)
            ]:  # paid only when every line's pro-forma is settled (#12)
                new = advance(order.state, OrderEvent.PAID)
                await self._repo.set_order(conn, order.id, state=new.value)
                order = dataclasses.replace(order, state=new)  # as stored now
            # the start moves until payment (R-BIL-9); shop products start on payment (#12)
            await self._activate_ready(conn, order.id, now, order=order)
        else:
            await self._service_windows(conn, contract_ids=[contract.id], now=now)
            if contract.state is ContractState.ACTIVE:  # a paid renewal opens its window
                await self._activation.open_window(conn, contract, proforma.period or 0, now)
        return proforma.id
