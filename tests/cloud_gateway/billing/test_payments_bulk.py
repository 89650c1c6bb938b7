"""record_payments: a batch books exactly what record_payment would, once, on both backends."""

from __future__ import annotations

import sqlalchemy as sa

from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.billing.catalogue import BookingType
from cloud_gateway.billing.payments_bulk import Payment
from cloud_gateway.billing.pricing import Buyer
from cloud_gateway.billing.rendering.view import Party
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.repository_bulk import BillingBulkRepository
from cloud_gateway.billing.schema import billing_journal, billing_settlements
from cloud_gateway.billing.service import BillingService, Customer, OrderLine
from cloud_gateway.billing.states import OrderState
from cloud_gateway.store import Store
from tunnel.clock import ManualClock

SATELLITE = OrderLine(product="satellite-uplink", plan="monthly")
HUB = OrderLine(product="hub-remote", plan="12m", booking=BookingType.SINGLE)
GROSS = 215152  # setup fee and three months, seed 004


async def _customer(store: Store, clock: ManualClock, name: str) -> Customer:
    account = await store.repo(AccountRepository).create(
        username=name, email=f"{name}@example.org", password_hash="h", created_at=clock.now()
    )
    return Customer(account_id=account.id, party=Party(name=name),
                    buyer=Buyer(business=False, country="DE"))  # fmt: skip


async def _rows(store: Store) -> tuple[list[tuple[int, str, int, str]], int]:
    async with store.engine.connect() as conn:
        journal = [
            (int(a), str(k), int(m), str(s))
            for a, k, m, s in await conn.execute(
                sa.select(billing_journal.c.account_id, billing_journal.c.kind,
                          billing_journal.c.amount, billing_journal.c.source_key)
                .order_by(billing_journal.c.id)
            )
        ]  # fmt: skip
        settled = await conn.scalar(sa.select(sa.func.count()).select_from(billing_settlements))
    return journal, int(settled or 0)


async def test_a_batch_settles_like_single_payments_and_books_nothing_twice(
    checked_store: Store, billing: BillingService, billing_clock: ManualClock
) -> None:
    anna = await _customer(checked_store, billing_clock, "anna")
    bert = await _customer(checked_store, billing_clock, "bert")
    cleo = await _customer(checked_store, billing_clock, "cleo")
    placed = {c.account_id: await billing.place_order(c, [SATELLITE], key=f"o{c.account_id}")
              for c in (anna, bert)}  # fmt: skip
    hub = await billing.place_order(cleo, [HUB], key="o-hub")
    repo = checked_store.repo(BillingRepository)
    async with repo.transaction() as conn:
        docs = {d.account_id: d for d in await repo.documents(conn)}
    ref = {a: docs[a].payment_reference or "" for a in docs}
    batch = [
        Payment(account_id=anna.account_id, amount=GROSS + 500, reference=ref[anna.account_id],
                key="a"),  # surplus: settles, 5.00 stay
        Payment(account_id=bert.account_id, amount=100000, reference=ref[bert.account_id],
                key="b1"),  # partial: nothing settled yet
        Payment(account_id=bert.account_id, amount=GROSS - 100000, reference=ref[bert.account_id],
                key="b2"),  # the rest: now it settles
        Payment(account_id=cleo.account_id, amount=docs[cleo.account_id].gross,
                reference=ref[cleo.account_id], key="c"),  # starts the order: record_payment
        Payment(account_id=anna.account_id, amount=700, reference="Spende", key="a2"),
    ]  # fmt: skip
    results = await billing.record_payments(batch)

    settled = [r["settled_document_id"] for r in results]
    assert settled == [docs[anna.account_id].id, None, docs[bert.account_id].id,
                       docs[cleo.account_id].id, None]  # fmt: skip
    journal, settlements = await _rows(checked_store)
    assert settlements == 3
    assert sorted((a, k, m) for a, k, m, _s in journal) == sorted([
        (anna.account_id, "payment", GROSS + 500), (anna.account_id, "charge", -GROSS),
        (anna.account_id, "payment", 700), (bert.account_id, "payment", 100000),
        (bert.account_id, "payment", GROSS - 100000), (bert.account_id, "charge", -GROSS),
        (cleo.account_id, "payment", 2975), (cleo.account_id, "charge", -2975),
    ])  # fmt: skip
    async with repo.transaction() as conn:
        assert await repo.balance(conn, anna.account_id) == 1200
        orders = {a: await repo.order(conn, p["order_id"]) for a, p in placed.items()}
        contracts = await repo.contracts(conn, order_id=placed[bert.account_id]["order_id"])
        hub_order = await repo.order(conn, hub["order_id"])
    assert {o.state for o in orders.values()} == {OrderState.PAID}  # reservations still open
    assert hub_order.state is OrderState.ACTIVE  # paid without reservations: activated at once
    assert contracts[0].paid_periods == 3

    # a retry of the batch, or of one payment alone, answers the same and books nothing
    assert await billing.record_payments(batch) == results
    single = batch[1]
    assert (
        await billing.record_payment(
            single.account_id, single.amount, single.reference, key=single.key
        )
        == results[1]
    )
    mixed = [Payment(account_id=cleo.account_id, amount=1, reference="x", key="new"), batch[0]]
    again = await billing.record_payments(mixed)
    assert again[1] == results[0]
    assert len((await _rows(checked_store))[0]) == len(journal) + 1


async def test_period_zero_pro_formas_are_counted_per_order_across_its_lines(
    checked_store: Store, billing: BillingService, billing_clock: ManualClock
) -> None:
    """An order of two lines has two period-0 pro-formas (paid only together), one of one line
    one; an order not asked for is not counted."""
    dora = await _customer(checked_store, billing_clock, "dora")
    emil = await _customer(checked_store, billing_clock, "emil")
    two = await billing.place_order(dora, [SATELLITE, HUB], key="o-two")
    one = await billing.place_order(emil, [SATELLITE], key="o-one")
    other = await billing.place_order(emil, [HUB], key="o-other")
    bulk = BillingBulkRepository(checked_store.database)
    async with checked_store.engine.connect() as conn:
        counts = await bulk.first_proforma_counts(
            conn, [int(two["order_id"]), int(one["order_id"]), 999_999]
        )
    assert counts == {int(two["order_id"]): 2, int(one["order_id"]): 1}
    assert int(other["order_id"]) not in counts
