"""Export for a tax audit (GoBD): every finalised document of a period plus ``index.csv``.

Each document is written as rendered by :func:`~cloud_gateway.billing.rendering.render_document`
(PDF/A-3 with the EN 16931 CII XML embedded), from its stored canonical data; ``index.csv``
carries number, type, date, customer, net, VAT per rate, gross and the SHA-256 of that data.
"""

from __future__ import annotations

import asyncio
import csv
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from cloud_gateway.billing.documents import view_from_canonical
from cloud_gateway.billing.model import StoredDocument
from cloud_gateway.billing.money import format_amount
from cloud_gateway.billing.rendering import render_document
from cloud_gateway.billing.repository import BillingRepository

__all__ = ["INDEX_COLUMNS", "ExportReport", "export_documents", "index_rows", "write_export"]

_LOGGER = logging.getLogger(__name__)

#: fixed columns of index.csv; one ``vat_<category>_<rate>`` column per rate follows ``net``
INDEX_COLUMNS = ("number", "type", "date", "customer", "net", "gross", "sha256", "file")


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportReport:
    """What was written."""

    documents: int
    index: Path


def _vat_key(category: str, rate: str) -> str:
    return f"vat_{category}_{rate}"


def index_rows(
    documents: Sequence[StoredDocument], files: Sequence[str]
) -> tuple[list[str], list[dict[str, str]]]:
    """The header and rows of ``index.csv`` (pure)."""
    views = [view_from_canonical(d.canonical.encode()) for d in documents]
    vat_columns = sorted(
        {_vat_key(t.category.value, str(t.rate)) for v in views for t in v.totals().taxes}
    )
    header = [*INDEX_COLUMNS[:5], *vat_columns, *INDEX_COLUMNS[5:]]
    rows = []
    for document, view, name in zip(documents, views, files, strict=True):
        totals = view.totals()
        row = {
            "number": document.number,
            "type": document.kind.value,
            "date": document.issue_date.isoformat(),
            "customer": view.buyer.customer_number or f"account {document.account_id}",
            "net": format_amount(totals.tax_basis),
            "gross": format_amount(totals.grand_total),
            "sha256": document.sha256,
            "file": name,
        }
        row |= dict.fromkeys(vat_columns, "")
        for tax in totals.taxes:
            row[_vat_key(tax.category.value, str(tax.rate))] = format_amount(tax.tax)
        rows.append(row)
    return header, rows


def write_export(documents: Sequence[StoredDocument], out: Path) -> ExportReport:
    """Write ``documents`` and their ``index.csv`` into ``out`` (blocking file I/O)."""
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for document in documents:
        name = f"{document.number}.pdf"
        (out / name).write_bytes(render_document(view_from_canonical(document.canonical.encode())))
        files.append(name)
    header, rows = index_rows(documents, files)
    index = out / "index.csv"
    with index.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    _LOGGER.info("exported %d documents to %s", len(documents), out)
    return ExportReport(documents=len(documents), index=index)


async def export_documents(
    repository: BillingRepository, first: date, last: date, out: Path
) -> ExportReport:
    """Write every document issued from ``first`` to ``last`` (inclusive) into ``out``."""
    async with repository.transaction() as conn:
        documents = await repository.documents(conn, issued_from=first, issued_to=last)
    return await asyncio.to_thread(write_export, documents, out)
