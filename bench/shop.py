"""``python -m bench shop``: checkout under load and bank-statement matching (issue #12).

Two parts, each against its goal in the same run:

- checkout through the PSP simulator (the issue's wording): 50 concurrent installers, each
  POSTing "Jetzt bezahlen" by card for a monitoring licence order and paying on the PSP's
  hosted page, to the order page; goal p99 ≤ 150 ms, on SQLite (the default deployment) and
  PostgreSQL. A second, reported leg: 50 homeowners POSTing the shop's "Jetzt kaufen" for a
  hub package paid by PayPal (hub packages cannot be paid by card, seed 000), ``paypal_…``
  metrics. Buyers and providers run in their own process (``bench/_shop_checkout.py``,
  ``bench/_shop_buyers.py``);
- camt.053: one statement of 10,000 credits matched against 10,000 open pro-formas and booked
  (``bench/_shop_camt.py``); goal ≤ 10 s on each backend.

The last JSON line carries the metrics ``checkout_p99_ms``, ``camt_import_s_sqlite`` and
``camt_import_s_postgresql`` and their ratios to the goals (below 1.0: reached); per backend
also the checkout's p50, the gateway's CPU and SQL statements per checkout (PayPal's leg
prefixed ``paypal_``).
"""

from __future__ import annotations

from typing import Any

from bench._loop import run_gateway
from bench._shop_camt import camt_import_seconds
from bench._shop_checkout import checkout_run

__all__ = ["run"]

CHECKOUT_GOAL_MS = 150.0
CAMT_GOAL_S = 10.0


def run(*, smoke: bool = False) -> dict[str, Any]:
    """Run both parts (``smoke``: 5 buyers, 200 statement entries)."""
    buyers, entries = (5, 200) if smoke else (50, 10_000)
    legs = {
        (provider, backend): run_gateway(
            checkout_run(buyers, backend=backend, provider=provider)
        ).summary()
        for provider in ("psp", "paypal")
        for backend in ("sqlite", "postgresql")
    }
    camt_sqlite = camt_import_seconds("sqlite", entries)
    camt_pg = camt_import_seconds("postgresql", entries)
    checkout = max(legs["psp", "sqlite"]["p99_ms"], legs["psp", "postgresql"]["p99_ms"])
    metrics: dict[str, Any] = {
        "buyers": buyers,
        "statement_entries": entries,
        "checkout_p99_ms": round(checkout, 1),
    }
    for (provider, backend), summary in legs.items():
        prefix = "" if provider == "psp" else "paypal_"
        metrics[f"{prefix}checkout_p99_ms_{backend}"] = summary["p99_ms"]
        metrics[f"{prefix}checkout_p50_ms_{backend}"] = summary["p50_ms"]
        metrics[f"{prefix}gateway_cpu_ms_per_checkout_{backend}"] = summary[
            "gateway_cpu_ms_per_checkout"
        ]
        metrics[f"{prefix}statements_per_checkout_{backend}"] = summary["statements_per_checkout"]
    metrics["camt_import_s_sqlite"] = round(camt_sqlite, 2)
    metrics["camt_import_s_postgresql"] = round(camt_pg, 2)
    ratios = {
        "checkout_p99_vs_goal_150ms": round(checkout / CHECKOUT_GOAL_MS, 3),
        "camt_sqlite_vs_goal_10s": round(camt_sqlite / CAMT_GOAL_S, 3),
        "camt_postgresql_vs_goal_10s": round(camt_pg / CAMT_GOAL_S, 3),
    }
    return {"metrics": metrics, "ratios": ratios}
