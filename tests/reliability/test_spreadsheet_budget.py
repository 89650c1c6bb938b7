"""Security review item 3: spreadsheet uploads read with a budget, off the event loop.

A 115 KB XLSX with 1,000,000 cells in one row used to cost the gateway 16 s and 90 MB while
``/healthz`` waited up to 1.6 s. Now every sheet is streamed cell by cell before openpyxl sees
it and a row past :data:`MAX_CELLS_PER_ROW` cells refuses the file with a clear message; the
heaviest list that is still allowed is read in a worker thread, so ``/healthz`` is answered
while it is read (checked by order: the read is held in the worker until ``/healthz`` has
answered, not by timers).
"""

from __future__ import annotations

import asyncio
import functools
import io
import threading
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from cloud_gateway.plants.spreadsheet import (
    MAX_CELLS,
    MAX_CELLS_PER_ROW,
    SpreadsheetError,
    read_sheet,
    template_xlsx,
)
from tests.reliability.report import record
from tests.support.gateway import gateway_harness
from tunnel.clock import ManualClock

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

CELLS = 1_000_000
"""Cells in the one wide row of the hostile workbook."""

HEAVIEST = [MAX_CELLS_PER_ROW] * ((MAX_CELLS - 2) // MAX_CELLS_PER_ROW)
"""The heaviest list still read: full rows up to the cell budget (the header has two)."""

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _workbook(rows: list[int], cell: str = "<c><v>1</v></c>") -> bytes:
    """An XLSX whose first sheet has the header row, then one row of ``n`` cells per entry."""
    parts = io.BytesIO()
    body = io.StringIO()
    body.write(f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_NS}"><sheetData>')
    body.write(
        '<row r="1"><c t="inlineStr"><is><t>Seriennummer</t></is></c>'
        '<c t="inlineStr"><is><t>Aktivierungscode</t></is></c></row>'
    )
    for number, cells in enumerate(rows, start=2):
        body.write(f'<row r="{number}">' + cell * cells + "</row>")
    body.write("</sheetData></worksheet>")
    with (
        zipfile.ZipFile(io.BytesIO(template_xlsx())) as template,
        zipfile.ZipFile(parts, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out,
    ):
        for info in template.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                out.writestr(info.filename, body.getvalue())
            else:
                out.writestr(info, template.read(info))
    return parts.getvalue()


def test_a_million_cells_in_one_row_are_refused_after_the_budget() -> None:
    allowed = read_sheet("liste.xlsx", _workbook([MAX_CELLS_PER_ROW]))
    assert len(allowed) == 1  # a row at the limit is still read
    hostile = _workbook([CELLS], "<c/>")  # 4 MB unpacked: within the size budget
    started = time.perf_counter()
    with pytest.raises(SpreadsheetError) as refused:
        read_sheet("liste.xlsx", hostile)
    took = time.perf_counter() - started
    passed = refused.value.reason == "plants.sheet.too_wide"
    record(
        "spreadsheet_wide_row",
        f"{len(hostile) // 1024} KB XLSX with {CELLS} cells in one row refused "
        f"({refused.value.reason}) after {took * 1000:.1f} ms",
        passed=passed,
    )
    assert passed
    with pytest.raises(SpreadsheetError) as many:
        read_sheet("liste.xlsx", _workbook([*HEAVIEST, MAX_CELLS_PER_ROW]))
    assert many.value.reason == "plants.sheet.too_many_cells"


def test_a_csv_field_past_the_csv_limit_is_refused_with_its_reason() -> None:
    field = "9" * 131_073
    with pytest.raises(SpreadsheetError) as refused:
        read_sheet("liste.csv", f"Seriennummer;Aktivierungscode\n{field};X\n".encode())
    passed = refused.value.reason == "plants.sheet.field_too_long"
    record("spreadsheet_long_field", f"CSV field of {len(field)} characters refused", passed=passed)
    assert passed


class _HeldSheetReads(ThreadPoolExecutor):
    """The loop's default executor; a submitted ``read_sheet`` waits until it is released.

    So the test knows the list is being read in a worker thread (``started``) and can ask
    ``/healthz`` meanwhile; a list read on the event loop never reaches this executor.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(max_workers=4)
        self.started = asyncio.Event()
        self.release = threading.Event()
        self._loop = loop

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        target = fn.args[0] if isinstance(fn, functools.partial) and fn.args else fn
        if target is not read_sheet:
            return super().submit(fn, *args, **kwargs)

        def held() -> Any:
            self._loop.call_soon_threadsafe(self.started.set)
            self.release.wait(60)
            return fn(*args, **kwargs)

        return super().submit(held)


async def test_healthz_is_answered_while_a_list_is_read(tmp_path: Path, clock: ManualClock) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    heaviest = _workbook(HEAVIEST)
    hostile = _workbook([CELLS], "<c/>")
    loop = asyncio.get_running_loop()
    reads = _HeldSheetReads(loop)
    loop.set_default_executor(reads)
    async with gateway_harness(tmp_path, db, clock) as gw:
        await gw.create_account("anna")
        async with gw.client() as http:
            await gw.login(http, "anna")
            token = await gw.form_token(http, "/plants/new")
            async with http.post(
                "/api/v1/plants", json={"name": "P"}, headers={"X-CSRF-Token": token}
            ) as resp:
                pid = (await resp.json())["id"]
            order: list[str] = []

            async def upload(data: bytes) -> tuple[int, str]:
                form = aiohttp.FormData()
                form.add_field("csrf_token", token)
                form.add_field("file", data, filename="liste.xlsx")
                async with http.post(f"/plants/{pid}/inverters/upload", data=form) as resp:
                    page = await resp.text()
                order.append("upload")
                return resp.status, page

            async def healthz() -> int:
                await reads.started.wait()
                order.append("reading")
                try:
                    async with gw.client() as other, other.get("/healthz") as resp:
                        order.append("healthz")
                        return resp.status
                finally:
                    reads.release.set()

            sending = asyncio.ensure_future(upload(heaviest))
            asking = asyncio.ensure_future(healthz())
            await asyncio.wait([sending, asking], return_when=asyncio.FIRST_COMPLETED)
            if not asking.done():  # the list was read without the worker thread
                reads.release.set()
                asking.cancel()
            status, _page = await sending
            health = await asking if not asking.cancelled() else 0
            refused_status, refused_page = await upload(hostile)
    passed = (
        order[:3] == ["reading", "healthz", "upload"]
        and status == 200
        and health == 200
        and refused_status == 422
        and "zu viele Zellen" in refused_page
    )
    record(
        "spreadsheet_healthz",
        f"{len(HEAVIEST)} rows x {MAX_CELLS_PER_ROW} cells read while /healthz answered first "
        f"({' then '.join(order[:3])}); {CELLS}-cell row refused with {refused_status}",
        passed=passed,
    )
    assert order[:3] == ["reading", "healthz", "upload"]
    assert (status, health, refused_status) == (200, 200, 422)
    assert "zu viele Zellen" in refused_page
