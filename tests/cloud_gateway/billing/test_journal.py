"""The payment account: balance is the sum of the journal, the overdraft limit holds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloud_gateway.billing.journal import (
    EntryKind,
    JournalEntry,
    balance,
    can_charge,
    overdraft_limit,
    signed,
)
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.service import BillingService, Customer, RunReport
from cloud_gateway.store import Store

_MOVES = st.lists(
    st.tuples(
        st.sampled_from([EntryKind.PAYMENT, EntryKind.CHARGE, EntryKind.CREDIT, EntryKind.REFUND]),
        st.integers(min_value=0, max_value=10**9),
    ),
    max_size=30,
)


@given(_MOVES)
def test_balance_is_the_sum_of_signed_entries(moves: list[tuple[EntryKind, int]]) -> None:
    entries = [JournalEntry(kind=k, amount=signed(k, a)) for k, a in moves]
    plus = sum(a for k, a in moves if k in (EntryKind.PAYMENT, EntryKind.CREDIT))
    minus = sum(a for k, a in moves if k in (EntryKind.CHARGE, EntryKind.REFUND))
    assert balance(entries) == plus - minus
    limit_entry = JournalEntry(kind=EntryKind.OVERDRAFT_LIMIT, amount=0, overdraft_limit=500)
    assert balance([*entries, limit_entry]) == balance(entries)


def test_overdraft_limit_is_the_latest_setting() -> None:
    entries = [
        JournalEntry(kind=EntryKind.OVERDRAFT_LIMIT, amount=0, overdraft_limit=1000),
        JournalEntry(kind=EntryKind.PAYMENT, amount=50),
        JournalEntry(kind=EntryKind.OVERDRAFT_LIMIT, amount=0, overdraft_limit=200),
    ]
    assert overdraft_limit(entries) == 200
    assert overdraft_limit([]) == 0
    assert can_charge(50, 200, 250)
    assert not can_charge(50, 200, 251)
    with pytest.raises(ValueError, match="positive"):
        signed(EntryKind.PAYMENT, -1)


async def test_stored_balance_is_the_sum_of_the_stored_journal(
    billing: BillingService, store: Store, customer: Customer
) -> None:
    for i, amount in enumerate([12345, 1, 99999, 250]):
        await billing.record_payment(customer.account_id, amount, f"t{i}", key=f"p{i}")
    await billing.set_overdraft_limit(customer.account_id, 5000, key="l")
    repo = store.repo(BillingRepository)
    async with repo.transaction() as conn:
        entries = await repo.journal(conn, customer.account_id)
        assert await repo.balance(conn, customer.account_id) == sum(e.amount for e in entries)
        assert await repo.overdraft_limit(conn, customer.account_id) == 5000
    assert sum(e.amount for e in entries) == 112595
    assert await billing.run() == RunReport()
