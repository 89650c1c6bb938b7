"""The payment account: an append-only journal per customer (pure rules).

Every entry carries a signed amount in cents: money the customer paid or was credited is
positive, money charged or paid back is negative. The balance is the sum of the entries and is
never stored. The overdraft limit is itself a journal entry (amount 0, ``overdraft_limit`` set);
the latest one counts. A charge may take the balance down to ``-limit`` and no further.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["EntryKind", "JournalEntry", "balance", "can_charge", "overdraft_limit", "signed"]


class EntryKind(StrEnum):
    """Kinds of journal entry."""

    PAYMENT = "payment"  # money received (bank transfer, card, ...)
    CHARGE = "charge"  # a document settled from the account
    CREDIT = "credit"  # unused prepaid fees, goodwill, a credit note
    REFUND = "refund"  # money paid back to the customer
    OVERDRAFT_LIMIT = "overdraft_limit"  # the operator sets how far the balance may go below 0
    REVERSAL = "reversal"  # a booked payment taken back by the bank (reversal or return)


_SIGN = {
    EntryKind.PAYMENT: 1,
    EntryKind.CREDIT: 1,
    EntryKind.CHARGE: -1,
    EntryKind.REFUND: -1,
    EntryKind.OVERDRAFT_LIMIT: 0,
    EntryKind.REVERSAL: -1,
}


def signed(kind: EntryKind, amount: int) -> int:
    """The signed journal amount of a positive ``amount`` of ``kind``."""
    if amount < 0:
        raise ValueError("journal amounts are given as positive cents")
    return _SIGN[kind] * amount


@dataclass(frozen=True, slots=True, kw_only=True)
class JournalEntry:
    """One journal line."""

    kind: EntryKind
    #: signed cents (see :func:`signed`)
    amount: int
    #: only for :attr:`EntryKind.OVERDRAFT_LIMIT`: the new limit in cents
    overdraft_limit: int | None = None


def balance(entries: Iterable[JournalEntry]) -> int:
    """The balance: the sum of the signed amounts."""
    return sum(e.amount for e in entries)


def overdraft_limit(entries: Iterable[JournalEntry]) -> int:
    """The limit set by the latest overdraft entry (0 when none)."""
    limit = 0
    for entry in entries:
        if entry.overdraft_limit is not None:
            limit = entry.overdraft_limit
    return limit


def can_charge(current_balance: int, limit: int, amount: int) -> bool:
    """Whether charging ``amount`` keeps the balance at or above ``-limit``."""
    return current_balance - amount >= -limit
