"""The billing run's shell: load the active contracts, run the pure core, persist what is missing.

Runs inside the caller's transaction: the new documents (numbered by the finaliser), their
journal charges, contract ends and the next jobs of the queue commit together.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from cloud_gateway.billing.catalogue import BookingType, CatalogueSet, Product
from cloud_gateway.billing.finalising import Pending
from cloud_gateway.billing.model import StoredContract
from cloud_gateway.billing.money import VatCategory
from cloud_gateway.billing.periods import local_midnight
from cloud_gateway.billing.pricing import TaxTreatment, Voucher
from cloud_gateway.billing.rendering.view import Party
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.run import ContractSnapshot, ItemKind, billing_run, next_event_day
from cloud_gateway.billing.states import ContractEvent, ContractState, advance

__all__ = ["RunReport", "contract_snapshot", "persist_run", "snapshot_of"]

Finaliser = Callable[[AsyncConnection, Sequence[Pending]], Awaitable[None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunReport:
    """What one billing run created."""

    documents: int = 0
    charges: int = 0
    ended: int = 0


async def persist_run(
    repo: BillingRepository,
    conn: AsyncConnection,
    catalogues: CatalogueSet,
    today: date,
    *,
    contract_ids: Sequence[int] | None,
    finalise: Finaliser,
) -> RunReport:
    """Persist every item of the billing run on ``today`` that is not stored yet."""
    contracts = await repo.contracts(conn, state=ContractState.ACTIVE, ids=contract_ids)
    vouchers = {
        code: await repo.voucher(conn, code)
        for code in {c.voucher_code for c in contracts if c.voucher_code}
    }
    snapshots = {c.id: contract_snapshot(catalogues, c, vouchers) for c in contracts}
    stored = {c.id: c for c in contracts}
    existing = await repo.document_keys(conn, contract_ids)
    pending: list[Pending] = []
    ended = 0
    for item in billing_run(snapshots.values(), today, existing):
        contract = stored[item.contract_id]
        if item.kind is ItemKind.END:
            advance(contract.state, ContractEvent.END)
            await repo.set_contract(
                conn,
                contract.id,
                state=ContractState.ENDED.value,
                ended_on=date.fromordinal(item.day.toordinal() - 1),
            )
            ended += 1
            continue
        if item.draft is None:
            continue
        pending.append(
            Pending(
                draft=item.draft,
                account_id=contract.account_id,
                buyer=Party(**json.loads(contract.buyer)),
                contract_id=contract.id,
                period=item.period,
                item_kind=item.kind.value,
                charge_key=f"run:{contract.id}:{item.period}:{item.kind}" if item.charge else None,
            )
        )
    jobs = [
        (snapshot.id, local_midnight(following))
        for snapshot in snapshots.values()
        if (following := next_event_day(snapshot, today)) is not None
    ]
    await repo.schedule(conn, jobs)
    # the documents' numbers last: on PostgreSQL the range's counter row stays locked from
    # taking them until the commit (ADR 0023, 0033)
    await finalise(conn, pending)
    charges = sum(1 for p in pending if p.charge_key)
    return RunReport(documents=len(pending), charges=charges, ended=ended)


def contract_snapshot(
    catalogues: CatalogueSet, c: StoredContract, vouchers: dict[str, Voucher]
) -> ContractSnapshot:
    """A stored contract as the pure run sees it, with its catalogue version's product."""
    product = catalogues.version(c.catalogue_version).product(c.product_code)
    tax = TaxTreatment(
        category=VatCategory(c.vat_category),
        rate=Decimal(c.vat_rate),
        note_de=c.vat_note_de,
        note_en=c.vat_note_en,
    )
    voucher = vouchers.get(c.voucher_code) if c.voucher_code else None
    return snapshot_of(
        product=product, plan=c.plan_code, booking=c.booking, contract_id=c.id,
        start=c.start_day, paid=c.paid_periods, tax=tax, language=c.language,
        power_w=c.power_w, voucher=voucher, reference=f"A-{c.order_id}",
    )  # fmt: skip


def snapshot_of(
    *,
    product: Product, plan: str, booking: BookingType, contract_id: int, start: date | None,
    paid: int, tax: TaxTreatment, language: str, power_w: int | None, voucher: Voucher | None,
    reference: str,
) -> ContractSnapshot:  # fmt: skip
    """A contract snapshot from its parts (also used for an order's first pro-forma)."""
    return ContractSnapshot(
        id=contract_id,
        product=product,
        plan=product.plan(plan),
        booking=booking,
        start=start,
        paid_periods=paid,
        tax=tax,
        language=language,
        power_w=power_w,
        voucher=voucher,
        reference=reference,
    )
