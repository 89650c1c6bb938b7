"""cancel_order: an order not started is cancelled with its contracts, once; its pro-formas
are void (money naming them later is credit) and what was settled already goes back as credit.
Both backends."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.billing.catalogue import BookingType
from cloud_gateway.billing.errors import TransitionError
from cloud_gateway.billing.pricing import Buyer
from cloud_gateway.billing.rendering.view import Party
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.repository_backoffice import BackOfficeRepository
from cloud_gateway.billing.schema import billing_documents, billing_journal
from cloud_gateway.billing.service import BillingService, Customer, OrderLine
from cloud_gateway.billing.states import ContractState, OrderState
from cloud_gateway.store import Store
from tunnel.clock import ManualClock

HUB_YEAR = OrderLine(product="hub-remote", plan="12m", booking=BookingType.SINGLE)
HUB_MONTH = OrderLine(product="hub-remote", plan="1m", booking=BookingType.SINGLE)
#: with the delivery reservation "Eingang Bestellformular": paid, it waits (state ``paid``)
SATELLITE = OrderLine(product="satellite-uplink", plan="monthly")


async def _customer(store: Store, clock: ManualClock, name: str) -> Customer:
    account = await store.repo(AccountRepository).create(
        username=name, email=f"{name}@example.org", password_hash="h", created_at=clock.now()
    )
    return Customer(account_id=account.id, party=Party(name=name),
                    buyer=Buyer(business=False, country="DE"))  # fmt: skip


async def _journal(store: Store, account_id: int) -> list[tuple[str, int]]:
    j = billing_journal
    async with store.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(j.c.kind, j.c.amount).where(j.c.account_id == account_id).order_by(j.c.id)
        )
        return [(str(k), int(a)) for k, a in rows]


async def _states(store: Store, order_id: int) -> tuple[OrderState, set[ContractState]]:
    repo = store.repo(BillingRepository)
    async with repo.transaction() as conn:
        order = await repo.order(conn, order_id)
        contracts = await repo.contracts(conn, order_id=order_id)
    return order.state, {c.state for c in contracts}


async def _documents(store: Store) -> list[tuple[int, str, str]]:
    """Every document's id, number and hash: none may change."""
    d = billing_documents
    async with store.engine.connect() as conn:
        rows = await conn.execute(sa.select(d.c.id, d.c.number, d.c.sha256).order_by(d.c.id))
        return [(int(i), str(n), str(h)) for i, n, h in rows]


async def test_a_half_paid_order_is_cancelled_once_and_its_money_stays_as_credit(
    checked_store: Store, billing: BillingService, billing_clock: ManualClock
) -> None:
    anna = await _customer(checked_store, billing_clock, "anna")
    placed = await billing.place_order(anna, [HUB_YEAR, HUB_MONTH], key="order")
    order_id = int(placed["order_id"])
    year, month = await billing.open_proformas(order_id)
    await billing.record_payment(
        anna.account_id, year.gross, year.payment_reference or "", key="pay-year"
    )
    assert await billing.order_state(order_id) is OrderState.CONFIRMED  # one line still open
    documents = await _documents(checked_store)

    first = await billing.cancel_order(order_id, key="cancel")
    again = await billing.cancel_order(order_id, key="cancel")

    assert first == again
    assert first["credited"] == year.gross
    assert await _states(checked_store, order_id) == (
        OrderState.CANCELLED,
        {ContractState.CANCELLED},
    )
    assert await billing.open_proformas(order_id) == []
    back = await checked_store.repo(BackOfficeRepository).open_proformas()
    assert month.id not in {d.id for d in back}
    assert await _documents(checked_store) == documents  # nothing finalised changed or added

    # the void pro-forma's money comes anyway: it settles nothing, starts nothing
    late = await billing.record_payment(
        anna.account_id, month.gross, month.payment_reference or "", key="pay-month"
    )
    assert (late["settled_document_id"], late["activated"]) == (None, False)
    assert await _journal(checked_store, anna.account_id) == [
        ("payment", year.gross),
        ("charge", -year.gross),
        ("credit", year.gross),
        ("payment", month.gross),
    ]
    repo = checked_store.repo(BillingRepository)
    async with repo.transaction() as conn:
        assert await repo.balance(conn, anna.account_id) == year.gross + month.gross
    assert await _documents(checked_store) == documents  # no invoice


async def test_a_paid_order_waiting_for_delivery_can_be_cancelled_a_started_one_not(
    checked_store: Store, billing: BillingService, billing_clock: ManualClock
) -> None:
    bert = await _customer(checked_store, billing_clock, "bert")
    waiting = int((await billing.place_order(bert, [SATELLITE], key="sat"))["order_id"])
    [proforma] = await billing.open_proformas(waiting)
    await billing.pay_order(waiting, proforma.gross, "capture-1", key="capture-1")
    assert await billing.order_state(waiting) is OrderState.PAID

    cancelled = await billing.cancel_order(waiting, key="cancel-sat")

    assert cancelled["credited"] == proforma.gross
    assert await _states(checked_store, waiting) == (
        OrderState.CANCELLED,
        {ContractState.CANCELLED},
    )
    with pytest.raises(TransitionError):  # cancelled is final: another key is refused
        await billing.cancel_order(waiting, key="cancel-sat-2")

    started = int((await billing.place_order(bert, [HUB_MONTH], key="hub"))["order_id"])
    [hub] = await billing.open_proformas(started)
    await billing.pay_order(started, hub.gross, "capture-2", key="capture-2")
    assert await billing.order_state(started) is OrderState.ACTIVE
    with pytest.raises(TransitionError):
        await billing.cancel_order(started, key="cancel-hub")
    assert await _states(checked_store, started) == (OrderState.ACTIVE, {ContractState.ACTIVE})
