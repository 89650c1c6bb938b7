"""camt.053 import: seconds to import and match one statement against open pro-formas.

Setup (not timed): ``count`` customers, each with one open seed-004 pro-forma (setup fee and
three months; the first made by the money core itself, the others copies of its row with their
own number, creditor reference, account and contract, written straight into the tables), and a
camt.053.001.08 statement from the simulated bank with one credit per pro-forma: 70 % pay with
the structured RF reference, 20 % name the document number in the remittance text, 10 % give no
reference (matched by amount and name). Timed: :meth:`BankService.import_statement` (XSD
validation, reading, one pass of look-ups, matching, every payment booked and its pro-forma
settled).
``bench/shop.py`` reports it as ``camt_import_s_sqlite`` / ``_postgresql``.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from bench._loop import run_gateway
from bench.ingest import empty_database
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.accounts.schema import accounts
from cloud_gateway.banking.service import BankService
from cloud_gateway.billing.catalogue import load_catalogues
from cloud_gateway.billing.documents import rf_reference
from cloud_gateway.billing.pricing import Buyer
from cloud_gateway.billing.rendering.view import Party
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.schema import billing_contracts, billing_documents, billing_orders
from cloud_gateway.billing.service import BillingService, Customer, OrderLine
from cloud_gateway.config import BillingConfig
from cloud_gateway.store import Store
from simulator.bank import Booking, Movement, statement_xml
from tunnel.clock import ManualClock

__all__ = ["camt_import_seconds", "statement_for"]

AT = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)
_CHUNK = 2000
#: seed 004: a service contract paid ahead by bank transfer (its settlement starts nothing)
_LINE = OrderLine(product="satellite-uplink", plan="monthly")


def _name(n: int) -> str:
    return f"Kundin {n:05d} Muster"


def _copies(table: sa.Table, template: dict[str, Any], rows: list[dict[str, Any]]) -> list[Any]:
    return [{**{k: v for k, v in template.items() if k != "id"}, **row} for row in rows]


async def _proformas(store: Store, billing: BillingService, count: int) -> list[tuple[str, str]]:
    """``count`` open pro-formas: ``(number, reference)`` each; the first made for real."""
    first = await store.repo(AccountRepository).create(
        username="k00001", email="k00001@example.org", password_hash="h", created_at=AT
    )
    customer = Customer(
        account_id=first.id,
        party=Party(name=_name(1), city="Bunde", postcode="26831", street="Deichweg 3"),
        buyer=Buyer(business=False, country="DE"),
    )
    await billing.place_order(customer, [_LINE], key="bench-order-1")
    async with store.engine.begin() as conn:
        order = dict((await conn.execute(sa.select(billing_orders))).one()._mapping)
        contract = dict((await conn.execute(sa.select(billing_contracts))).one()._mapping)
        document = dict((await conn.execute(sa.select(billing_documents))).one()._mapping)
        refs = [(str(document["number"]), str(document["payment_reference"]))]
        for start in range(2, count + 1, _CHUNK):
            ids = range(start, min(start + _CHUNK, count + 1))
            numbers = {i: f"PR-2026-{i:05d}" for i in ids}
            await conn.execute(accounts.insert(), [
                {"id": i, "username": f"k{i:05d}", "email": f"k{i:05d}@example.org",
                 "password_hash": "h", "role": "customer", "language": "de", "created_at": AT}
                for i in ids
            ])  # fmt: skip
            await conn.execute(billing_orders.insert(), _copies(billing_orders, order, [
                {"id": i, "account_id": i} for i in ids
            ]))  # fmt: skip
            await conn.execute(billing_contracts.insert(), _copies(billing_contracts, contract, [
                {"id": i, "order_id": i, "account_id": i,
                 "buyer": json.dumps({"name": _name(i), "country": "DE"})}
                for i in ids
            ]))  # fmt: skip
            rows = []
            for i in ids:
                canonical = str(document["canonical"]).replace(document["number"], numbers[i])
                canonical = canonical.replace(
                    str(document["payment_reference"]), rf_reference(numbers[i])
                )
                rows.append({"id": i, "account_id": i, "contract_id": i, "number": numbers[i],
                             "payment_reference": rf_reference(numbers[i]),
                             "canonical": canonical})  # fmt: skip
                refs.append((numbers[i], rf_reference(numbers[i])))
            await conn.execute(
                billing_documents.insert(), _copies(billing_documents, document, rows)
            )
        if conn.dialect.name == "postgresql":
            for table in ("accounts", "billing_orders", "billing_contracts", "billing_documents"):
                await conn.execute(
                    sa.text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
                )
    return refs


def statement_for(refs: list[tuple[str, str]], gross: int) -> bytes:
    """One credit per pro-forma: 70 % structured reference, 20 % number in text, 10 % none."""
    bookings = []
    for n, (number, reference) in enumerate(refs, 1):
        kind = n % 10
        movement = Movement(
            amount=gross,
            name=_name(n),
            reference=reference if kind < 7 else "",
            text=f"Rechnung {number}" if kind in (7, 8) else "Fernzugriff",
            end_to_end_id=f"E2E-{n}",
        )
        bookings.append(
            Booking(movements=(movement,), reference=f"B-{n}", booked=date(2026, 2, 12))
        )
    return statement_xml("08", bookings, statement_id="bench", created_at=AT)


async def _measure(backend: str, count: int) -> float:
    async with empty_database(backend) as url:
        store = await Store.open(url)
        try:
            clock = ManualClock(AT)
            billing = BillingService(
                store.repo(BillingRepository), load_catalogues(), clock, BillingConfig()
            )
            refs = await _proformas(store, billing, count)
            async with store.engine.connect() as conn:
                gross = int(await conn.scalar(sa.select(billing_documents.c.gross).limit(1)) or 0)
            data = statement_for(refs, gross)
            bank = BankService(store, billing, clock)
            started = time.perf_counter()
            summary = await bank.import_statement(data, "bench.xml")
            seconds = time.perf_counter() - started
            if summary.matched != count:
                raise AssertionError(f"{backend}: {summary.as_dict()}")
        finally:
            await store.close()
    return seconds


def camt_import_seconds(backend: str, count: int = 10_000) -> float:
    """Seconds to import one statement of ``count`` credits against ``count`` pro-formas."""
    return run_gateway(_measure(backend, count))


if __name__ == "__main__":
    import sys

    size = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    print(json.dumps({"backend": sys.argv[1], "count": size,
                      "seconds": round(camt_import_seconds(sys.argv[1], size), 2)}))  # fmt: skip
