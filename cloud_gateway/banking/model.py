"""What a bank statement says and what became of each of its transactions (pure types)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

__all__ = [
    "CamtVersion",
    "Direction",
    "ImportSummary",
    "Statement",
    "StoredTransaction",
    "Transaction",
    "TransactionStatus",
]


class CamtVersion(StrEnum):
    """The camt.053 message versions the import reads."""

    V02 = "02"
    V08 = "08"

    @property
    def namespace(self) -> str:
        """The XML namespace of this version's ``Document``."""
        return f"urn:iso:std:iso:20022:tech:xsd:camt.053.001.{self.value}"


class Direction(StrEnum):
    """ISO 20022 ``CdtDbtInd``: money in or out of the seller's account."""

    CREDIT = "CRDT"
    DEBIT = "DBIT"


class TransactionStatus(StrEnum):
    """What the import (or an operator) did with one transaction."""

    MATCHED = "matched"  # a pro-forma was paid in full
    PARTIAL = "partial"  # less than the pro-forma's amount: credit until the rest arrives
    SURPLUS = "surplus"  # the pro-forma was paid and money is left on the account
    LATE = "late"  # the pro-forma had expired or was paid already: credit on the account
    REVERSED = "reversed"  # a reversal or return: booked back off the payment account
    UNMATCHED = "unmatched"  # in the queue for an operator
    DEBIT = "debit"  # money out that is not a reversal (fees, refunds sent): recorded only
    ASSIGNED = "assigned"  # from the queue to an account or document by an operator
    REFUNDED = "refunded"  # from the queue, sent back to the payer
    BOOKED = "booked"  # from the queue to an account's payment account, no document


@dataclass(frozen=True, slots=True, kw_only=True)
class Transaction:
    """One booked transaction of a statement: a ``TxDtls`` or an entry without details."""

    #: idempotency key: account IBAN, the entry's bank reference, the transaction's reference
    key: str
    #: positive cents
    amount: int
    currency: str
    direction: Direction
    #: ``RvslInd`` true or a ``RtrInf`` (a return): money taken back
    reversal: bool
    booking_date: date | None
    value_date: date | None
    #: the payer (for credits) or the party of a debit, as the bank printed it
    name: str
    iban: str
    #: ``CdtrRefInf/Ref`` (an ISO 11649 ``RF…`` reference when the payer used one)
    structured_reference: str
    #: ``Ustrd`` lines joined with a space
    remittance: str
    end_to_end_id: str
    #: the return reason code (``RtrInf/Rsn/Cd``), if any
    return_reason: str
    #: the entry held several transactions (a batch)
    batch: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Statement:
    """One ``Stmt`` of a camt.053 file."""

    version: CamtVersion
    message_id: str
    statement_id: str
    iban: str
    created_at: datetime | None
    transactions: tuple[Transaction, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredTransaction:
    """A transaction as recorded, with its outcome."""

    id: int
    statement_id: int
    key: str
    amount: int
    currency: str
    direction: Direction
    reversal: bool
    booking_date: date | None
    name: str
    iban: str
    structured_reference: str
    remittance: str
    end_to_end_id: str
    status: TransactionStatus
    account_id: int | None
    document_id: int | None
    #: why it is in the queue, or what the operator noted
    note: str
    created_at: datetime
    resolved_at: datetime | None


@dataclass(slots=True)
class ImportSummary:
    """Counts of one import, printed by the CLI and returned by the upload."""

    statements: int = 0
    transactions: int = 0
    matched: int = 0
    partial: int = 0
    surplus: int = 0
    late: int = 0
    reversed: int = 0
    unmatched: int = 0
    debits: int = 0
    duplicates: int = 0

    def count(self, status: TransactionStatus) -> None:
        """Count one new transaction with ``status``."""
        self.transactions += 1
        name = {TransactionStatus.DEBIT: "debits"}.get(status, status.value)
        setattr(self, name, getattr(self, name) + 1)

    def as_dict(self) -> dict[str, int]:
        """The JSON form."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}
