"""Finalising documents: numbers from the range counters, frozen view, canonical JSON, SHA-256.

Runs inside the caller's transaction, so the numbers, the documents and any journal charge
commit together or not at all (a rolled-back finalisation leaves no gap in a range). The PDF is
a rendering of the frozen data (:func:`document_pdf`), made outside any transaction: when the
document is fetched or its mail is sent.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from cloud_gateway.billing.documents import (
    Draft,
    canonical_bytes,
    finalise,
    format_number,
    range_key,
    sha256_hex,
    view_from_canonical,
)
from cloud_gateway.billing.journal import EntryKind, signed
from cloud_gateway.billing.model import StoredDocument
from cloud_gateway.billing.rendering import render_document
from cloud_gateway.billing.rendering.view import BankAccount, Party
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.config import BillingConfig

__all__ = ["Pending", "document_pdf", "finalise_pending", "seller_parties"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Pending:
    """A draft waiting for its number, with where it belongs."""

    draft: Draft
    account_id: int
    buyer: Party
    contract_id: int | None = None
    period: int | None = None
    item_kind: str | None = None
    preceding_id: int | None = None
    #: journal source key of the charge booked with it (documents with an amount due)
    charge_key: str | None = None


def seller_parties(config: BillingConfig) -> tuple[Party, BankAccount]:
    """The seller and its bank account as printed, from the ``[billing]`` configuration."""
    seller = Party(
        name=config.seller_name,
        street=config.seller_street,
        postcode=config.seller_postcode,
        city=config.seller_city,
        country=config.seller_country,
        vat_id=config.vat_id or None,
        tax_number=config.tax_number or None,
        register=config.register or None,
        email=config.email or None,
    )
    bank = BankAccount(
        iban=config.iban, bic=config.bic, bank_name=config.bank_name, holder=config.seller_name
    )
    return seller, bank


async def finalise_pending(
    repo: BillingRepository,
    conn: AsyncConnection,
    pending: Sequence[Pending],
    now: datetime,
    *,
    seller: Party,
    bank: BankAccount,
    want_ids: bool = True,
    numbered: list[str] | None = None,
) -> list[int]:
    """Number, freeze and store ``pending`` (in this transaction); returns their ids.

    ``numbered``: filled with the documents' numbers in the order of ``pending`` (so that a
    caller need not read them back while the counter row is locked).
    """
    by_range: dict[str, list[int]] = defaultdict(list)
    for index, p in enumerate(pending):
        by_range[range_key(p.draft.kind, p.draft.issue_date.year)].append(index)
    numbers: dict[int, str] = {}
    for key, indices in sorted(by_range.items()):
        first = await repo.take_numbers(conn, key, len(indices))
        for offset, index in enumerate(indices):
            draft = pending[index].draft
            numbers[index] = format_number(draft.kind, draft.issue_date.year, first + offset)
    rows: list[dict[str, Any]] = []
    for index, p in enumerate(pending):
        totals = p.draft.totals()
        view = finalise(
            p.draft, number=numbers[index], seller=seller, seller_bank=bank,
            buyer=p.buyer, totals=totals,
        )  # fmt: skip
        data = canonical_bytes(view)
        rows.append(
            {
                "kind": view.kind.value,
                "number": view.number,
                "account_id": p.account_id,
                "contract_id": p.contract_id,
                "period": p.period,
                "item_kind": p.item_kind,
                "preceding_id": p.preceding_id,
                "issue_date": view.issue_date,
                "due_date": view.due_date,
                "net": totals.tax_basis,
                "tax": totals.tax_total,
                "gross": totals.grand_total,
                "due": totals.due,
                "payment_reference": view.payment_reference,
                "canonical": data.decode(),
                "sha256": sha256_hex(data),
                "created_at": now,
            }
        )
    if numbered is not None:
        numbered.extend(str(row["number"]) for row in rows)
    ids = await repo.insert_documents(
        conn, rows, with_ids=want_ids or any(p.charge_key for p in pending)
    )
    for p, row in zip(pending, rows, strict=True):
        if p.charge_key:
            await repo.append(
                conn,
                account_id=p.account_id,
                kind=EntryKind.CHARGE.value,
                amount=signed(EntryKind.CHARGE, int(row["gross"])),
                source_key=p.charge_key,
                document_id=ids[row["number"]],
                reference=row["number"],
                created_at=now,
            )
    return [ids[row["number"]] for row in rows] if ids else []


async def document_pdf(document: StoredDocument) -> bytes:
    """The finalised document as PDF/A-3 with its EN 16931 XML, rendered in a worker thread."""
    return await asyncio.to_thread(
        render_document, view_from_canonical(document.canonical.encode())
    )
