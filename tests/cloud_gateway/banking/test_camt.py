"""Reading camt.053 with literal documents: fields, batches, returns, pending entries, refusals."""

from __future__ import annotations

from datetime import date

import pytest

from cloud_gateway.banking.camt import read_statements
from cloud_gateway.banking.errors import StatementError
from cloud_gateway.banking.model import CamtVersion, Direction

#: a day as a German bank writes it in camt.053.001.02: a credit whose reference is spread over
#: two ``Ustrd`` lines, a return with its reason, and a pending entry
V02 = b"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>052D2026021204</MsgId><CreDtTm>2026-02-12T20:15:00+01:00</CreDtTm></GrpHdr>
  <Stmt>
   <Id>0352D2026021200001</Id><ElctrncSeqNb>31</ElctrncSeqNb>
   <CreDtTm>2026-02-12T20:15:00+01:00</CreDtTm>
   <Acct><Id><IBAN>DE02120300000000202051</IBAN></Id><Ccy>EUR</Ccy></Acct>
   <Bal><Tp><CdOrPrtry><Cd>PRCD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">100.00</Amt>
    <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-02-11</Dt></Dt></Bal>
   <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">2151.52</Amt>
    <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-02-12</Dt></Dt></Bal>
   <Ntry>
    <Amt Ccy="EUR">2151.52</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
    <BookgDt><Dt>2026-02-12</Dt></BookgDt><ValDt><Dt>2026-02-12</Dt></ValDt>
    <AcctSvcrRef>2026021212345</AcctSvcrRef>
    <BkTxCd><Prtry><Cd>NTRF+166+9310</Cd><Issr>ZKA</Issr></Prtry></BkTxCd>
    <NtryDtls><TxDtls>
     <Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
     <RltdPties><Dbtr><Nm>Hof Janssen GbR</Nm></Dbtr>
      <DbtrAcct><Id><IBAN>DE75512108001245126199</IBAN></Id></DbtrAcct></RltdPties>
     <RmtInf><Ustrd>Proforma RF98 PR20</Ustrd><Ustrd>2600 001 Satellit</Ustrd></RmtInf>
    </TxDtls></NtryDtls>
   </Ntry>
   <Ntry>
    <Amt Ccy="EUR">100.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>
    <BookgDt><Dt>2026-02-12</Dt></BookgDt><ValDt><Dt>2026-02-12</Dt></ValDt>
    <AcctSvcrRef>2026021212346</AcctSvcrRef>
    <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>RRTN</SubFmlyCd></Fmly></Domn></BkTxCd>
    <NtryDtls><TxDtls>
     <Refs><EndToEndId>E2E-77</EndToEndId></Refs>
     <RltdPties><Dbtr><Nm>Anna Albers</Nm></Dbtr></RltdPties>
     <RtrInf><Rsn><Cd>AC04</Cd></Rsn><AddtlInf>Konto erloschen</AddtlInf></RtrInf>
    </TxDtls></NtryDtls>
   </Ntry>
   <Ntry>
    <Amt Ccy="EUR">5.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>PDNG</Sts>
    <BkTxCd><Prtry><Cd>NTRF+166</Cd></Prtry></BkTxCd>
   </Ntry>
  </Stmt>
 </BkToCstmrStmt>
</Document>
"""


def test_a_version_02_day_is_read_as_the_bank_wrote_it() -> None:
    [statement] = read_statements(V02, "day.xml")
    assert (statement.version, statement.statement_id, statement.iban) == (
        CamtVersion.V02, "0352D2026021200001", "DE02120300000000202051",
    )  # fmt: skip
    credit, returned = statement.transactions  # the pending entry is not booked money
    assert credit.key == "DE02120300000000202051/2026021212345/1"
    assert (credit.amount, credit.direction, credit.reversal) == (215152, Direction.CREDIT, False)
    assert (credit.name, credit.iban) == ("Hof Janssen GbR", "DE75512108001245126199")
    assert credit.remittance == "Proforma RF98 PR20 2600 001 Satellit"
    assert (credit.end_to_end_id, credit.booking_date) == ("", date(2026, 2, 12))
    assert (returned.direction, returned.reversal, returned.return_reason) == (
        Direction.DEBIT, True, "AC04",
    )  # fmt: skip
    assert (returned.name, returned.end_to_end_id, returned.amount) == (
        "Anna Albers",
        "E2E-77",
        10000,
    )


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (V02.replace(b"<Sts>BOOK</Sts>", b"<Sts>GEBUCHT</Sts>", 1), "line 14: Element"),
        (
            V02.replace(b"2151.52</Amt><CdtDbtInd>CRDT", b"21,52</Amt><CdtDbtInd>CRDT"),
            "line 14: Element",
        ),
        (V02.replace(b"camt.053.001.02", b"camt.054.001.02"), "not a camt.053.001.02 or .08"),
        (V02[:200], "not well-formed XML"),
        (b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>", "not a camt.053"),
    ],
)
def test_an_invalid_file_is_refused_with_its_name_and_the_problem(
    data: bytes, problem: str
) -> None:
    with pytest.raises(StatementError) as refused:
        read_statements(data, "auszug.xml")
    assert str(refused.value).startswith("auszug.xml: ")
    assert problem in refused.value.problem
    assert "passwd" not in refused.value.problem


def test_an_entry_without_bank_reference_is_known_by_the_payers_reference() -> None:
    bare = V02.replace(b"<AcctSvcrRef>2026021212345</AcctSvcrRef>", b"").replace(
        b"<AcctSvcrRef>2026021212346</AcctSvcrRef>", b""
    )
    other_day = bare.replace(b"<Id>0352D2026021200001</Id>", b"<Id>0352D2026021300001</Id>")
    [first] = read_statements(bare, "a.xml")
    [second] = read_statements(other_day, "b.xml")
    credit, returned = first.transactions
    # the returned transfer carries an end-to-end reference: the same key in both statements
    assert returned.key == "DE02120300000000202051/e2e/2026-02-12/DBIT/10000/E2E-77"
    assert second.transactions[1].key == returned.key
    # the credit has none ("NOTPROVIDED"): only its place in this statement names it
    assert credit.key == "DE02120300000000202051/0352D2026021200001#1/1"
    assert second.transactions[0].key != credit.key
