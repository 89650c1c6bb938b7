"""A SEPA credit-transfer file (pain.001.001.03) paying a customer's credit back (R-BIL-10).

The back office uploads it to the seller's bank. Built with ``sepaxml``, which checks the file
against the pain.001.001.03 XSD it ships before returning it; the IBANs are checked (ISO 13616
check digits) before anything is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sepaxml import SepaTransfer  # type: ignore[import-untyped]
from stdnum import iban as iban_number
from stdnum.exceptions import ValidationError

from cloud_gateway.contracts.errors import ContractError

__all__ = ["Transfer", "pain001"]

SCHEMA = "pain.001.001.03"


@dataclass(frozen=True, slots=True, kw_only=True)
class Transfer:
    """One refund: from the seller's account to the customer's IBAN."""

    debtor_name: str
    debtor_iban: str
    debtor_bic: str
    creditor_name: str
    creditor_iban: str
    amount: int
    """Cents, > 0."""
    execution_date: date
    reference: str
    """Remittance information (e.g. customer number and "Rückzahlung Guthaben")."""
    end_to_end_id: str


def _iban(value: str, who: str) -> str:
    try:
        return str(iban_number.validate(value))
    except ValidationError:
        raise ContractError(f"{who}: not a valid IBAN") from None


def pain001(transfer: Transfer) -> bytes:
    """The XSD-checked pain.001 file of ``transfer``."""
    if transfer.amount <= 0:
        raise ContractError("a refund needs an amount above zero")
    sepa = SepaTransfer(
        {
            "name": transfer.debtor_name,
            "IBAN": _iban(transfer.debtor_iban, "seller"),
            "BIC": transfer.debtor_bic,
            "batch": True,
            "currency": "EUR",
        },
        schema=SCHEMA,
    )
    sepa.add_payment(
        {
            "name": transfer.creditor_name,
            "IBAN": _iban(transfer.creditor_iban, "customer"),
            "amount": transfer.amount,
            "execution_date": transfer.execution_date,
            "description": transfer.reference,
            "endtoend_id": transfer.end_to_end_id[:35],
        }
    )
    data: bytes = sepa.export(validate=True)
    return data
