"""The EPC QR code ("GiroCode", EPC069-12) of a document with an amount due.

Layout of the payload, one field a line, UTF-8::

    BCD                     service tag
    002                     version
    1                       character set: UTF-8
    SCT                     SEPA credit transfer
    BYLADEM1001             BIC (optional inside the EEA, may be empty)
    Nordwind Connect GmbH   beneficiary name, at most 70 characters
    DE02120300000000202051  IBAN
    EUR2151.52              amount, 0.01 to 999999999.99
                            purpose code (empty)
    RF29RE2026000042        structured ISO 11649 creditor reference

With a structured reference there is no unstructured remittance text (EPC069-12: one or the
other), so the payload ends after the reference. This is the layout segno's
``helpers.make_epc_qr`` writes too (it puts the reference into the structured field). It is built
here because that helper always searches the best of the eight masks, which costs four
milliseconds, a quarter of a whole document; the code is encoded with error level M, no boost,
and one fixed mask instead.
"""

from __future__ import annotations

import string
from decimal import Decimal
from typing import Final

import segno
from stdnum import iban as iban_check
from stdnum import iso11649
from stdnum.exceptions import ValidationError
from stdnum.iso7064 import mod_97_10

from cloud_gateway.billing.money import from_cents
from cloud_gateway.billing.rendering.errors import IncompleteDocumentError
from cloud_gateway.billing.rendering.view import DocumentKind, DocumentView

__all__ = ["creditor_reference", "epc_payload", "girocode"]

_MAX_AMOUNT: Final = Decimal("999999999.99")
_MAX_VERSION: Final = 13  # EPC069-12: at most QR version 13
_MASK: Final = 2
_REFERENCE_CHARACTERS: Final = frozenset(string.ascii_uppercase + string.digits)


def creditor_reference(document_number: str) -> str:
    """The structured ISO 11649 creditor reference ("RF" + check digits + up to 21 characters).

    Made from a document number's letters and digits (``RE-2026-000042`` gives
    ``RF29RE2026000042``), so bank reconciliation can find the document from the transfer.
    """
    body = "".join(ch for ch in document_number.upper() if ch in _REFERENCE_CHARACTERS)[:21]
    if not body:
        raise IncompleteDocumentError(f"no creditor reference from {document_number!r}")
    check = mod_97_10.calc_check_digits(f"{body}RF")
    return str(iso11649.validate(f"RF{check}{body}"))


def epc_payload(view: DocumentView) -> bytes | None:
    """The EPC069-12 payload of ``view``, or ``None`` when there is nothing to pay by transfer.

    Credit notes and documents without an amount due (``totals().due <= 0``) have none.
    """
    due = view.totals().due
    if due <= 0 or view.kind is DocumentKind.CREDIT_NOTE:
        return None
    problem = _problem(view, from_cents(due))
    if problem:
        raise IncompleteDocumentError(f"document {view.number}: no GiroCode: {problem}")
    bank = view.seller_bank
    fields = [
        "BCD",
        "002",
        "1",
        "SCT",
        bank.bic,
        bank.holder.strip(),
        iban_check.compact(bank.iban),
        f"EUR{from_cents(due)}",
        "",
        iso11649.compact(view.payment_reference or ""),
    ]
    return "\n".join(fields).encode("utf-8")


def girocode(view: DocumentView) -> segno.QRCode | None:
    """The GiroCode of ``view`` (error level M), or ``None`` when :func:`epc_payload` has none."""
    payload = epc_payload(view)
    if payload is None:
        return None
    code = segno.make_qr(payload, error="m", boost_error=False, mask=_MASK)
    if (
        not isinstance(code.version, int) or code.version > _MAX_VERSION
    ):  # pragma: no cover - 331 bytes at most fit version 13
        raise IncompleteDocumentError(f"document {view.number}: GiroCode too large")
    return code


def _problem(view: DocumentView, amount: Decimal) -> str | None:
    bank = view.seller_bank
    if view.currency != "EUR":
        return f"SEPA credit transfers are in EUR, not {view.currency}"
    if amount > _MAX_AMOUNT:
        return f"amount {amount} above {_MAX_AMOUNT}"
    if not bank.holder.strip() or len(bank.holder.strip()) > 70:
        return "the account holder needs 1 to 70 characters"
    if not view.payment_reference:
        return "an amount is due but there is no payment reference"
    try:
        iban_check.validate(bank.iban)
        iso11649.validate(view.payment_reference)
    except ValidationError as exc:
        return str(exc)
    return None
