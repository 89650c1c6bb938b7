"""Billing run: seconds for one run over many active contracts, on SQLite and PostgreSQL.

Setup (not timed): one customer with ``count`` active seed-004 contracts (satellite uplink,
setup fee plus three prepaid months, started 1 March 2026), written straight into the tables.
Timed: :meth:`BillingService.run` at 1 March 2026, 10:00 Berlin, which finalises the first
invoice of every contract (number from the range counter, canonical JSON, SHA-256), queues each
contract's next job and commits, in one transaction; then the same run again, which must find
everything in place and create nothing (``rerun_s_*``).

Documents per second (PDF/A-3 + XML + GiroCode) are measured by ``bench/billing_documents.py``
(the rendering helper's module), called from the single marked place below.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from typing import Any

from bench._loop import run_gateway
from bench.billing_documents import measure as measure_documents
from bench.ingest import empty_database
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.billing.catalogue import load_catalogues
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.schema import billing_contracts, billing_orders
from cloud_gateway.billing.service import BillingService, RunReport
from cloud_gateway.config import BillingConfig
from cloud_gateway.store import Store
from tunnel.clock import ManualClock

__all__ = ["run"]

RUN_AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
_CHUNK = 5000


async def _contracts(store: Store, count: int) -> None:
    account = await store.repo(AccountRepository).create(
        username="bench", email="bench@example.org", password_hash="h", created_at=RUN_AT
    )
    buyer = json.dumps({"name": "Bench Kunde", "country": "DE"})
    async with store.engine.begin() as conn:
        for first in range(1, count + 1, _CHUNK):
            ids = range(first, min(first + _CHUNK, count + 1))
            await conn.execute(
                billing_orders.insert(),
                [
                    {"id": i, "account_id": account.id, "state": "active",
                     "catalogue_version": "2026-01", "language": "de", "created_at": RUN_AT}
                    for i in ids
                ],
            )  # fmt: skip
            await conn.execute(
                billing_contracts.insert(),
                [
                    {"id": i, "order_id": i, "line_no": 1, "account_id": account.id,
                     "catalogue_version": "2026-01", "product_code": "satellite-uplink",
                     "plan_code": "monthly", "booking": "subscription", "state": "active",
                     "start_day": date(2026, 3, 1), "paid_periods": 3, "language": "de",
                     "buyer": buyer, "vat_category": "S", "vat_rate": "19",
                     "created_at": RUN_AT}
                    for i in ids
                ],
            )  # fmt: skip


async def _measure(backend: str, count: int) -> tuple[float, float]:
    async with empty_database(backend) as url:
        store = await Store.open(url)
        try:
            await _contracts(store, count)
            service = BillingService(
                store.repo(BillingRepository),
                load_catalogues(),
                ManualClock(RUN_AT),
                BillingConfig(),
            )
            started = time.perf_counter()
            report = await service.run()
            run_s = time.perf_counter() - started
            if report != RunReport(documents=count):
                raise AssertionError(f"{backend}: expected {count} invoices, got {report}")
            started = time.perf_counter()
            again = await service.run()
            rerun_s = time.perf_counter() - started
            if again != RunReport():
                raise AssertionError(f"{backend}: the rerun created {again}")
        finally:
            await store.close()
    return run_s, rerun_s


def _documents_part(smoke: bool) -> tuple[dict[str, float], dict[str, float]]:
    """Complete documents per second (PDF/A-3 + XML + QR) and the ratio to the bare PDF page."""
    result = measure_documents(20 if smoke else 500)
    return (
        {"documents_per_s": float(result["documents_per_s"])},
        {"documents_vs_bare_pdf": float(result["documents_vs_bare_pdf"])},
    )


def run(*, smoke: bool = False) -> dict[str, Any]:
    """Run the benchmark (``smoke``: 300 contracts)."""
    count = 300 if smoke else 100_000
    run_sqlite, rerun_sqlite = run_gateway(_measure("sqlite", count))
    run_pg, rerun_pg = run_gateway(_measure("postgresql", count))
    metrics: dict[str, Any] = {
        "contracts": count,
        "run_s_sqlite": round(run_sqlite, 2),
        "run_s_postgresql": round(run_pg, 2),
        "rerun_s_sqlite": round(rerun_sqlite, 2),
        "rerun_s_postgresql": round(rerun_pg, 2),
    }
    documents, ratios = _documents_part(smoke)
    metrics |= documents
    ratios |= {"run_s_sqlite_vs_limit_30s": round(run_sqlite / 30, 3),
               "run_s_postgresql_vs_limit_30s": round(run_pg / 30, 3)}  # fmt: skip
    return {"metrics": metrics, "ratios": ratios}
