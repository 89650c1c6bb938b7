"""Many payments booked in one transaction with a few statements each (a bank statement).

:meth:`BillingService.record_payments` is :meth:`BillingService.record_payment` for a whole
batch: the same idempotency keys (operation ``record_payment``, so a retry of either answers
the other), the same journal lines (``PAYMENT`` under the key, ``CHARGE`` under
``settle:<document>``), the same settlement rules (not settled, not expired, contract not
ended, the balance covers the total) and the same results. It reads everything it decides on
in one pass (documents by reference, contracts, orders, settlements, balances), plans the
batch in memory (:func:`plan_payments`, pure) and writes each kind of row in one statement.

A payment whose settlement starts something (the order becomes ready, or a later period of a
running contract is paid) is handed to :meth:`BillingService.record_payment` itself, in the
same transaction, so whatever that path does on payment stays in one place; so is every later
payment of the same account in the batch. Should a racer book one of the batch's keys
meanwhile, :class:`~cloud_gateway.errors.ConflictError` rolls the batch back and the caller
books its payments one by one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from cloud_gateway.billing.errors import IdempotencyError
from cloud_gateway.billing.journal import EntryKind, can_charge, signed
from cloud_gateway.billing.model import StoredContract, StoredDocument, StoredOrder
from cloud_gateway.billing.rendering.view import DocumentKind
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.repository_bulk import BillingBulkRepository
from cloud_gateway.billing.states import ContractState, OrderEvent, OrderState, advance
from cloud_gateway.errors import ConflictError
from cloud_gateway.localdays import local_date
from cloud_gateway.store.database import BoundConnection

if TYPE_CHECKING:
    from cloud_gateway.billing.service_account import AccountOps

__all__ = ["Payment", "PaymentPlan", "book_payments", "plan_payments"]

_OPERATION = "record_payment"


@dataclass(frozen=True, slots=True, kw_only=True)
class Payment:
    """Money received for an account (the arguments of ``record_payment``)."""

    account_id: int
    #: positive cents
    amount: int
    #: what the payer wrote; a pro-forma's creditor reference settles it
    reference: str
    key: str


@dataclass(slots=True)
class PaymentPlan:
    """What a batch writes, decided in memory."""

    #: journal lines: each payment, then each settlement's charge
    journal: list[dict[str, Any]] = field(default_factory=list)
    #: payment key -> the pro-forma it settles
    settles: dict[str, int] = field(default_factory=dict)
    #: document id -> source key of its charge
    charges: dict[int, str] = field(default_factory=dict)
    paid_periods: dict[int, int] = field(default_factory=dict)
    order_states: dict[int, str] = field(default_factory=dict)
    #: payments for ``record_payment`` itself (their settlement starts something)
    single: list[Payment] = field(default_factory=list)


def _normal(reference: str) -> str:
    return reference.replace(" ", "").upper()


def _periods(document: StoredDocument) -> int:
    """The periods a pro-forma pays (the plan's line comes last, see ``run._draft``).

    Read from the canonical JSON directly: the same field ``view_from_canonical`` reads, without
    building the whole view (a statement settles thousands).
    """
    return int(Decimal(json.loads(document.canonical)["lines"][-1]["quantity"]))


def plan_payments(
    payments: Sequence[Payment],
    *,
    documents: Mapping[str, StoredDocument],
    contracts: Mapping[int, StoredContract],
    orders: Mapping[int, StoredOrder],
    lines: Mapping[int, int],
    settled: set[int],
    balances: Mapping[int, int],
    today: date,
    now: datetime,
) -> PaymentPlan:
    """Decide each payment in order, with the balances as they move (pure).

    ``lines`` counts each order's period-0 pro-formas: an order of several lines is paid only
    when all of them are settled, which the full path (``record_payment``) decides.
    """
    plan = PaymentPlan()
    balance = dict(balances)
    handed_on: set[int] = set()
    for p in payments:
        if p.account_id in handed_on:
            plan.single.append(p)
            continue
        document = documents.get(_normal(p.reference))
        if document is not None and document.account_id != p.account_id:
            plan.single.append(p)  # money for another customer's document: the full path
            handed_on.update((p.account_id, document.account_id))
            continue
        contract = contracts.get(document.contract_id or 0) if document else None
        after = balance.get(p.account_id, 0) + p.amount
        settles = (
            document is not None
            and contract is not None
            and document.kind is DocumentKind.PROFORMA
            and document.id not in settled
            and not (document.due_date is not None and today > document.due_date)
            and contract.state not in (ContractState.ENDED, ContractState.CANCELLED)
            and can_charge(after, 0, document.gross)
        )
        charge: dict[str, Any] | None = None
        if settles and document is not None and contract is not None:
            order = orders[contract.order_id]
            if (
                document.period != 0
                or order.state is not OrderState.PLACED
                or lines.get(order.id, 1) > 1  # paid only with its other lines' pro-formas
            ):
                plan.single.append(p)  # the settlement starts something: the full path
                handed_on.add(p.account_id)
                continue
            plan.settles[p.key] = document.id
            plan.charges[document.id] = f"settle:{document.id}"
            plan.paid_periods[contract.id] = plan.paid_periods.get(contract.id, 0) + _periods(
                document
            )
            plan.order_states[order.id] = advance(order.state, OrderEvent.PAID).value
            settled.add(document.id)
            after -= document.gross
            charge = {
                "account_id": p.account_id, "kind": EntryKind.CHARGE.value,
                "amount": signed(EntryKind.CHARGE, document.gross),
                "source_key": plan.charges[document.id], "document_id": document.id,
                "reference": document.number, "created_at": now,
            }  # fmt: skip
        balance[p.account_id] = after
        plan.journal.append(
            {"account_id": p.account_id, "kind": EntryKind.PAYMENT.value,
             "amount": signed(EntryKind.PAYMENT, p.amount), "source_key": p.key,
             "document_id": None, "reference": p.reference[:140], "created_at": now}
        )  # fmt: skip
        if charge is not None:
            plan.journal.append(charge)
    return plan


async def book_payments(
    service: AccountOps,
    repo: BillingRepository,
    payments: Sequence[Payment],
    now: datetime,
) -> list[dict[str, Any]]:
    """Book ``payments`` in one transaction; each one's ``record_payment`` result, in order."""
    async with repo.transaction() as conn:
        bulk = BillingBulkRepository(BoundConnection(conn))
        await bulk.lock_accounts(conn, {p.account_id for p in payments})
        prior = await bulk.claims(conn, [p.key for p in payments])
        for key, (operation, _result) in prior.items():
            if operation != _OPERATION:
                raise IdempotencyError(f"key {key!r} was used for {operation}")
        fresh: dict[str, Payment] = {}
        repeated: list[Payment] = []
        for p in payments:
            if p.key in fresh:
                repeated.append(p)  # the same key twice: the second gets the first's result
            elif p.key not in prior:
                fresh[p.key] = p
        documents = await bulk.documents_by_reference(
            conn, {_normal(p.reference) for p in fresh.values()}
        )
        contract_ids = [d.contract_id for d in documents.values() if d.contract_id is not None]
        contracts = {c.id: c for c in await repo.contracts(conn, ids=contract_ids)}
        order_ids = {c.order_id for c in contracts.values()}
        plan = plan_payments(
            list(fresh.values()),
            documents=documents,
            contracts=contracts,
            orders=await bulk.orders(conn, order_ids),
            lines=await bulk.first_proforma_counts(conn, order_ids),
            settled=await bulk.settled(conn, [d.id for d in documents.values()]),
            balances=await bulk.balances(conn, {p.account_id for p in fresh.values()}),
            today=local_date(now),
            now=now,
        )
        ids = await bulk.append_all(conn, plan.journal)
        if len(ids) != len(plan.journal):
            raise ConflictError("payments of this batch were booked meanwhile")
        await bulk.settle_all(
            conn,
            [{"document_id": d, "journal_id": ids[key]} for d, key in plan.charges.items()],
            now,
        )
        await bulk.add_paid_periods_all(conn, plan.paid_periods)
        await bulk.set_order_states(conn, plan.order_states)
        single_keys = {p.key for p in plan.single}
        results: dict[str, dict[str, Any]] = {
            key: {"journal_id": ids[key], "settled_document_id": plan.settles.get(key)}
            for key in fresh
            if key not in single_keys
        }
        claimed = await bulk.claim_all(
            conn, _OPERATION, {k: json.dumps(r, sort_keys=True) for k, r in results.items()}, now
        )
        if claimed != len(results):
            raise ConflictError("payments of this batch were claimed meanwhile")
        bound = service.within(BillingRepository(BoundConnection(conn)))
        for p in [*plan.single, *repeated]:
            results[p.key] = await bound.record_payment(
                p.account_id, p.amount, p.reference, key=p.key
            )
    results |= {key: json.loads(result) for key, (_op, result) in prior.items()}
    return [results[p.key] for p in payments]
