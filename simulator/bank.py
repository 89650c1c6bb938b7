"""A bank's statement writer: ISO 20022 camt.053 (versions .001.02 and .001.08).

The simulated bank of the seller's account: given the movements of a day it writes the
statement a real bank would deliver (group header, one ``Stmt`` with opening and closing
balance, one ``Ntry`` per booking, one ``TxDtls`` per transaction; several transactions in one
entry make a batch). Credits carry the payer's name and IBAN, a structured creditor reference
(``CdtrRefInf``) and/or unstructured remittance lines; a reversal is a debit entry with
``RvslInd`` true, a return a debit with ``RtrInf``. The output validates against the official
XSDs (tested). Pure: no product code, no I/O but the CLI's file.

``simulator bank statement --version 02|08 --credit "AMOUNT|NAME|REFERENCE|TEXT" ... --out F``
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from lxml import etree

__all__ = ["Booking", "Movement", "register", "statement_xml"]

_VERSIONS = ("02", "08")


@dataclass(frozen=True, slots=True, kw_only=True)
class Movement:
    """One transaction: money in (a credit) or money taken back (a reversal or return)."""

    #: positive cents
    amount: int
    #: the payer (for a reversal or return: the payer of the original credit)
    name: str
    iban: str = "DE02100100109307118603"
    #: structured creditor reference (``CdtrRefInf/Ref``), e.g. ``RF…``; empty: none
    reference: str = ""
    #: unstructured remittance text (split into 140-character ``Ustrd`` lines)
    text: str = ""
    #: the payer's end-to-end reference; empty: ``NOTPROVIDED``
    end_to_end_id: str = ""
    #: the bank's own reference of this transaction
    bank_reference: str = ""
    #: a debit with ``RvslInd`` true: the bank takes a booked credit back
    reversal: bool = False
    #: a debit with ``RtrInf`` (reason code): the credit is returned to the payer
    return_reason: str = ""

    @property
    def debit(self) -> bool:
        """Whether the money leaves the account."""
        return self.reversal or bool(self.return_reason)


@dataclass(frozen=True, slots=True, kw_only=True)
class Booking:
    """One statement entry (``Ntry``): a single movement or a batch of them."""

    movements: tuple[Movement, ...]
    #: the bank's entry reference (``AcctSvcrRef``), unique per account
    reference: str
    booked: date = field(default_factory=lambda: datetime.now(UTC).date())


def _amount(cents: int) -> str:
    return str((Decimal(cents) / 100).quantize(Decimal("0.01")))


class _Writer:
    def __init__(self, version: str) -> None:
        if version not in _VERSIONS:
            raise ValueError(f"camt.053 version must be one of {_VERSIONS}, not {version!r}")
        self.version = version
        self.ns = f"urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}"

    def el(self, parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
        child = etree.SubElement(parent, f"{{{self.ns}}}{tag}")
        if text is not None:
            child.text = text
        return child

    def path(self, parent: etree._Element, tags: str, text: str | None = None) -> etree._Element:
        for tag in tags.split("/"):
            parent = self.el(parent, tag)
        if text is not None:
            parent.text = text
        return parent

    def money(self, parent: etree._Element, tag: str, cents: int) -> None:
        self.el(parent, tag, _amount(cents)).set("Ccy", "EUR")

    def balance(self, stmt: etree._Element, code: str, cents: int, day: date) -> None:
        bal = self.el(stmt, "Bal")
        self.path(bal, "Tp/CdOrPrtry/Cd", code)
        self.money(bal, "Amt", abs(cents))
        self.el(bal, "CdtDbtInd", "CRDT" if cents >= 0 else "DBIT")
        self.path(bal, "Dt/Dt", day.isoformat())

    def party(self, parent: etree._Element, role: str, name: str) -> None:
        node = self.el(parent, role)
        self.el(node if self.version == "02" else self.el(node, "Pty"), "Nm", name[:140])

    def entry(self, stmt: etree._Element, booking: Booking) -> int:
        first = booking.movements[0]
        total = sum(m.amount for m in booking.movements)
        indicator = "DBIT" if first.debit else "CRDT"
        ntry = self.el(stmt, "Ntry")
        self.money(ntry, "Amt", total)
        self.el(ntry, "CdtDbtInd", indicator)
        if first.reversal:
            self.el(ntry, "RvslInd", "true")
        if self.version == "02":
            self.el(ntry, "Sts", "BOOK")
        else:
            self.path(ntry, "Sts/Cd", "BOOK")
        self.path(ntry, "BookgDt/Dt", booking.booked.isoformat())
        self.path(ntry, "ValDt/Dt", booking.booked.isoformat())
        self.el(ntry, "AcctSvcrRef", booking.reference)
        code = self.path(ntry, "BkTxCd/Domn")
        self.el(code, "Cd", "PMNT")
        family = self.el(code, "Fmly")
        self.el(family, "Cd", "RCDT")
        self.el(family, "SubFmlyCd", "ESCT" if not first.debit else "RRTN")
        details = self.el(ntry, "NtryDtls")
        if len(booking.movements) > 1:
            batch = self.el(details, "Btch")
            self.el(batch, "NbOfTxs", str(len(booking.movements)))
            self.money(batch, "TtlAmt", total)
            self.el(batch, "CdtDbtInd", indicator)
        for index, movement in enumerate(booking.movements, 1):
            self.transaction(details, booking, index, movement, indicator)
        return -total if first.debit else total

    def transaction(
        self,
        details: etree._Element,
        booking: Booking,
        index: int,
        movement: Movement,
        indicator: str,
    ) -> None:
        tx = self.el(details, "TxDtls")
        refs = self.el(tx, "Refs")
        self.el(refs, "AcctSvcrRef", movement.bank_reference or f"{booking.reference}-{index}")
        self.el(refs, "EndToEndId", movement.end_to_end_id or "NOTPROVIDED")
        if self.version == "02":
            self.money(self.path(tx, "AmtDtls/TxAmt"), "Amt", movement.amount)
        else:
            self.money(tx, "Amt", movement.amount)
            self.el(tx, "CdtDbtInd", indicator)
        parties = self.el(tx, "RltdPties")
        self.party(parties, "Dbtr", movement.name)
        self.path(parties, "DbtrAcct/Id/IBAN", movement.iban)
        if movement.reference or movement.text:
            remittance = self.el(tx, "RmtInf")
            for start in range(0, len(movement.text), 140):
                self.el(remittance, "Ustrd", movement.text[start : start + 140])
            if movement.reference:
                creditor = self.path(remittance, "Strd/CdtrRefInf")
                self.path(creditor, "Tp/CdOrPrtry/Cd", "SCOR")
                self.el(creditor, "Ref", movement.reference)
        if movement.return_reason:
            self.path(tx, "RtrInf/Rsn/Cd", movement.return_reason)


def statement_xml(
    version: str,
    bookings: Sequence[Booking],
    *,
    iban: str = "DE02120300000000202051",
    statement_id: str = "STMT-1",
    message_id: str | None = None,
    created_at: datetime | None = None,
    opening: int = 0,
) -> bytes:
    """The camt.053 document of ``bookings`` (version ``"02"`` or ``"08"``) as UTF-8 bytes."""
    writer = _Writer(version)
    created = (created_at or datetime.now(UTC)).replace(microsecond=0)
    day = bookings[0].booked if bookings else created.date()
    root = etree.Element(f"{{{writer.ns}}}Document", nsmap={None: writer.ns})
    message = writer.el(root, "BkToCstmrStmt")
    header = writer.el(message, "GrpHdr")
    writer.el(header, "MsgId", message_id or f"MSG-{statement_id}")
    writer.el(header, "CreDtTm", created.isoformat())
    stmt = writer.el(message, "Stmt")
    writer.el(stmt, "Id", statement_id)
    writer.el(stmt, "CreDtTm", created.isoformat())
    account = writer.el(stmt, "Acct")
    writer.path(account, "Id/IBAN", iban)
    writer.el(account, "Ccy", "EUR")
    writer.balance(stmt, "OPBD", opening, day)
    closing_at = len(stmt)
    closing = opening
    for booking in bookings:
        closing += writer.entry(stmt, booking)
    writer.balance(stmt, "CLBD", closing, day)
    stmt.insert(closing_at, stmt[-1])  # balances come before the entries
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _movement(spec: str) -> Movement:
    """``AMOUNT|NAME|REFERENCE|TEXT`` (reference and text may be empty)."""
    amount, name, reference, text = ([*spec.split("|"), "", "", ""])[:4]
    return Movement(amount=int(Decimal(amount) * 100), name=name, reference=reference, text=text)


async def _statement(args: argparse.Namespace, _stop: asyncio.Event) -> int:
    bookings = [
        Booking(
            movements=(_movement(spec),), reference=f"{args.statement_id}-{n}", booked=args.booked
        )
        for n, spec in enumerate(args.credit, 1)
    ]
    data = statement_xml(args.version, bookings, iban=args.iban, statement_id=args.statement_id)
    if args.out is None:
        sys.stdout.write(data.decode())
    else:
        args.out.write_bytes(data)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``simulator bank statement``."""
    from tunnel.cliutil import add_common_arguments  # noqa: PLC0415 - keeps the module pure

    bank = sub.add_parser("bank", help="the seller's bank: camt.053 statements")
    actions = bank.add_subparsers(dest="bank_command", required=True, metavar="ACTION")
    statement = actions.add_parser("statement", help="write a camt.053 statement of credits")
    add_common_arguments(statement)
    statement.add_argument("--version", choices=_VERSIONS, default="08", help="camt.053.001.xx")
    statement.add_argument(
        "--credit",
        action="append",
        default=[],
        metavar="AMOUNT|NAME|REFERENCE|TEXT",
        help="a credit (repeatable); e.g. '2151.52|Hof Janssen|RF18PR202600001|'",
    )
    statement.add_argument("--iban", default="DE02120300000000202051", help="seller's IBAN")
    statement.add_argument("--statement-id", default="STMT-1", help="the statement's Id")
    statement.add_argument(
        "--booked",
        type=date.fromisoformat,
        default=datetime.now(UTC).date(),
        help="booking day (YYYY-MM-DD)",
    )
    statement.add_argument("--out", type=Path, default=None, help="file (default: stdout)")
    statement.set_defaults(handler=_statement)
