"""Billing documents per second: DocumentView to PDF/A-3 + CII XML + GiroCode, against the page.

``measure(count)`` renders ``count`` complete documents (seed-004 invoices, each with its own
number and RF reference) and the same pages with the bare PDF library (reportlab only: no XML,
no QR code, no PDF/A-3), one after the other in this process. ``python -m bench billing`` reports
``documents_per_s`` and ``documents_vs_bare_pdf`` from here; the goal is >= 50 documents/s.
"""

from __future__ import annotations

import time
from typing import Any

from cloud_gateway.billing.rendering import render_document
from cloud_gateway.billing.rendering.examples import seed004_invoice
from cloud_gateway.billing.rendering.pdf import render_page
from cloud_gateway.billing.rendering.view import DocumentView

__all__ = ["measure", "run"]


def _views(count: int) -> list[DocumentView]:
    return [
        seed004_invoice(number=f"RE-2026-{n:06d}", language="de" if n % 4 else "en")
        for n in range(1, count + 1)
    ]


def measure(count: int) -> dict[str, float]:
    """Render ``count`` documents both ways; rates per second of wall time and of CPU time."""
    views = _views(count)
    render_document(views[0])  # warm-up: fonts, XSD, locale data
    render_page(views[0], None, output_intent=False)
    wall, cpu = time.perf_counter(), time.process_time()
    sizes = [len(render_document(view)) for view in views]
    documents_s, documents_cpu_s = time.perf_counter() - wall, time.process_time() - cpu
    wall, cpu = time.perf_counter(), time.process_time()
    for view in views:
        render_page(view, None, output_intent=False)
    bare_s, bare_cpu_s = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "documents_per_s": count / documents_s,
        "documents_cpu_per_s": count / documents_cpu_s,
        "bare_pdf_per_s": count / bare_s,
        "document_kib": sum(sizes) / len(sizes) / 1024,
        "documents_vs_bare_pdf": bare_s / documents_s,
        "documents_vs_bare_pdf_cpu": bare_cpu_s / documents_cpu_s,
    }


def run(*, smoke: bool) -> dict[str, Any]:
    """The documents part alone, in the ``python -m bench`` result shape."""
    result = measure(3 if smoke else 500)
    ratio_keys = ("documents_vs_bare_pdf", "documents_vs_bare_pdf_cpu")
    return {
        "metrics": {k: v for k, v in result.items() if k not in ratio_keys},
        "ratios": {k: result[k] for k in ratio_keys},
    }
