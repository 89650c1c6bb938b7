"""Inverter lists as spreadsheets (R-MON-7): template, reading CSV and XLSX, row checks (pure).

A list has a header row and one inverter per row: serial number, activation code and an
optional name. Headers are matched case-insensitively in German or English
("Seriennummer"/"Serial number", "Aktivierungscode"/"Activation code", "Name"). CSV may be
UTF-8 (with or without BOM) or Windows-1252, separated by ``;`` (German Excel) or ``,``.

:func:`check_rows` sorts rows into good and bad, each bad row with a :class:`RowProblem`;
it never touches the database: rows whose serial is already registered are refused by the
caller, which knows the store.

Reading has a budget (security review, issue 20 item 3: a 115 KB XLSX with 1,000,000 cells in
one row cost 16 s and 90 MB): a row may have at most :data:`MAX_CELLS_PER_ROW` cells and the
rows read at most :data:`MAX_CELLS`, only the header's columns are read (at most
:data:`MAX_COLUMNS`), an XLSX may unpack to at most
:data:`MAX_UNPACKED` bytes, and its sheets are streamed once, cell by cell, before openpyxl sees
them, so an oversized row is refused after :data:`MAX_CELLS_PER_ROW` cells, not parsed whole.
The caller runs the reading in a worker thread, off the event loop.
"""

from __future__ import annotations

import csv
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from itertools import islice
from typing import IO

from openpyxl import Workbook, load_workbook

from cloud_gateway.errors import GatewayError, StateError
from cloud_gateway.plants.activation import normalise_code, normalise_serial

__all__ = [
    "MAX_BYTES",
    "MAX_CELLS_PER_ROW",
    "MAX_COLUMNS",
    "MAX_ROWS",
    "MAX_UNPACKED",
    "BadRow",
    "GoodRow",
    "RawRow",
    "RowProblem",
    "SheetCheck",
    "SpreadsheetError",
    "check_rows",
    "read_csv",
    "read_sheet",
    "read_xlsx",
    "template_csv",
    "template_xlsx",
]

MAX_BYTES = 1024 * 1024
MAX_ROWS = 1000
MAX_COLUMNS = 26
"""Columns read from the header on (A to Z); the list needs three."""
MAX_CELLS_PER_ROW = 64
"""More cells than this in one row refuse the file (``plants.sheet.too_wide``)."""
MAX_CELLS = 20_000
"""More cells than this in the rows read refuse the file (``plants.sheet.too_many_cells``)."""
MAX_UNPACKED = 8 * 1024 * 1024
"""What an XLSX may unpack to, all parts together."""
_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,31}:)?(row|c)[\s/>]")
"""A row or cell start tag, with or without a namespace prefix."""
_CHUNK = 64 * 1024
_CARRY = 64
"""Bytes kept from one chunk to the next: a tag cut in two is found whole."""
_HEADERS = ("Seriennummer", "Aktivierungscode", "Name")
_ALIASES = {
    "seriennummer": "serial",
    "serial": "serial",
    "serial number": "serial",
    "serialnumber": "serial",
    "aktivierungscode": "code",
    "activation code": "code",
    "activation_code": "code",
    "code": "code",
    "name": "name",
    "bezeichnung": "name",
}


class SpreadsheetError(GatewayError, ValueError):
    """The file as a whole cannot be read; ``reason`` is a text id."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RowProblem(StrEnum):
    """Why one row was not taken."""

    MISSING_SERIAL = "missing_serial"
    BAD_SERIAL = "bad_serial"
    MISSING_CODE = "missing_code"
    MALFORMED_CODE = "malformed_code"
    WRONG_CODE = "wrong_code"
    DUPLICATE = "duplicate"
    TAKEN = "taken"
    RATE_LIMITED = "rate_limited"


@dataclass(frozen=True, slots=True)
class RawRow:
    """One data row as read: its line number (header is line 1) and its cells by column."""

    line: int
    cells: dict[str, str]


@dataclass(frozen=True, slots=True)
class GoodRow:
    """A row whose code fits its serial."""

    line: int
    serial: str
    name: str


@dataclass(frozen=True, slots=True)
class BadRow:
    """A refused row and why."""

    line: int
    serial: str
    problem: RowProblem


@dataclass(frozen=True, slots=True)
class SheetCheck:
    """The outcome of :func:`check_rows`."""

    good: list[GoodRow]
    bad: list[BadRow]
    wrong_codes: int
    """How many rows had a wrong code (they count against the guessing limit)."""


def _rows(table: Iterable[Iterable[object]]) -> list[RawRow]:
    lines = iter(table)
    header = next(lines, None)
    if header is None:
        raise SpreadsheetError("plants.sheet.empty")
    header = _capped(header)
    columns = [_ALIASES.get(str(h or "").strip().lower()) for h in header[:MAX_COLUMNS]]
    if "serial" not in columns or "code" not in columns:
        raise SpreadsheetError("plants.sheet.header")
    result: list[RawRow] = []
    for number, raw in enumerate(lines, start=2):
        cells = {
            col: str(value).strip()
            for col, value in zip(columns, _capped(raw), strict=False)
            if col is not None and value is not None
        }
        if not any(cells.values()):
            continue
        if len(result) >= MAX_ROWS:
            raise SpreadsheetError("plants.sheet.too_many")
        result.append(RawRow(number, cells))
    return result


def _capped(line: Iterable[object]) -> list[object]:
    cells = list(islice(line, MAX_CELLS_PER_ROW + 1))
    if len(cells) > MAX_CELLS_PER_ROW:
        raise SpreadsheetError("plants.sheet.too_wide")
    return cells


_BROKEN_ZIP = (
    zipfile.BadZipFile,
    OSError,
    EOFError,
    zlib.error,
    NotImplementedError,
    RuntimeError,  # e.g. an encrypted member
    struct.error,
)
"""What ``zipfile`` raises on a damaged archive (besides ``ValueError``, see below)."""


def _check_budget(data: bytes) -> None:
    """Refuse a workbook that unpacks too large or has a too wide row, before parsing it."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (*_BROKEN_ZIP, ValueError) as exc:
        raise SpreadsheetError("plants.sheet.unreadable") from exc
    with archive:
        if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED:
            raise SpreadsheetError("plants.sheet.too_large")
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                try:
                    part = archive.open(name)
                except (*_BROKEN_ZIP, ValueError) as exc:  # e.g. a negative seek offset
                    raise SpreadsheetError("plants.sheet.unreadable") from exc
                with part:
                    _guarded_scan(part)


def _guarded_scan(part: IO[bytes]) -> None:
    try:
        _scan_rows(part)
    except SpreadsheetError:
        raise  # the budget's own refusal (a ValueError too)
    except (*_BROKEN_ZIP, ValueError) as exc:
        raise SpreadsheetError("plants.sheet.unreadable") from exc


def _scan_rows(part: IO[bytes]) -> None:
    """Stream one sheet's XML and count its cells, up to the rows that are read.

    A byte scan for ``<row`` and ``<c`` tags, not an XML parser: it costs little per cell, so
    the budget is checked before openpyxl builds a single cell (a tag inside a comment only
    makes the count larger, never smaller).
    """
    cells = total = rows = 0
    tail = b""
    while True:
        chunk = part.read(_CHUNK)
        buf = tail + chunk
        keep = len(buf) - _CARRY if chunk else len(buf)
        for match in _TAG.finditer(buf):
            if match.start() >= keep:
                break
            if match.group(1) == b"row":
                rows += 1
                cells = 0
                if rows > MAX_ROWS + 2:
                    return  # read_xlsx reads no further
                continue
            cells += 1
            total += 1
            if cells > MAX_CELLS_PER_ROW:
                raise SpreadsheetError("plants.sheet.too_wide")
            if total > MAX_CELLS:
                raise SpreadsheetError("plants.sheet.too_many_cells")
        if not chunk:
            return
        tail = buf[max(keep, 0) :]


def read_csv(data: bytes) -> list[RawRow]:
    """The rows of a CSV file."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    try:
        return _rows(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as exc:  # e.g. a line break inside an unquoted field
        too_long = "field larger than field limit" in str(exc)  # over 131,072 characters
        raise SpreadsheetError(
            "plants.sheet.field_too_long" if too_long else "plants.sheet.unreadable"
        ) from exc


def read_xlsx(data: bytes) -> list[RawRow]:
    """The rows of the first sheet of an XLSX workbook."""
    _check_budget(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zip, XML and key errors alike
        raise SpreadsheetError("plants.sheet.unreadable") from exc
    try:
        if not book.worksheets:
            raise SpreadsheetError("plants.sheet.empty")
        sheet = book.worksheets[0]
        return _rows(sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 2, max_col=MAX_COLUMNS))
    finally:
        book.close()


def read_sheet(filename: str, data: bytes) -> list[RawRow]:
    """Rows of an uploaded file, by its name's extension (``.xlsx`` or ``.csv``)."""
    if len(data) > MAX_BYTES:
        raise SpreadsheetError("plants.sheet.too_large")
    if filename.lower().endswith(".xlsx") or data[:2] == b"PK":
        return read_xlsx(data)
    return read_csv(data)


def check_rows(
    rows: Iterable[RawRow], *, verify: Callable[[str, str], bool], code_budget: int
) -> SheetCheck:
    """Check every row; after ``code_budget`` wrong codes the rest are not checked."""
    good: list[GoodRow] = []
    bad: list[BadRow] = []
    seen: set[str] = set()
    wrong = 0
    for row in rows:
        raw_serial = row.cells.get("serial", "")
        code = row.cells.get("code", "")
        problem: RowProblem | None = None
        serial = raw_serial
        if not raw_serial:
            problem = RowProblem.MISSING_SERIAL
        else:
            try:
                serial = normalise_serial(raw_serial)
            except ValueError:
                problem = RowProblem.BAD_SERIAL
        if problem is None and not code:
            problem = RowProblem.MISSING_CODE
        elif problem is None and normalise_code(code) is None:
            problem = RowProblem.MALFORMED_CODE
        elif problem is None and serial in seen:
            problem = RowProblem.DUPLICATE
        elif problem is None and wrong >= code_budget:
            problem = RowProblem.RATE_LIMITED
        elif problem is None and not verify(serial, code):
            problem = RowProblem.WRONG_CODE
            wrong += 1
        if problem is None:
            seen.add(serial)
            good.append(GoodRow(row.line, serial, row.cells.get("name", "")[:100]))
        else:
            bad.append(BadRow(row.line, serial, problem))
    return SheetCheck(good=good, bad=bad, wrong_codes=wrong)


def template_csv() -> bytes:
    """The CSV template: UTF-8 with BOM and ``;`` so that Excel opens it as it should."""
    return ("\ufeff" + ";".join(_HEADERS) + "\r\n").encode("utf-8")


def template_xlsx() -> bytes:
    """The XLSX template: one sheet with the header row."""
    book = Workbook()
    sheet = book.active
    if sheet is None:  # a new workbook always has its first sheet
        raise StateError("openpyxl made a workbook without a sheet")
    sheet.title = "Wechselrichter"
    sheet.append(list(_HEADERS))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
