"""The simulated bank's camt.053 writer: valid against the official XSDs, and its CLI."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from lxml import etree

from cloud_gateway.banking.camt import schema_path
from cloud_gateway.banking.model import CamtVersion
from simulator.bank import Booking, Movement, statement_xml
from simulator.cli import main

DAY = date(2026, 2, 12)


def _valid(data: bytes, version: CamtVersion) -> etree._Element:
    schema = etree.XMLSchema(etree.parse(str(schema_path(version))))
    document = etree.fromstring(data)
    schema.assertValid(document)
    return document


@pytest.mark.parametrize("version", list(CamtVersion))
def test_every_kind_of_movement_validates_against_the_xsd(version: CamtVersion) -> None:
    bookings = [
        Booking(movements=(Movement(amount=215152, name="Hof Janssen", reference="RF98PR202600001",
                                    text="x" * 300),), reference="E1", booked=DAY),
        Booking(movements=(Movement(amount=100, name="A"), Movement(amount=250, name="B")),
                reference="E2", booked=DAY),
        Booking(movements=(Movement(amount=100, name="A", reversal=True),), reference="E3",
                booked=DAY),
        Booking(movements=(Movement(amount=100, name="A", return_reason="AC04"),), reference="E4",
                booked=DAY),
    ]  # fmt: skip
    document = _valid(statement_xml(version.value, bookings, opening=50), version)
    ns = {"c": version.namespace}
    balances = document.xpath("//c:Bal/c:Amt/text()", namespaces=ns)
    assert balances == ["0.50", "2153.52"]  # 0.50 + 2151.52 + 3.50 - 1.00 - 1.00
    assert document.xpath("count(//c:Ustrd)", namespaces=ns) == 3  # 300 characters
    assert document.xpath("//c:Btch/c:NbOfTxs/text()", namespaces=ns) == ["2"]


def test_the_cli_writes_a_statement_file(tmp_path: Path) -> None:
    out = tmp_path / "auszug.xml"
    argv = ["bank", "statement", "--version", "02", "--booked", "2026-02-12", "--out", str(out),
            "--credit", "2151.52|Hof Janssen|RF98PR202600001|",
            "--credit", "12.34|Wer|"]  # fmt: skip
    assert main(argv) == 0
    document = _valid(out.read_bytes(), CamtVersion.V02)
    ns = {"c": CamtVersion.V02.namespace}
    assert document.xpath("//c:Ntry/c:Amt/text()", namespaces=ns) == ["2151.52", "12.34"]
    assert document.xpath("//c:CdtrRefInf/c:Ref/text()", namespaces=ns) == ["RF98PR202600001"]
