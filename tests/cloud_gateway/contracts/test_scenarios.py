"""Seed 004 scenarios on both backends: the injected clock travels through whole contracts.

Each scenario ends with "billing run again: nothing new", to the cent; every document the
scenario made passes the EN 16931 validation (``checked_store``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from cloud_gateway.billing.errors import BillingError, OverdraftError
from cloud_gateway.billing.model import StoredContract, StoredDocument, StoredOrder
from cloud_gateway.billing.periods import local_midnight
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.service import BillingService, Customer, OrderLine, RunReport
from cloud_gateway.billing.states import ContractState, OrderState
from cloud_gateway.entitlements.service import EntitlementService
from cloud_gateway.store import Store
from tests.support.sepa import check_pain001
from tunnel.clock import ManualClock

SATELLITE = OrderLine(product="satellite-uplink", plan="monthly")


def _local(day: date, minutes: int = 5) -> datetime:
    """``minutes`` after the start of local ``day`` in Berlin."""
    return local_midnight(day) + timedelta(minutes=minutes)


class Life:
    """One customer's contract, with the clock to travel and the money to pay."""

    def __init__(
        self,
        billing: BillingService,
        store: Store,
        customer: Customer,
        clock: ManualClock,
        entitlements: EntitlementService,
    ) -> None:
        self.billing, self.store, self.customer = billing, store, customer
        self.clock, self.entitlements = clock, entitlements
        self.repo = store.repo(BillingRepository)
        self.order_id = 0
        self.keys = 0

    def key(self, what: str) -> str:
        self.keys += 1
        return f"{what}-{self.keys}"

    async def order(self) -> StoredDocument:
        placed = await self.billing.place_order(self.customer, [SATELLITE], key="order")
        self.order_id = int(placed["order_id"])
        [proforma] = await self.documents()
        return proforma

    async def documents(self) -> list[StoredDocument]:
        async with self.repo.transaction() as conn:
            return await self.repo.documents(conn, account_id=self.customer.account_id)

    async def state(self) -> tuple[StoredOrder, StoredContract]:
        async with self.repo.transaction() as conn:
            order = await self.repo.order(conn, self.order_id)
            [contract] = await self.repo.contracts(conn, order_id=self.order_id)
        return order, contract

    async def balance(self) -> int:
        async with self.repo.transaction() as conn:
            return await self.repo.balance(conn, self.customer.account_id)

    async def pay(self, document: StoredDocument, amount: int | None = None) -> int | None:
        result = await self.billing.record_payment(
            self.customer.account_id,
            document.gross if amount is None else amount,
            document.payment_reference or document.number,
            key=self.key("bank"),
        )
        settled: int | None = result["settled_document_id"]
        return settled

    async def confirm(self) -> dict[str, object]:
        return await self.billing.confirm_reservation(self.order_id, "order_form", key="res")

    async def travel(self, day: date, minutes: int = 5) -> RunReport:
        """Move the clock to local ``day`` and run the billing run; a rerun adds nothing."""
        self.clock.set(_local(day, minutes))
        report = await self.billing.run()
        assert await self.billing.run() == RunReport()
        return report

    async def entitled(self, at: datetime) -> bool:
        _, contract = await self.state()
        return (await self.entitlements.service_answer(contract.id, at)).entitled


@pytest.fixture
def life(
    billing: BillingService,
    checked_store: Store,
    customer: Customer,
    billing_clock: ManualClock,
    entitlements: EntitlementService,
) -> Life:
    return Life(billing, checked_store, customer, billing_clock, entitlements)


async def _active_from(life: Life, day: date, ordered: date = date(2026, 2, 10)) -> None:
    """Ordered on ``ordered``, form confirmed two days later (or at once), paid on ``day``:
    the first pro-forma has no deadline, the start moves until the payment (R-BIL-9)."""
    life.clock.set(_local(ordered, 600))
    proforma = await life.order()
    assert proforma.due_date is None
    life.clock.set(_local(min(ordered + timedelta(days=2), day), 600))
    assert (await life.confirm())["start"] is None  # not paid yet: nothing starts
    life.clock.set(_local(day))
    assert await life.pay(proforma) == proforma.id
    order, contract = await life.state()
    assert (order.state, contract.state, contract.start_day) == (
        OrderState.ACTIVE, ContractState.ACTIVE, day,
    )  # fmt: skip


async def _month_offer(life: Life) -> StoredDocument:
    offer = (await life.documents())[-1]
    assert offer.kind == "proforma"
    return offer


async def test_regular_twelve_month_life(life: Life) -> None:
    await _active_from(life, date(2026, 3, 1))
    assert await life.travel(date(2026, 3, 1)) == RunReport(documents=1)
    first = (await life.documents())[-1]
    assert (first.kind, first.net, first.tax, first.gross, first.due) == (
        "invoice", 180800, 34352, 215152, 0,
    )  # fmt: skip
    assert await life.travel(date(2026, 4, 1)) == RunReport()
    for month in range(3, 13):  # month 3 .. month 12 start on the 1st of May .. February
        start = date(2026 + (month + 1) // 12, (month + 1) % 12 + 1, 1)
        report = await life.travel(start)
        expected = (month >= 4) + (month <= 11)  # its invoice (from month 4), next offer
        assert report == RunReport(documents=expected), month
        if month <= 11:
            await life.pay(await _month_offer(life))
    assert await life.travel(date(2027, 3, 1)) == RunReport(ended=1)
    _, contract = await life.state()
    assert (contract.state, contract.ended_on, contract.paid_periods) == (
        ContractState.ENDED, date(2027, 2, 28), 12,
    )  # fmt: skip
    docs = await life.documents()
    assert sum(d.kind == "proforma" for d in docs) == 10  # the order's + 9 for months 4..12
    assert sum(d.kind == "invoice" for d in docs) == 10  # the first + 9 monthly
    assert [d.due for d in docs if d.kind == "invoice"] == [0] * 10
    assert await life.balance() == 0
    # the service's entitlement: every paid month a window, ending with month 12
    assert await life.entitled(local_midnight(date(2026, 3, 1)))
    assert not await life.entitled(local_midnight(date(2026, 3, 1)) - timedelta(seconds=1))
    assert await life.entitled(local_midnight(date(2027, 3, 1)) - timedelta(seconds=1))
    assert not await life.entitled(local_midnight(date(2027, 3, 1)))
    assert await life.travel(date(2027, 4, 1)) == RunReport()


async def test_no_payment_for_month_four_then_paying_two_weeks_late(life: Life) -> None:
    await _active_from(life, date(2026, 3, 1))
    await life.travel(date(2026, 3, 1))
    assert await life.travel(date(2026, 5, 1)) == RunReport(documents=1)
    offer = await _month_offer(life)
    assert offer.due_date == date(2026, 5, 31)  # later pro-formas are valid one month
    assert await life.travel(date(2026, 6, 1)) == RunReport(ended=1)
    _, contract = await life.state()
    assert (contract.state, contract.ended_on) == (ContractState.ENDED, date(2026, 5, 31))
    assert not await life.entitled(_local(date(2026, 6, 1)))
    life.clock.set(_local(date(2026, 6, 14), 600))  # two weeks late
    assert await life.pay(offer) is None  # not booked onto the switched-off service
    assert await life.balance() == 39984  # credited to the payment account
    _, contract = await life.state()
    assert (contract.state, contract.paid_periods) == (ContractState.ENDED, 3)
    assert not await life.entitled(_local(date(2026, 6, 14), 600))
    assert await life.travel(date(2026, 7, 1)) == RunReport()


async def test_start_on_31_january(life: Life) -> None:
    await _active_from(life, date(2027, 1, 31), ordered=date(2027, 1, 20))
    await life.travel(date(2027, 1, 31))
    first = (await life.documents())[-1]
    assert (first.kind, first.issue_date) == ("invoice", date(2027, 1, 31))
    assert await life.travel(date(2027, 3, 30)) == RunReport()  # still month 2 (1-30 March)
    assert await life.travel(date(2027, 3, 31)) == RunReport(documents=1)  # month 3 begins
    offer = await _month_offer(life)
    assert offer.due_date == date(2027, 4, 30)
    await life.pay(offer)
    assert await life.travel(date(2027, 5, 1)) == RunReport(documents=2)  # month 4 1-30 May
    invoice = (await life.documents())[-2]
    assert (invoice.kind, invoice.period, invoice.issue_date) == ("invoice", 3, date(2027, 5, 1))
    assert await life.travel(date(2027, 5, 31)) == RunReport(ended=1)  # month 5 not paid
    _, contract = await life.state()
    assert contract.ended_on == date(2027, 5, 30)


@pytest.mark.parametrize(
    ("start", "dst_day"),
    [(date(2027, 1, 28), date(2027, 3, 28)), (date(2026, 8, 25), date(2026, 10, 25))],
    ids=["spring", "autumn"],
)
async def test_months_begin_at_berlin_midnight_across_the_dst_weekends(
    life: Life, start: date, dst_day: date
) -> None:
    """Month 3 begins on the DST Sunday; its pro-forma appears at that day's Berlin midnight."""
    await _active_from(life, start, ordered=date(2026, 2, 10))
    assert await life.travel(start) == RunReport(documents=1)
    midnight = local_midnight(dst_day)
    life.clock.set(midnight - timedelta(seconds=1))
    assert await life.billing.run() == RunReport()
    life.clock.set(midnight)
    assert await life.billing.run() == RunReport(documents=1)  # the offer of month 4
    offer = await _month_offer(life)
    assert offer.issue_date == dst_day
    month4 = local_midnight(offer.due_date + timedelta(days=1)) if offer.due_date else midnight
    assert {midnight.hour, month4.hour} == {22, 23}  # the UTC instant moved with DST
    assert await life.entitled(month4 - timedelta(seconds=1))
    assert not await life.entitled(month4)  # unpaid: the window stops at Berlin midnight
    life.clock.set(month4)
    assert await life.billing.run() == RunReport(ended=1)
    assert await life.billing.run() == RunReport()


async def _through_month_five(life: Life) -> None:
    """Started 1 March 2026, months 4, 5 and 6 paid; the clock at the start of July."""
    await _active_from(life, date(2026, 3, 1))
    await life.travel(date(2026, 3, 1))
    for day in (date(2026, 5, 1), date(2026, 6, 1), date(2026, 7, 1)):
        await life.travel(day)
        await life.pay(await _month_offer(life))


async def test_termination_at_once_after_day_10_of_a_31_day_month(life: Life) -> None:
    await _through_month_five(life)  # month 5 is July: 31 days
    _, contract = await life.state()
    life.clock.set(_local(date(2026, 7, 11)))  # days 1-10 used, 11-31 unused
    result = await life.billing.terminate(contract.id, at_once=True, key="end-now")
    assert await life.billing.terminate(contract.id, at_once=True, key="end-now") == result
    docs = await life.documents()
    note = docs[-1]
    july = next(d for d in docs if d.kind == "invoice" and d.period == 4)
    assert (note.kind, note.net, note.tax, note.gross, note.preceding_id) == (
        "credit_note", 22761, 4325, 27086, july.id,
    )  # fmt: skip
    # the unused days by credit note, month 6 (paid ahead on 1 July) in full
    assert result == {"ended_on": "2026-07-10", "credited": 27086 + 39984,
                      "credit_note_id": note.id}  # fmt: skip
    assert await life.balance() == 67070
    _, contract = await life.state()
    assert (contract.state, contract.ended_on) == (ContractState.ENDED, date(2026, 7, 10))
    assert await life.entitled(local_midnight(date(2026, 7, 11)) - timedelta(seconds=1))
    assert not await life.entitled(local_midnight(date(2026, 7, 11)))
    assert not await life.entitled(_local(date(2026, 8, 15)))  # month 6's window ended too
    assert await life.travel(date(2026, 8, 1)) == RunReport()
    # the back office pays the balance back: a pain.001 file, the balance goes to zero
    from tests.cloud_gateway.contracts.conftest import contract_service  # noqa: PLC0415

    service = contract_service(life.store, life.billing, life.clock, "http://127.0.0.1:9")
    xml = await service.refund_to_iban(
        life.customer.account_id, iban="DE89 3704 0044 0532 0130 00", holder="Hof Janssen",
        key="refund-1",
    )  # fmt: skip
    again = await service.refund_to_iban(
        life.customer.account_id, iban="DE89370400440532013000", holder="Hof Janssen",
        key="refund-1",
    )  # fmt: skip
    assert again == xml
    assert await life.balance() == 0
    check_pain001(xml, "670.70", "DE89370400440532013000")


async def test_termination_at_period_end(life: Life) -> None:
    await _through_month_five(life)
    _, contract = await life.state()
    life.clock.set(_local(date(2026, 7, 11)))
    result = await life.billing.terminate(contract.id, key="end-of-month")
    assert result == {"ended_on": "2026-07-31", "credited": 39984, "credit_note_id": None}
    assert await life.balance() == 39984
    assert await life.entitled(local_midnight(date(2026, 8, 1)) - timedelta(seconds=1))
    assert not await life.entitled(local_midnight(date(2026, 8, 1)))
    assert await life.travel(date(2026, 8, 1)) == RunReport()
    kinds = [d.kind.value for d in await life.documents()]
    assert "credit_note" not in kinds


async def test_termination_at_period_end_inside_the_minimum_term(life: Life) -> None:
    await _active_from(life, date(2026, 3, 1))
    await life.travel(date(2026, 3, 1))
    _, contract = await life.state()
    life.clock.set(_local(date(2026, 3, 15)))
    result = await life.billing.terminate(contract.id, key="end-early")
    note = (await life.documents())[-1]
    assert (note.kind, note.net, note.gross) == ("credit_note", 67200, 79968)  # April + May
    assert result["ended_on"] == "2026-03-31"
    assert await life.balance() == 79968
    assert await life.travel(date(2026, 5, 1)) == RunReport()


async def test_special_activation_by_overdraft_then_the_late_payment(life: Life) -> None:
    proforma = await life.order()
    with pytest.raises(OverdraftError):
        await life.billing.settle_from_account(proforma.id, key="settle-0")
    await life.billing.set_overdraft_limit(life.customer.account_id, 300000, key="limit")
    life.clock.set(_local(date(2026, 3, 1)))
    await life.billing.settle_from_account(proforma.id, key="settle-1")
    assert await life.balance() == -215152
    order, _ = await life.state()
    assert order.state is OrderState.PAID  # the order form is still missing
    await life.confirm()
    order, contract = await life.state()
    assert (order.state, contract.start_day) == (OrderState.ACTIVE, date(2026, 3, 1))
    assert await life.entitled(_local(date(2026, 3, 1)))
    await life.travel(date(2026, 3, 1))
    life.clock.set(_local(date(2026, 3, 20)))
    assert await life.pay(proforma) is None  # the later payment evens the balance out
    assert await life.balance() == 0
    # special extension: month 4 settled from the account, paid a week later
    await life.travel(date(2026, 5, 1))
    offer = await _month_offer(life)
    await life.billing.settle_from_account(offer.id, key="settle-4")
    assert await life.balance() == -39984
    assert await life.travel(date(2026, 6, 1)) == RunReport(documents=2)  # invoice 4, offer 5
    assert await life.entitled(_local(date(2026, 6, 20)))
    life.clock.set(_local(date(2026, 6, 8)))
    await life.pay(offer)
    assert await life.balance() == 0
    assert await life.travel(date(2026, 7, 1)) == RunReport(ended=1)  # month 5 unpaid
    _, contract = await life.state()
    assert contract.ended_on == date(2026, 6, 30)


async def test_reservations_paid_but_unconfirmed_then_confirmed(life: Life) -> None:
    proforma = await life.order()
    life.clock.set(_local(date(2026, 2, 20)))
    await life.pay(proforma)
    order, contract = await life.state()
    assert (order.state, order.open_reservations) == (OrderState.PAID, ("order_form",))
    assert (contract.state, contract.start_day) == (ContractState.PENDING, None)
    assert not await life.entitled(_local(date(2026, 2, 20)))
    assert await life.travel(date(2026, 2, 25)) == RunReport()
    result = await life.confirm()  # the order form has arrived: active at once
    assert result == {"order_id": life.order_id, "state": "active", "start": "2026-02-25"}
    assert await life.entitled(_local(date(2026, 2, 25)))
    assert await life.travel(date(2026, 2, 25)) == RunReport(documents=1)  # the first invoice
    assert [d.kind.value for d in await life.documents()] == ["proforma", "invoice"]


async def test_reservations_confirmed_start_on_the_wished_date(life: Life) -> None:
    proforma = await life.order()
    await life.billing.wish_start(life.order_id, date(2026, 3, 15), key="wish")
    life.clock.set(_local(date(2026, 2, 20)))
    await life.pay(proforma)
    await life.confirm()
    order, contract = await life.state()
    assert (order.state, contract.state, contract.start_day) == (
        OrderState.ACTIVE, ContractState.ACTIVE, date(2026, 3, 15),
    )  # fmt: skip
    assert await life.travel(date(2026, 3, 14)) == RunReport()  # nothing before the start
    with pytest.raises(BillingError, match="starts 2026-03-15"):
        await life.billing.terminate(contract.id, at_once=True, key="too-early")
    assert not await life.entitled(local_midnight(date(2026, 3, 15)) - timedelta(seconds=1))
    assert await life.entitled(local_midnight(date(2026, 3, 15)))
    assert await life.travel(date(2026, 3, 15)) == RunReport(documents=1)
    first = (await life.documents())[-1]
    assert (first.kind, first.issue_date, first.due) == ("invoice", date(2026, 3, 15), 0)
