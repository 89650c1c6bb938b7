"""Closing an account cancels its orders awaiting payment (R-POR-6, #12): the order and its
pending contracts are cancelled through the billing service, no window opens, and money that
arrives later for the void pro-forma (a camt.053 credit with its RF reference, a PayPal
capture) activates nothing: it stays on the payment account as credit.

Real parts: the billing core with entitlements and outbox on each backend, the bank import
with statements the bank simulator writes, the PayPal simulator speaking Orders v2.
"""

from __future__ import annotations

import sqlalchemy as sa

from cloud_gateway.accounts.passwords import PasswordHasher
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.banking.model import TransactionStatus
from cloud_gateway.banking.service import BankService
from cloud_gateway.billing.catalogue import BookingType, PaymentMedium
from cloud_gateway.billing.pricing import Buyer
from cloud_gateway.billing.rendering.view import Party
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.schema import billing_journal
from cloud_gateway.billing.service import Customer, OrderLine
from cloud_gateway.billing.states import ContractState, OrderState
from cloud_gateway.entitlements.api import OperatorFlagPolicy
from cloud_gateway.notify.outbox import Outbox
from cloud_gateway.notify.repository import OutboxRepository
from cloud_gateway.portal.closure import AccountClosure
from cloud_gateway.tunnels.registry import TunnelRegistry
from simulator.bank import Booking, Movement, statement_xml
from tests.cloud_gateway.payments import conftest as payment_fixtures
from tests.cloud_gateway.payments.conftest import Rig

#: the payment rig (billing core, entitlements, outbox, PayPal and PSP simulators) as it is
checked_store = payment_fixtures.checked_store
rig = payment_fixtures.rig

PASSWORD = "Sonnig!2026"
HUB_MONTH = OrderLine(product="hub-remote", plan="1m", booking=BookingType.SINGLE)


async def _customer(rig: Rig, name: str) -> Customer:
    hashed = PasswordHasher().hash(PASSWORD)
    account = await rig.store.repo(AccountRepository).create(
        username=name, email=f"{name}@example.org", password_hash=hashed,
        created_at=rig.clock.now(),
    )  # fmt: skip
    return Customer(
        account_id=account.id,
        party=Party(name="Frieda Fischer", street="Deichweg 3", postcode="26831",
                    city="Bunde", customer_number=f"K{account.id:06d}"),
        buyer=Buyer(business=False, country="DE"),
    )  # fmt: skip


async def _close(rig: Rig, account_id: int) -> int:
    """Close the account as the portal does; how many orders were cancelled."""
    closure = AccountClosure(
        store=rig.store, clock=rig.clock, passwords=PasswordHasher(),
        outbox=Outbox(rig.store.repo(OutboxRepository)), billing=rig.billing,
        tunnels=TunnelRegistry(rig.store, rig.clock, OperatorFlagPolicy()),
    )  # fmt: skip
    account = await rig.store.repo(AccountRepository).get(account_id)
    closed = await closure.close(account, PASSWORD)
    assert (closed.contracts_ended, closed.contracts_left) == (0, 0)
    return closed.orders_cancelled


async def _states(rig: Rig, order_id: int) -> tuple[OrderState, set[ContractState]]:
    repo = rig.store.repo(BillingRepository)
    async with repo.transaction() as conn:
        order = await repo.order(conn, order_id)
        contracts = await repo.contracts(conn, order_id=order_id)
    return order.state, {c.state for c in contracts}


async def _journal(rig: Rig, account_id: int) -> tuple[list[tuple[str, int]], int]:
    """The account's journal lines (kind, cents) and its balance as the money core sums it."""
    j = billing_journal
    async with rig.store.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(j.c.kind, j.c.amount).where(j.c.account_id == account_id).order_by(j.c.id)
        )
        lines = [(str(k), int(a)) for k, a in rows]
    repo = rig.store.repo(BillingRepository)
    async with repo.transaction() as conn:
        return lines, await repo.balance(conn, account_id)


async def _nothing_started(rig: Rig, account_id: int, order_id: int) -> None:
    assert await _states(rig, order_id) == (OrderState.CANCELLED, {ContractState.CANCELLED})
    assert await rig.count("entitlement_windows", "WHERE source LIKE 'billing:%'") == 0
    assert await rig.count("billing_documents", "WHERE kind = 'invoice'") == 0
    assert await rig.count("notification_outbox", "WHERE template = 'order_paid'") == 0


async def test_closing_cancels_an_unpaid_order_and_a_late_bank_transfer_stays_credit(
    rig: Rig,
) -> None:
    customer = await _customer(rig, "frieda")
    placed = await rig.billing.place_order(customer, [HUB_MONTH], key="order-frieda")
    order_id = int(placed["order_id"])
    [proforma] = await rig.billing.open_proformas(order_id)
    reference = proforma.payment_reference or ""
    assert reference.startswith("RF")

    assert await _close(rig, customer.account_id) == 1

    await _nothing_started(rig, customer.account_id, order_id)
    assert await rig.billing.open_proformas(order_id) == []
    bank = BankService(rig.store, rig.billing, rig.clock)
    transfer = Movement(amount=proforma.gross, name="Frieda Fischer", reference=reference,
                        end_to_end_id="E2E-FRIEDA")  # fmt: skip
    booking = Booking(movements=(transfer,), reference="B-1", booked=rig.clock.now().date())
    statement = statement_xml("08", [booking], statement_id="S-1")

    summary = await bank.import_statement(statement, "late.xml")
    again = await bank.import_statement(statement, "late.xml")

    assert (summary.transactions, again.transactions) == (1, 0)
    [row] = await bank.transactions()
    assert (row.status, row.account_id, row.document_id) == (
        TransactionStatus.LATE,
        customer.account_id,
        proforma.id,
    )
    lines, balance = await _journal(rig, customer.account_id)
    assert lines == [("payment", proforma.gross)]  # booked once, nothing charged
    assert balance == sum(amount for _kind, amount in lines) == proforma.gross
    await _nothing_started(rig, customer.account_id, order_id)


async def test_a_paypal_capture_after_closing_activates_nothing(rig: Rig) -> None:
    customer = await _customer(rig, "gustav")
    placed = await rig.billing.place_order(customer, [HUB_MONTH], key="order-gustav")
    order_id = int(placed["order_id"])
    [proforma] = await rig.billing.open_proformas(order_id)
    started = await rig.payments.start(
        order_id=order_id, account_id=customer.account_id, method=PaymentMedium.PAYPAL,
        return_url=f"/shop/orders/{order_id}", cancel_url="/shop/cart", key="checkout-gustav",
    )  # fmt: skip
    assert started.redirect_url is not None

    assert await _close(rig, customer.account_id) == 1
    await rig.approve(started.redirect_url)  # the buyer still approves on PayPal's page
    await rig.paypal.drain()

    lines, balance = await _journal(rig, customer.account_id)
    assert lines == [("payment", proforma.gross)]  # captured once, settles nothing
    assert balance == proforma.gross
    await _nothing_started(rig, customer.account_id, order_id)
