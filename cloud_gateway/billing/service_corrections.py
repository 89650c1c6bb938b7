"""Corrections and the billing run: ending contracts (with their credit), credit notes,
catalogue-free service pro-formas (repairs) and the periodic run."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from cloud_gateway.billing.documents import (
    Draft,
    credit_note_for,
    view_from_canonical,
)
from cloud_gateway.billing.errors import (
    BillingError,
)
from cloud_gateway.billing.finalising import Pending
from cloud_gateway.billing.journal import EntryKind, signed
from cloud_gateway.billing.periods import local_date, local_midnight
from cloud_gateway.billing.pricing import tax_treatment
from cloud_gateway.billing.rendering.view import DocumentKind, DocumentLine, Party
from cloud_gateway.billing.run import (
    PAYMENT_TERM,
    ItemKind,
)
from cloud_gateway.billing.runner import (
    RunReport,
    contract_snapshot,
    persist_run,
)
from cloud_gateway.billing.service_core import (
    _STANDARD_RATE,
    SERVICE_ITEM,
    BillingCore,
    Customer,
    printed_party,
)
from cloud_gateway.billing.states import (
    ContractEvent,
    ContractState,
    advance,
)
from cloud_gateway.billing.termination import terminate as termination_of

__all__ = ["CorrectionOps"]


class CorrectionOps(BillingCore):
    """Ending contracts, credit notes, service pro-formas and the billing run."""

    async def terminate(
        self, contract_id: int, *, at_once: bool = False, key: str
    ) -> dict[str, Any]:
        """The supplier ends a running contract at once or at the end of its period (R-BIL-10).

        At once, today is the first day not served: its rest of the period is refunded
        day-precise. Invoiced but unused time (that rest; months of the minimum term not begun)
        is offset by a credit note correcting the invoice that covered it; periods paid ahead
        (settled pro-formas not invoiced yet) are credited as paid. Both go to the payment
        account; the service's entitlement windows end with the service. The billing run of
        today is brought up to date first, in the same transaction.
        """

        async def action(conn: AsyncConnection, now: datetime) -> dict[str, Any]:
            today = local_date(now)
            await persist_run(
                self._repo, conn, self._catalogues, today, contract_ids=[contract_id],
                finalise=self._run_finaliser(now),
            )  # fmt: skip
            found = await self._repo.contracts(conn, ids=[contract_id])
            if not found or found[0].start_day is None:
                raise BillingError(f"contract {contract_id} is not running")
            contract = found[0]
            if contract.start_day is not None and contract.start_day > today:
                raise BillingError(f"contract {contract_id} starts {contract.start_day}")
            advance(contract.state, ContractEvent.END)
            await self._repo.lock_account(conn, contract.account_id)
            snapshot = contract_snapshot(self._catalogues, contract, {})
            stop = termination_of(snapshot, today, at_once=at_once)
            documents = await self._repo.documents(conn, contract_id=contract.id)
            note_id = None
            credit = 0
            if stop.credit_note is not None:
                [invoice] = [
                    d
                    for d in documents
                    if d.kind is DocumentKind.INVOICE
                    and d.period == stop.corrected_period
                    and d.item_kind == ItemKind.INVOICE.value
                ]
                draft = dataclasses.replace(
                    stop.credit_note,
                    preceding_number=invoice.number,
                    preceding_date=invoice.issue_date,
                )
                buyer = Party(**json.loads(contract.buyer))
                pending = Pending(
                    draft=draft, account_id=contract.account_id, buyer=buyer,
                    contract_id=contract.id, period=stop.current,
                    item_kind=DocumentKind.CREDIT_NOTE.value, preceding_id=invoice.id,
                )  # fmt: skip
                [note_id] = await self._finalise(conn, [pending], now)
                credit += draft.totals().grand_total
                await self._repo.append(
                    conn,
                    account_id=contract.account_id,
                    kind=EntryKind.CREDIT.value,
                    amount=signed(EntryKind.CREDIT, draft.totals().grand_total),
                    source_key=f"terminate:{contract.id}:note",
                    document_id=note_id,
                    reference=invoice.number,
                    created_at=now,
                )
            ahead = [
                d
                for d in documents
                if d.kind is DocumentKind.PROFORMA and (d.period or 0) >= stop.ahead_from
            ]
            paid_ahead = sum([d.gross for d in ahead if await self._repo.is_settled(conn, d.id)])
            if paid_ahead:
                credit += paid_ahead
                await self._repo.append(
                    conn,
                    account_id=contract.account_id,
                    kind=EntryKind.CREDIT.value,
                    amount=signed(EntryKind.CREDIT, paid_ahead),
                    source_key=f"terminate:{contract.id}",
                    reference=f"A-{contract.order_id}",
                    created_at=now,
                )
            await self._repo.set_contract(
                conn,
                contract.id,
                state=ContractState.ENDED.value,
                ended_on=stop.end,
                paid_periods=min(contract.paid_periods, stop.current + 1),
            )
            if self._entitlements is not None:
                await self._entitlements.end_service(
                    conn, contract_id=contract.id, now=now,
                    at=local_midnight(stop.end + timedelta(days=1)),
                    note="terminated at once" if at_once else "terminated at period end",
                )  # fmt: skip
            return {
                "ended_on": stop.end.isoformat(),
                "credited": credit,
                "credit_note_id": note_id,
            }

        return await self._once(key, "terminate", action)

    async def credit_note(self, invoice_id: int, reason: str, *, key: str) -> dict[str, Any]:
        """Reverse an invoice in full; its amount goes to the payment account as credit.

        An invoice a credit note corrects already (in full or in part) is refused.
        """

        async def action(conn: AsyncConnection, now: datetime) -> dict[str, Any]:
            invoice = await self._repo.document(conn, invoice_id)
            if invoice.kind is not DocumentKind.INVOICE:
                raise BillingError(f"{invoice.number} is not an invoice")
            for done in await self._repo.documents(conn, account_id=invoice.account_id):
                if done.preceding_id == invoice.id and done.kind is DocumentKind.CREDIT_NOTE:
                    raise BillingError(f"{invoice.number} is corrected by {done.number} already")
            view = view_from_canonical(invoice.canonical.encode())
            draft = credit_note_for(view, local_date(now), reason)
            pending = Pending(
                draft=draft,
                account_id=invoice.account_id,
                buyer=view.buyer,
                preceding_id=invoice.id,
            )
            [document_id] = await self._finalise(conn, [pending], now)
            await self._repo.append(
                conn,
                account_id=invoice.account_id,
                kind=EntryKind.CREDIT.value,
                amount=signed(EntryKind.CREDIT, invoice.gross),
                source_key=f"credit:{invoice.id}",
                document_id=document_id,
                reference=view.number,
                created_at=now,
            )
            return {"document_id": document_id}

        return await self._once(key, "credit_note", action)

    async def service_proforma(
        self,
        customer: Customer,
        *,
        name: str,
        description: str,
        net: int,
        reference: str,
        key: str,
    ) -> dict[str, Any]:
        """A bank-transfer pro-forma for a catalogue-free service (a repair) of ``net`` cents.

        One line at the standard rate (or the customer's reverse charge), due in 14 days; no
        contract and no journal charge: the payment is recorded against the pro-forma.
        """

        async def action(conn: AsyncConnection, now: datetime) -> dict[str, Any]:
            if net <= 0:
                raise BillingError("a service pro-forma needs a positive amount")
            today = local_date(now)
            tax = tax_treatment(customer.buyer, _STANDARD_RATE, self._config.seller_country)
            note = tax.note(customer.language)
            draft = Draft(
                kind=DocumentKind.PROFORMA,
                issue_date=today,
                language=customer.language,
                lines=(
                    DocumentLine(
                        line_id="1",
                        name=name,
                        description=description,
                        unit_price=net,
                        net=net,
                        vat_category=tax.category,
                        vat_rate=tax.rate,
                    ),
                ),
                due_date=today + PAYMENT_TERM,
                order_reference=reference,
                notes=(note,) if note else (),
            )
            pending = Pending(
                draft=draft,
                account_id=customer.account_id,
                buyer=printed_party(customer),
                item_kind=SERVICE_ITEM,
            )
            [document_id] = await self._finalise(conn, [pending], now)
            return {"document_id": document_id}

        return await self._once(key, "service_proforma", action)

    async def run(self, contract_ids: Sequence[int] | None = None) -> RunReport:
        """Persist every missing item of the pure billing run at the clock's instant."""
        now = self._clock.now()
        finalise = self._run_finaliser(now)

        async def finalise_and_announce(conn: AsyncConnection, pending: Sequence[Pending]) -> None:
            await finalise(conn, pending)
            # a subscription renews here alone: its renewal pro-forma is mailed with it
            await self._activation.renewals_offered(conn, pending, now)

        async with self._repo.transaction() as conn:
            report = await persist_run(
                self._repo, conn, self._catalogues, local_date(now),
                contract_ids=contract_ids, finalise=finalise_and_announce,
            )  # fmt: skip
        if report.documents:
            await self._after_own_commit({})  # wake the mail worker
        return report
