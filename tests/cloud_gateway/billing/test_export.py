"""``cloud-gateway documents export``: the period's documents and index.csv (GoBD)."""

from __future__ import annotations

import asyncio
import csv
import hashlib
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.billing.catalogue import load_catalogues
from cloud_gateway.billing.pricing import Buyer
from cloud_gateway.billing.rendering.view import Party
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.service import BillingService, Customer, OrderLine, RunReport
from cloud_gateway.cli import main
from cloud_gateway.config import BillingConfig
from cloud_gateway.store import Store
from tests.support.einvoice import validate_pdf
from tunnel.clock import ManualClock


async def _seed(url: str) -> None:
    clock = ManualClock(datetime(2026, 2, 10, 9, 0, tzinfo=UTC))
    store = await Store.open(url)
    try:
        account = await store.repo(AccountRepository).create(
            username="x", email="x@example.org", password_hash="h", created_at=clock.now()
        )
        service = BillingService(
            store.repo(BillingRepository), load_catalogues(), clock, BillingConfig()
        )
        customer = Customer(
            account_id=account.id,
            party=Party(name="Hof", customer_number="K1"),
            buyer=Buyer(business=False, country="DE"),
        )
        line = OrderLine(product="satellite-uplink", plan="monthly")
        placed = await service.place_order(customer, [line], key="o")
        await service.wish_start(placed["order_id"], date(2026, 3, 1), key="w")
        await service.confirm_reservation(placed["order_id"], "order_form", key="r")
        # confirmed and paid: activated, starting on the wished day
        await service.record_payment(account.id, 215152, "RF98PR202600001", key="p")
        clock.set(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
        await service.run()
        clock.set(datetime(2026, 5, 1, 9, 0, tzinfo=UTC))
        await service.run()
        assert await service.run() == RunReport()
    finally:
        await store.close()


async def _stored_hash(url: str, number: str) -> str:
    store = await Store.open(url)
    try:
        repo = store.repo(BillingRepository)
        async with repo.transaction() as conn:
            found = await repo.documents(conn)
    finally:
        await store.close()
    [document] = [d for d in found if d.number == number]
    assert hashlib.sha256(document.canonical.encode()).hexdigest() == document.sha256
    return document.sha256


def test_export_writes_each_document_and_an_index(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"
    asyncio.run(_seed(url))
    config = tmp_path / "gateway.toml"
    config.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    out = tmp_path / "audit"
    argv = ["documents", "export", "--config", str(config), "--from", "2026-03-01",
            "--to", "2026-03-31", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    assert "1 documents" in capsys.readouterr().out
    with (out / "index.csv").open(encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    [row] = rows  # the February pro-forma and the May one are outside the period
    columns = ("number", "type", "date", "customer", "net", "vat_S_19", "gross")
    assert {k: row[k] for k in columns} == {
        "number": "RE-2026-00001", "type": "invoice", "date": "2026-03-01", "customer": "K1",
        "net": "1808.00", "vat_S_19": "343.52", "gross": "2151.52",
    }  # fmt: skip
    # the PDF/A-3 carries the EN 16931 XML, valid by XSD and schematron
    assert row["file"] == "RE-2026-00001.pdf"
    xml = validate_pdf((out / row["file"]).read_bytes())
    assert b"RE-2026-00001" in xml
    assert b"2151.52" in xml
    # the SHA-256 is the one stored with the document when it was finalised
    stored = asyncio.run(_stored_hash(url, "RE-2026-00001"))
    assert row["sha256"] == stored
    assert main([*argv[:4], "--from", "2026-01-01", "--to", "2026-12-31", "--out", str(out)]) == 0
    with (out / "index.csv").open(encoding="utf-8") as stream:
        numbers = [r["number"] for r in csv.DictReader(stream)]
    assert numbers == ["PR-2026-00001", "RE-2026-00001", "PR-2026-00002"]
