"""``python -m bench shop``: checkout under load and bank-statement matching (issue #12).

Two parts, each against its goal in the same run:

- checkout: 50 concurrent buyers, each POSTing the shop's real "Jetzt kaufen" form and paying
  on the provider's page (PayPal: the shop sells hub packages for PayPal or bank transfer),
  to the order page; buyers and provider run in their own process (``bench/_shop_checkout.py``,
  ``bench/_shop_buyers.py``); goal p99 ≤ 150 ms, on SQLite (the default deployment) and
  PostgreSQL;
- camt.053: one statement of 10,000 credits matched against 10,000 open pro-formas and booked
  (``bench/_shop_camt.py``); goal ≤ 10 s on each backend.

The last JSON line carries the metrics ``checkout_p99_ms``, ``camt_import_s_sqlite`` and
``camt_import_s_postgresql`` and their ratios to the goals (below 1.0: reached); per backend
also the checkout's p50, the gateway's CPU and SQL statements per checkout.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bench._shop_camt import camt_import_seconds
from bench._shop_checkout import checkout_run

__all__ = ["run"]

CHECKOUT_GOAL_MS = 150.0
CAMT_GOAL_S = 10.0


def run(*, smoke: bool = False) -> dict[str, Any]:
    """Run both parts (``smoke``: 5 buyers, 200 statement entries)."""
    buyers, entries = (5, 200) if smoke else (50, 10_000)
    run_sqlite = asyncio.run(checkout_run(buyers, backend="sqlite"))
    run_pg = asyncio.run(checkout_run(buyers, backend="postgresql"))
    checkout_sqlite, checkout_pg = run_sqlite.p99_ms, run_pg.p99_ms
    camt_sqlite = camt_import_seconds("sqlite", entries)
    camt_pg = camt_import_seconds("postgresql", entries)
    metrics = {
        "buyers": buyers,
        "statement_entries": entries,
        "checkout_p99_ms": round(max(checkout_sqlite, checkout_pg), 1),
        "checkout_p99_ms_sqlite": round(checkout_sqlite, 1),
        "checkout_p99_ms_postgresql": round(checkout_pg, 1),
        "checkout_p50_ms_sqlite": run_sqlite.summary()["p50_ms"],
        "checkout_p50_ms_postgresql": run_pg.summary()["p50_ms"],
        "gateway_cpu_ms_per_checkout_sqlite": run_sqlite.summary()["gateway_cpu_ms_per_checkout"],
        "gateway_cpu_ms_per_checkout_postgresql": run_pg.summary()["gateway_cpu_ms_per_checkout"],
        "statements_per_checkout_sqlite": run_sqlite.summary()["statements_per_checkout"],
        "statements_per_checkout_postgresql": run_pg.summary()["statements_per_checkout"],
        "camt_import_s_sqlite": round(camt_sqlite, 2),
        "camt_import_s_postgresql": round(camt_pg, 2),
    }
    ratios = {
        "checkout_p99_vs_goal_150ms": round(
            max(checkout_sqlite, checkout_pg) / CHECKOUT_GOAL_MS, 3
        ),
        "camt_sqlite_vs_goal_10s": round(camt_sqlite / CAMT_GOAL_S, 3),
        "camt_postgresql_vs_goal_10s": round(camt_pg / CAMT_GOAL_S, 3),
    }
    return {"metrics": metrics, "ratios": ratios}
