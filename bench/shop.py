"""``python -m bench shop``: checkout under load and bank-statement matching (issue #12).

Two parts, each against its goal in the same run:

- checkout: 50 concurrent buyers pay by card through the PSP simulator, from "Jetzt kaufen"
  to the order page (``bench/_shop_checkout.py``); goal p99 ≤ 150 ms, on SQLite (the default
  deployment) and PostgreSQL;
- camt.053: one statement of 10,000 credits matched against 10,000 open pro-formas and booked
  (``bench/_shop_camt.py``); goal ≤ 10 s on each backend.

The last JSON line carries the metrics ``checkout_p99_ms``, ``camt_import_s_sqlite`` and
``camt_import_s_postgresql`` and their ratios to the goals (below 1.0: reached).
"""

from __future__ import annotations

import asyncio
from typing import Any

from bench._shop_camt import camt_import_seconds
from bench._shop_checkout import checkout_p99_ms

__all__ = ["run"]

CHECKOUT_GOAL_MS = 150.0
CAMT_GOAL_S = 10.0


def run(*, smoke: bool = False) -> dict[str, Any]:
    """Run both parts (``smoke``: 5 buyers, 200 statement entries)."""
    buyers, entries = (5, 200) if smoke else (50, 10_000)
    checkout_sqlite = asyncio.run(checkout_p99_ms(buyers, backend="sqlite"))
    checkout_pg = asyncio.run(checkout_p99_ms(buyers, backend="postgresql"))
    camt_sqlite = camt_import_seconds("sqlite", entries)
    camt_pg = camt_import_seconds("postgresql", entries)
    metrics = {
        "buyers": buyers,
        "statement_entries": entries,
        "checkout_p99_ms": round(max(checkout_sqlite, checkout_pg), 1),
        "checkout_p99_ms_sqlite": round(checkout_sqlite, 1),
        "checkout_p99_ms_postgresql": round(checkout_pg, 1),
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
