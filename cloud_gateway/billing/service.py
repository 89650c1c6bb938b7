"""The money core's shell: orders, payments, settlements, credit notes and the billing run.

:class:`BillingService` is the one service the other areas call; its parts live beside it:
orders and their queries here, the shared base with idempotency, finalising and activation in
:mod:`.service_core`, the payment account in :mod:`.service_account`, contract ends, credit
notes, service pro-formas and the run in :mod:`.service_corrections`.

Every call that moves money or changes a state takes an idempotency key. The key is claimed in
the same transaction as the change; a retry (even a concurrent one) gets the first call's result
and changes nothing. Documents are finalised by :func:`_finalise` in the transaction that
creates them: numbers from the range's counter row, canonical JSON and its SHA-256 stored once.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from cloud_gateway.accounts.customer_rules import CustomerKind, VatState
from cloud_gateway.accounts.repository_customers import CustomerData
from cloud_gateway.billing.catalogue import (
    BookingType,
    PaymentMedium,
    Product,
)
from cloud_gateway.billing.errors import (
    BillingError,
    SoldOutError,
    UnknownProductError,
)
from cloud_gateway.billing.finalising import Pending, document_pdf
from cloud_gateway.billing.journal import EntryKind, signed
from cloud_gateway.billing.model import StoredContract, StoredDocument
from cloud_gateway.billing.periods import local_date
from cloud_gateway.billing.pricing import Buyer, Voucher, tax_treatment
from cloud_gateway.billing.rendering.view import DocumentKind, Party
from cloud_gateway.billing.run import (
    ItemKind,
    initial_draft,
    renewal_draft,
)
from cloud_gateway.billing.runner import (
    RunReport,
    contract_snapshot,
    snapshot_of,
)
from cloud_gateway.billing.service_account import AccountOps
from cloud_gateway.billing.service_core import SERVICE_ITEM, Customer, printed_party
from cloud_gateway.billing.service_corrections import CorrectionOps
from cloud_gateway.billing.states import (
    ContractEvent,
    ContractState,
    OrderEvent,
    OrderState,
    advance,
)

__all__ = [
    "SERVICE_ITEM",
    "BillingService",
    "Customer",
    "OrderLine",
    "PaymentDue",
    "Recurring",
    "RunReport",
    "customer_from_data",
]

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderLine:
    """One booked product."""

    product: str
    plan: str
    booking: BookingType = BookingType.SUBSCRIPTION
    power_w: int | None = None
    voucher: str | None = None
    #: the plant a monitoring licence is for
    plant_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentDue:
    """What starting an order's payment needs (:meth:`BillingService.payment_due`)."""

    #: how the order may be paid (what every one of its products allows)
    media: frozenset[PaymentMedium]
    #: its period-0 pro-formas not settled yet
    proformas: tuple[StoredDocument, ...]
    #: its subscription line, if any
    recurring: Recurring | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Recurring:
    """A subscription line of an order: what a provider's recurring plan is made of."""

    contract_id: int
    account_id: int
    product_code: str
    name: str
    #: ``day`` or ``month`` (the plan's period unit) and how many of them a period has
    period_unit: str
    period_length: int
    #: gross cents of each period after the first (the first is the order's pro-forma)
    renewal_amount: int


def customer_from_data(data: CustomerData, language: str = "de") -> Customer:
    """The buyer of an account from its customer data; reverse charge needs a VIES-valid ID."""
    return Customer(
        account_id=data.account_id,
        party=Party(
            name=data.name,
            street=data.street,
            postcode=data.postcode,
            city=data.city,
            country=data.country,
            vat_id=data.vat_id or None,
            customer_number=f"K{data.account_id:06d}",
        ),
        buyer=Buyer(
            business=data.kind is CustomerKind.BUSINESS,
            country=data.country,
            vat_id=data.vat_id,
            vat_verified=data.vat_state is VatState.VALID,
        ),
        language=language,
    )


class BillingService(AccountOps, CorrectionOps):
    """Orders, payments, pro-forma settlement, credit notes, the billing run."""

    async def place_order(
        self,
        customer: Customer,
        lines: Sequence[OrderLine],
        *,
        key: str,
        placed: Callable[[int, int], Awaitable[None]] | None = None,
    ) -> dict[str, Any]:
        """Book ``lines``: an order, a pending contract per line and its pro-forma (R-BIL-3).

        ``placed(order_id, gross)`` runs in the order's transaction once the order and its
        contracts are stored, before the pro-formas (``gross`` cents in all) take their
        numbers: the caller's own rows go in first, so the range's counter row (locked from
        taking the numbers until the commit) is held as briefly as possible. A retry of
        ``key`` returns the first result without calling it.
        """

        async def action(conn: AsyncConnection, now: datetime) -> dict[str, Any]:
            today = local_date(now)
            catalogue = self._catalogues.effective(today)
            products = [self._check_line(catalogue.product(line.product), line) for line in lines]
            reservations = sorted({r.code for p in products for r in p.reservations})
            order_id = await self._repo.insert_order(
                conn,
                account_id=customer.account_id,
                state=(OrderState.PLACED if reservations else OrderState.CONFIRMED).value,
                catalogue_version=catalogue.version,
                language=customer.language,
                open_reservations=" ".join(reservations),
                created_at=now,
            )
            for product in {p.code: p for p in products}.values():
                wanted = sum(1 for p in products if p.code == product.code)
                taken = await self._repo.contracts_in_force(conn, product.code)
                if product.available_quantity and taken + wanted > product.available_quantity:
                    raise SoldOutError(f"{product.code}: {product.available_quantity} available")
            pending: list[Pending] = []
            contract_ids = []
            party = printed_party(customer)
            for line_no, (line, product) in enumerate(zip(lines, products, strict=True), 1):
                voucher = await self._voucher(conn, line.voucher, product.code, today)
                tax = tax_treatment(customer.buyer, product.vat_rate, self._config.seller_country)
                contract_id = await self._repo.insert_contract(
                    conn,
                    order_id=order_id,
                    line_no=line_no,
                    account_id=customer.account_id,
                    catalogue_version=catalogue.version,
                    product_code=product.code,
                    plan_code=line.plan,
                    booking=line.booking.value,
                    state=ContractState.PENDING.value,
                    power_w=line.power_w,
                    plant_id=line.plant_id,
                    language=customer.language,
                    voucher_code=voucher.code if voucher else None,
                    buyer=json.dumps(dataclasses.asdict(party), sort_keys=True),
                    vat_category=tax.category.value,
                    vat_rate=str(tax.rate),
                    vat_note_de=tax.note_de,
                    vat_note_en=tax.note_en,
                    created_at=now,
                )
                contract_ids.append(contract_id)
                snapshot = snapshot_of(
                    product=product, plan=line.plan, booking=line.booking,
                    contract_id=contract_id, start=None, paid=0, tax=tax,
                    language=customer.language, power_w=line.power_w, voucher=voucher,
                    reference=f"A-{order_id}",
                )  # fmt: skip
                pending.append(
                    Pending(
                        draft=initial_draft(snapshot, DocumentKind.PROFORMA, today),
                        account_id=customer.account_id,
                        buyer=party,
                        contract_id=contract_id,
                        period=0,
                        item_kind=ItemKind.PROFORMA.value,
                    )
                )
            if placed is not None:
                await placed(order_id, sum(p.draft.totals().grand_total for p in pending))
            ids = await self._finalise(conn, pending, now)  # the last statements: numbers
            return {"order_id": order_id, "contract_ids": contract_ids, "proforma_ids": ids}

        return await self._once(key, "place_order", action)

    @staticmethod
    def _check_line(product: Product, line: OrderLine) -> Product:
        if not product.shop_released:
            raise UnknownProductError(f"{product.code} is not released for the shop")
        product.plan(line.plan)
        if line.booking not in product.booking_types:
            raise BillingError(f"{product.code} cannot be booked as {line.booking}")
        return product

    async def _voucher(
        self, conn: AsyncConnection, code: str | None, product: str, today: date
    ) -> Voucher | None:
        if code is None:
            return None
        voucher = await self._repo.voucher(conn, code)
        uses = await self._repo.voucher_uses(conn, code)
        voucher.check_redeemable(product_code=product, day=today, uses=uses)
        return voucher

    async def add_voucher(self, voucher: Voucher, *, key: str) -> dict[str, Any]:
        """Issue a voucher (operator)."""

        async def action(conn: AsyncConnection, now: datetime) -> dict[str, Any]:
            voucher_id = await self._repo.insert_voucher(
                conn,
                code=voucher.code,
                kind=voucher.kind.value,
                value=str(voucher.value),
                periods=voucher.periods,
                products=" ".join(sorted(voucher.products)),
                valid_until=voucher.valid_until,
                max_uses=voucher.max_uses,
                created_at=now,
            )
            return {"voucher_id": voucher_id}

        return await self._once(key, "add_voucher", action)

    async def confirm_reservation(self, order_id: int, code: str, *, key: str) -> dict[str, Any]:
        """The back office confirms one delivery reservation (R-BIL-4)."""

        async def action(conn: AsyncConnection, now: datetime) -> dict[str, Any]:
            order = await self._repo.order(conn, order_id)
            if code not in order.open_reservations:
                raise BillingError(f"order {order_id} has no open reservation {code!r}")
            remaining = tuple(r for r in order.open_reservations if r != code)
            state = order.state
            if not remaining:
                state = advance(state, OrderEvent.RESERVATIONS_CONFIRMED)
            await self._repo.set_order(
                conn, order_id, open_reservations=" ".join(remaining), state=state.value
            )
            started = await self._activate_ready(conn, order_id, now)
            return {
                "order_id": order_id,
                "state": started["state"] if started else state.value,
                "start": started["start"] if started else None,
            }

        return await self._once(key, "confirm_reservation", action)

    async def activate(
        self, order_id: int, start: date | None = None, *, key: str
    ) -> dict[str, Any]:
        """Start a ready order's contracts on ``start`` (default: today) (R-BIL-5)."""

        async def action(conn: AsyncConnection, now: datetime) -> dict[str, Any]:
            order = await self._repo.order(conn, order_id)
            return await self._start_order(conn, order, start or local_date(now), now)

        result = await self._once(key, "activate", action)
        await self._after_own_commit(result)
        return result

    async def wish_start(self, order_id: int, day: date, *, key: str) -> dict[str, Any]:
        """Store the start the customer asks for; activation waits until then (R-BIL-5)."""

        async def action(conn: AsyncConnection, now: datetime) -> dict[str, Any]:
            order = await self._repo.order(conn, order_id)
            if order.state in (OrderState.ACTIVE, OrderState.CANCELLED):
                raise BillingError(f"order {order_id} is {order.state}")
            if day < local_date(now):
                raise BillingError(f"order {order_id}: wished start {day} lies in the past")
            await self._repo.set_order(conn, order_id, wished_start=day)
            return {"order_id": order_id, "wished_start": day.isoformat()}

        return await self._once(key, "wish_start", action)

    async def cancel_order(self, order_id: int, *, key: str) -> dict[str, Any]:
        """Cancel an order that has not started (placed, confirmed or paid) and its contracts.

        The order's pro-formas are not invoices: nothing finalised changes. A pro-forma of a
        cancelled contract is void: it is no longer open, and money that names it later
        settles nothing and stays on the payment account as credit (:meth:`_settle`, the bank
        import's rules). Pro-formas already settled go back to the payment account as credit.
        A ready or active order is refused (:class:`TransitionError`).
        """

        async def action(conn: AsyncConnection, now: datetime) -> dict[str, Any]:
            order = await self._repo.order(conn, order_id)
            state = advance(order.state, OrderEvent.CANCEL)
            await self._repo.lock_account(conn, order.account_id)
            contracts = await self._repo.contracts(conn, order_id=order_id)
            for contract in contracts:
                advance(contract.state, ContractEvent.CANCEL)
                await self._repo.set_contract(
                    conn, contract.id, state=ContractState.CANCELLED.value
                )
            await self._repo.set_order(conn, order_id, state=state.value)
            paid = sum(
                [
                    d.gross
                    for d in await self._first_proformas(conn, order_id)
                    if await self._repo.is_settled(conn, d.id)
                ]
            )
            if paid:
                await self._journal_entry(
                    conn, EntryKind.CREDIT, order.account_id, paid, f"A-{order_id}",
                    key=f"cancel:{order_id}", now=now,
                )  # fmt: skip
            return {
                "order_id": order_id,
                "state": state.value,
                "contract_ids": [c.id for c in contracts],
                "credited": paid,
            }

        return await self._once(key, "cancel_order", action)

    async def pay_order(
        self, order_id: int, amount: int, reference: str, *, key: str
    ) -> dict[str, Any]:
        """Money for a whole order arrived (a provider's capture): settle its pro-formas.

        One transaction books the payment, settles every open period-0 pro-forma of the
        order and, when that makes the order ready, activates it (:meth:`_activate_ready`).
        Money that settles nothing (an expired or cancelled order) stays as credit.
        """

        async def action(conn: AsyncConnection, now: datetime) -> dict[str, Any]:
            order = await self._repo.order(conn, order_id)
            await self._repo.lock_account(conn, order.account_id)
            entry = await self._repo.append(
                conn,
                account_id=order.account_id,
                kind=EntryKind.PAYMENT.value,
                amount=signed(EntryKind.PAYMENT, amount),
                source_key=key,
                reference=reference,
                created_at=now,
            )
            settled = []
            contracts = await self._repo.contracts(conn, order_id=order_id)
            proformas = await self._first_proformas(conn, order_id, contracts)
            for document in proformas:
                done = await self._settle(
                    conn, document, now, allow_overdraft=False, order_rows=(contracts, proformas)
                )
                if done is not None:
                    settled.append(done)
            activated = (await self._repo.order(conn, order_id)).state is OrderState.ACTIVE
            return {
                "journal_id": entry,
                "settled_document_ids": settled,
                "activated": activated,
                "account_id": order.account_id,
            }

        result = await self._once(key, "pay_order", action)
        await self._after_own_commit(result)
        return result

    async def open_proformas(self, order_id: int) -> list[StoredDocument]:
        """The order's period-0 pro-formas not settled yet (what paying the order costs);
        none for a cancelled order (its pro-formas are void)."""
        async with self._repo.reading() as conn:
            return await self._open_proformas(conn, order_id)

    async def _open_proformas(
        self,
        conn: AsyncConnection,
        order_id: int,
        contracts: Sequence[StoredContract] | None = None,
    ) -> list[StoredDocument]:
        if (await self._repo.order(conn, order_id)).state is OrderState.CANCELLED:
            return []
        documents = await self._first_proformas(conn, order_id, contracts)
        return [d for d in documents if not await self._repo.is_settled(conn, d.id)]

    async def payment_due(self, order_id: int) -> PaymentDue:
        """What starting the order's payment needs, read at once (one connection, the
        order's contracts once)."""
        async with self._repo.reading() as conn:
            contracts = await self._repo.contracts(conn, order_id=order_id)
            return PaymentDue(
                media=self._media_of(contracts),
                proformas=tuple(await self._open_proformas(conn, order_id, contracts)),
                recurring=await self._recurring(conn, order_id, contracts),
            )

    async def next_renewal(self, contract_id: int) -> StoredDocument | None:
        """The contract's earliest unsettled renewal pro-forma (a subscription's next cycle)."""
        async with self._repo.reading() as conn:
            for document in await self._repo.documents(conn, contract_id=contract_id):
                if (
                    document.kind is DocumentKind.PROFORMA
                    and (document.period or 0) > 0
                    and not await self._repo.is_settled(conn, document.id)
                ):
                    return document
        return None

    async def recurring(self, order_id: int) -> Recurring | None:
        """The order's subscription line (the first), as a provider's plan needs it."""
        async with self._repo.reading() as conn:
            return await self._recurring(conn, order_id)

    async def _recurring(
        self,
        conn: AsyncConnection,
        order_id: int,
        contracts: Sequence[StoredContract] | None = None,
    ) -> Recurring | None:
        if contracts is None:
            contracts = await self._repo.contracts(conn, order_id=order_id)
        for contract in contracts:
            if contract.booking is not BookingType.SUBSCRIPTION:
                continue
            code = contract.voucher_code
            vouchers = {code: await self._repo.voucher(conn, code)} if code else {}
            snapshot = contract_snapshot(self._catalogues, contract, vouchers)
            renewal = renewal_draft(
                snapshot, snapshot.product.min_periods, local_date(self._clock.now())
            )
            return Recurring(
                contract_id=contract.id,
                account_id=contract.account_id,
                product_code=snapshot.product.code,
                name=snapshot.plan.name.get(contract.language),
                period_unit=snapshot.plan.period_unit.value,
                period_length=snapshot.plan.period_length,
                renewal_amount=renewal.totals().grand_total,
            )
        return None

    async def payment_media(self, order_id: int) -> frozenset[PaymentMedium]:
        """How the order may be paid: what every one of its products allows."""
        async with self._repo.reading() as conn:
            return await self._payment_media(conn, order_id)

    async def _payment_media(
        self, conn: AsyncConnection, order_id: int
    ) -> frozenset[PaymentMedium]:
        return self._media_of(await self._repo.contracts(conn, order_id=order_id))

    def _media_of(self, contracts: Sequence[StoredContract]) -> frozenset[PaymentMedium]:
        """What every one of these contracts' products allows."""
        allowed = frozenset(PaymentMedium)
        for contract in contracts:
            product = self._catalogues.version(contract.catalogue_version).product(
                contract.product_code
            )
            allowed &= frozenset(product.payment_media)
        return allowed

    async def order_state(self, order_id: int) -> OrderState:
        """Where the order stands now."""
        async with self._repo.reading() as conn:
            return (await self._repo.order(conn, order_id)).state

    async def rendered_document(self, reference: str) -> bytes:
        """The PDF of document ``reference`` (its id): the mail worker's document source."""
        async with self._repo.reading() as conn:
            document = await self._repo.document(conn, int(reference))
        return await document_pdf(document)
