"""camt.053 import end to end on both backends and both versions (issue #12, R-BIL-13).

One statement holds a structured RF reference, references in free text (spaced RF, document
number, order number), a partial payment, an overpayment, an unknown payer and a batch entry
whose transactions match by amount and name and by order number. A second, overlapping
statement repeats an entry, reverses one credit, returns another and pays a settled pro-forma
again (late). The same files imported again book nothing.
"""

from __future__ import annotations

from datetime import date

import pytest

from cloud_gateway.banking.errors import QueueStateError, StatementError
from cloud_gateway.banking.model import Direction, TransactionStatus
from cloud_gateway.banking.service import BankService
from cloud_gateway.billing.service import BillingService
from cloud_gateway.store import Store
from simulator.bank import Booking, Movement, statement_xml
from tests.cloud_gateway.banking.conftest import GROSS, Ordered, balance, journal_size, order_for
from tunnel.clock import ManualClock

DAY_1, DAY_2 = date(2026, 2, 12), date(2026, 2, 13)


def _spaced(reference: str) -> str:
    return " ".join(reference[i : i + 4] for i in range(0, len(reference), 4))


async def _customers(
    store: Store, billing: BillingService, clock: ManualClock
) -> dict[str, Ordered]:
    names = ["Anna Albers", "Bernd Becker", "Carla Conrad", "Dieter Dahl", "Emma Engel",
             "Frieda Fischer", "Gustav Graf"]  # fmt: skip
    return {n.split()[0]: await order_for(store, billing, clock, n) for n in names}


def _first_statement(version: str, c: dict[str, Ordered]) -> bytes:
    one = {
        "anna": Movement(amount=GROSS, name="Anna Albers", reference=c["Anna"].reference,
                         end_to_end_id="E2E-ANNA"),
        "bernd": Movement(amount=GROSS, name="B. Becker",
                          text=f"Rechnung {c['Bernd'].number} vielen Dank"),
        "carla": Movement(amount=GROSS, name="Carla Conrad", end_to_end_id="E2E-CARLA",
                          text=f"Zahlung {_spaced(c['Carla'].reference)} Danke"),
        "dieter": Movement(amount=1000, name="Dieter Dahl", reference=c["Dieter"].reference),
        "emma": Movement(amount=5000, name="Emma Engel", reference=c["Emma"].reference),
        "unknown": Movement(amount=1234, name="Zacharias Unbekannt", text="Spende"),
    }  # fmt: skip
    batch = (
        Movement(amount=GROSS, name="FISCHER, FRIEDA", text="Fernzugriff"),
        Movement(amount=GROSS, name="Gustav Graf", text=f"Auftrag A-{c['Gustav'].order_id}"),
    )
    bookings = [Booking(movements=(m,), reference=f"B1-{k}", booked=DAY_1) for k, m in one.items()]
    bookings.append(Booking(movements=batch, reference="B1-batch", booked=DAY_1))
    return statement_xml(version, bookings, statement_id="2026-02-12")


def _second_statement(version: str, c: dict[str, Ordered]) -> bytes:
    repeated = Movement(amount=GROSS, name="Anna Albers", reference=c["Anna"].reference,
                        end_to_end_id="E2E-ANNA")  # fmt: skip
    bookings = [
        Booking(movements=(repeated,), reference="B1-anna", booked=DAY_1),  # overlap
        Booking(
            movements=(Movement(amount=GROSS, name="Anna Albers", end_to_end_id="E2E-ANNA",
                                reversal=True),),
            reference="B2-reversal", booked=DAY_2,
        ),
        Booking(
            movements=(Movement(amount=GROSS, name="Carla Conrad", end_to_end_id="E2E-CARLA",
                                return_reason="AC04"),),
            reference="B2-return", booked=DAY_2,
        ),
        Booking(
            movements=(Movement(amount=GROSS, name="Bernd Becker",
                                reference=c["Bernd"].reference),),
            reference="B2-again", booked=DAY_2,
        ),
    ]  # fmt: skip
    return statement_xml(version, bookings, statement_id="2026-02-13")


@pytest.mark.parametrize("version", ["02", "08"])
async def test_a_statement_is_matched_booked_and_queued_and_never_twice(
    version: str,
    checked_store: Store,
    billing: BillingService,
    billing_clock: ManualClock,
    bank: BankService,
) -> None:
    c = await _customers(checked_store, billing, billing_clock)
    first = _first_statement(version, c)

    summary = await bank.import_statement(first, "day1.xml")

    assert summary.as_dict() == {
        "statements": 1, "transactions": 8, "matched": 5, "partial": 1, "surplus": 1,
        "late": 0, "reversed": 0, "unmatched": 1, "debits": 0, "duplicates": 0,
    }  # fmt: skip
    assert [await balance(checked_store, c[n].account_id) for n in c] == [
        0, 0, 0, 1000, 5000 - GROSS, 0, 0,
    ]  # fmt: skip
    [queued] = await bank.transactions(TransactionStatus.UNMATCHED)
    assert (queued.name, queued.amount, queued.remittance) == (
        "Zacharias Unbekannt",
        1234,
        "Spende",
    )
    statuses = {t.name: (t.status, t.note) for t in await bank.transactions()}
    assert statuses["FISCHER, FRIEDA"] == (TransactionStatus.MATCHED, "name")
    assert statuses["Gustav Graf"] == (TransactionStatus.MATCHED, "text")
    assert statuses["Anna Albers"] == (TransactionStatus.MATCHED, "reference")
    assert statuses["Carla Conrad"] == (TransactionStatus.MATCHED, "text")

    # the same file again, then an overlapping one: nothing is booked twice
    lines = await journal_size(checked_store)
    again = await bank.import_statement(first, "day1-again.xml")
    assert (again.transactions, again.duplicates) == (0, 8)
    assert await journal_size(checked_store) == lines

    second = await bank.import_statement(_second_statement(version, c), "day2.xml")
    assert (second.duplicates, second.reversed, second.late) == (1, 2, 1)
    assert await balance(checked_store, c["Anna"].account_id) == -GROSS  # owes it again
    assert await balance(checked_store, c["Carla"].account_id) == -GROSS
    assert await balance(checked_store, c["Bernd"].account_id) == GROSS  # credit
    shown = await bank.transactions(reversal=True)
    assert sorted((t.name, t.status, t.direction) for t in shown) == [
        ("Anna Albers", TransactionStatus.REVERSED, Direction.DEBIT),
        ("Carla Conrad", TransactionStatus.REVERSED, Direction.DEBIT),
    ]
    lines = await journal_size(checked_store)
    for data in (first, _second_statement(version, c)):
        repeat = await bank.import_statement(data, "again.xml")
        assert repeat.transactions == 0
    assert await journal_size(checked_store) == lines


async def test_the_queue_assigns_books_and_refunds_each_once(
    checked_store: Store,
    billing: BillingService,
    billing_clock: ManualClock,
    bank: BankService,
) -> None:
    anna = await order_for(checked_store, billing, billing_clock, "Anna Albers")
    bernd = await order_for(checked_store, billing, billing_clock, "Bernd Becker")
    unknown = [
        Booking(movements=(Movement(amount=GROSS, name=f"Payer {n}", text="?"),),
                reference=f"Q-{n}", booked=DAY_1)
        for n in range(3)
    ]  # fmt: skip
    summary = await bank.import_statement(statement_xml("08", unknown), "queue.xml")
    assert summary.unmatched == 3
    first, second, third = sorted(t.id for t in await bank.transactions())

    assigned = await bank.assign(first, anna.document_id)
    assert (assigned.status, assigned.account_id) == (TransactionStatus.ASSIGNED, anna.account_id)
    assert await balance(checked_store, anna.account_id) == 0  # the pro-forma is settled
    booked = await bank.book_to_account(second, bernd.account_id)
    assert booked.status is TransactionStatus.BOOKED
    assert await balance(checked_store, bernd.account_id) == GROSS  # credit, pro-forma open
    refunded = await bank.refund(third, "zurück an den Zahler")
    assert (refunded.status, refunded.note) == (TransactionStatus.REFUNDED, "zurück an den Zahler")

    with pytest.raises(QueueStateError):
        await bank.assign(first, bernd.document_id)
    assert await balance(checked_store, bernd.account_id) == GROSS
    assert await bank.transactions(TransactionStatus.UNMATCHED) == []


async def test_an_invalid_file_is_refused_naming_the_problem_and_books_nothing(
    checked_store: Store,
    billing: BillingService,
    billing_clock: ManualClock,
    bank: BankService,
) -> None:
    anna = await order_for(checked_store, billing, billing_clock, "Anna Albers")
    good = statement_xml(
        "02",
        [Booking(movements=(Movement(amount=GROSS, name="Anna", reference=anna.reference),),
                 reference="X1", booked=DAY_1)],
    )  # fmt: skip
    broken = good.replace(b"<CdtDbtInd>CRDT</CdtDbtInd>\n        <Sts>", b"<Sts>", 1)
    assert broken != good
    with pytest.raises(StatementError) as refused:
        await bank.import_statement(broken, "kaputt.xml")
    assert refused.value.file == "kaputt.xml"
    assert "camt.053.001.02 XSD" in str(refused.value)
    assert "line" in refused.value.problem
    with pytest.raises(StatementError, match="not well-formed"):
        await bank.import_statement(good[:-40], "cut.xml")
    assert await bank.transactions() == []
    assert await journal_size(checked_store) == 0


async def test_a_failing_booking_is_queued_with_its_reason_and_the_rest_is_booked(
    checked_store: Store,
    billing: BillingService,
    billing_clock: ManualClock,
    bank: BankService,
) -> None:
    anna = await order_for(checked_store, billing, billing_clock, "Anna Albers")
    bernd = await order_for(checked_store, billing, billing_clock, "Bernd Becker")
    # the key of Anna's transaction was used for another operation: its booking must fail
    await billing.set_overdraft_limit(anna.account_id, 0, key="bank:DE02120300000000202051/F1/F1-1")
    bookings = [
        Booking(movements=(Movement(amount=GROSS, name=o.name, reference=o.reference),),
                reference=ref, booked=DAY_1)
        for o, ref in ((anna, "F1"), (bernd, "F2"))
    ]  # fmt: skip
    summary = await bank.import_statement(statement_xml("08", bookings), "day.xml")
    assert (summary.matched, summary.unmatched) == (1, 1)
    [queued] = await bank.transactions(TransactionStatus.UNMATCHED)
    assert queued.name == "Anna Albers"
    assert queued.note.startswith("booking failed: key 'bank:DE02120300000000202051/F1/F1-1'")
    assert (
        await balance(checked_store, anna.account_id),
        await balance(checked_store, bernd.account_id),
    ) == (0, 0)
