"""Inverter lists: template, CSV and XLSX reading, row checks with reasons (pure)."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from cloud_gateway.plants.activation import expected_code, verify_code
from cloud_gateway.plants.spreadsheet import (
    RawRow,
    RowProblem,
    SpreadsheetError,
    check_rows,
    read_csv,
    read_sheet,
    read_xlsx,
    template_csv,
    template_xlsx,
)
from simulator.inverter.activation import DEMO_MANUFACTURER_KEY as KEY


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def verify(serial: str, code: str) -> bool:
    return verify_code(serial, code, KEY)


def test_templates_read_back_as_empty_lists() -> None:
    assert read_sheet("vorlage.csv", template_csv()) == []
    assert read_sheet("vorlage.xlsx", template_xlsx()) == []
    assert template_csv().startswith(b"\xef\xbb\xbfSeriennummer;Aktivierungscode;Name")


def test_csv_with_semicolons_bom_and_windows_1252() -> None:
    text = "Seriennummer;Aktivierungscode;Name\r\nSN-1;AAAAA-BBBBB;Dach Süd\r\n;;\r\n"
    rows = read_csv(text.encode("cp1252"))
    assert rows == [RawRow(2, {"serial": "SN-1", "code": "AAAAA-BBBBB", "name": "Dach Süd"})]
    comma = read_csv(b"Serial number,Activation code\nSN-2,CCCCC-DDDDD\n")
    assert comma == [RawRow(2, {"serial": "SN-2", "code": "CCCCC-DDDDD"})]


def test_xlsx_rows_keep_their_line_numbers() -> None:
    data = xlsx([["Seriennummer", "Aktivierungscode"], ["SN-1", "X"], [None, None], [12345, "Y"]])
    assert read_xlsx(data) == [
        RawRow(2, {"serial": "SN-1", "code": "X"}),
        RawRow(4, {"serial": "12345", "code": "Y"}),
    ]


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("a.csv", b"", "plants.sheet.empty"),
        ("a.csv", b"foo;bar\n1;2\n", "plants.sheet.header"),
        ("a.xlsx", b"PK\x03\x04 not really a zip", "plants.sheet.unreadable"),
        ("a.csv", b"x" * (1024 * 1024 + 1), "plants.sheet.too_large"),
    ],
)
def test_unreadable_files_say_why(name: str, data: bytes, reason: str) -> None:
    with pytest.raises(SpreadsheetError) as caught:
        read_sheet(name, data)
    assert caught.value.reason == reason


def test_every_bad_row_has_its_reason_and_good_rows_are_kept() -> None:
    rows = [
        RawRow(2, {"serial": "SN-1", "code": expected_code("SN-1", KEY), "name": "Ost"}),
        RawRow(3, {"serial": "", "code": "AAAAA-AAAAA"}),
        RawRow(4, {"serial": "SN-3", "code": ""}),
        RawRow(5, {"serial": "SN-4", "code": "nonsense"}),
        RawRow(6, {"serial": "SN-5", "code": "AAAAA-AAAAA"}),
        RawRow(7, {"serial": "sn-1", "code": expected_code("SN-1", KEY)}),
        RawRow(8, {"serial": "SN-8", "code": expected_code("SN-8", KEY).lower()}),
    ]
    checked = check_rows(rows, verify=verify, code_budget=5)
    assert [(g.line, g.serial, g.name) for g in checked.good] == [
        (2, "SN-1", "Ost"),
        (8, "SN-8", ""),
    ]
    assert [(b.line, b.problem) for b in checked.bad] == [
        (3, RowProblem.MISSING_SERIAL),
        (4, RowProblem.MISSING_CODE),
        (5, RowProblem.MALFORMED_CODE),
        (6, RowProblem.WRONG_CODE),
        (7, RowProblem.DUPLICATE),
    ]
    assert checked.wrong_codes == 1


def test_rows_beyond_the_guess_budget_are_not_checked() -> None:
    rows = [RawRow(n, {"serial": f"SN-{n}", "code": "AAAAA-AAAAA"}) for n in range(2, 6)]
    checked = check_rows(rows, verify=verify, code_budget=2)
    assert [b.problem for b in checked.bad] == [
        RowProblem.WRONG_CODE,
        RowProblem.WRONG_CODE,
        RowProblem.RATE_LIMITED,
        RowProblem.RATE_LIMITED,
    ]
    assert checked.wrong_codes == 2
