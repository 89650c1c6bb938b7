"""The money core's shell: orders, payments, settlements, credit notes and the billing run.

Every call that moves money or changes a state takes an idempotency key. The key is claimed in
the same transaction as the change; a retry (even a concurrent one) gets the first call's result
and changes nothing. Documents are finalised by :func:`_finalise` in the transaction that
creates them: numbers from the range's counter row, canonical JSON and its SHA-256 stored once.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from cloud_gateway.accounts.customer_rules import CustomerKind, VatState
from cloud_gateway.accounts.repository_customers import CustomerData
from cloud_gateway.billing.catalogue import BookingType, CatalogueSet, Family, Product
from cloud_gateway.billing.documents import (
    credit_note_for,
    view_from_canonical,
)
from cloud_gateway.billing.errors import (
    BillingError,
    IdempotencyError,
    OverdraftError,
    SoldOutError,
    UnknownProductError,
)
from cloud_gateway.billing.finalising import Pending, finalise_pending, seller_parties
from cloud_gateway.billing.journal import EntryKind, can_charge, signed
from cloud_gateway.billing.model import StoredContract, StoredDocument, StoredOrder
from cloud_gateway.billing.payments_bulk import Payment, book_payments
from cloud_gateway.billing.periods import local_date, local_midnight, period
from cloud_gateway.billing.pricing import Buyer, Voucher, tax_treatment
from cloud_gateway.billing.rendering.view import DocumentKind, Party
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.run import (
    ItemKind,
    initial_draft,
)
from cloud_gateway.billing.runner import (
    RunReport,
    contract_snapshot,
    persist_run,
    snapshot_of,
)
from cloud_gateway.billing.states import (
    ContractEvent,
    ContractState,
    OrderEvent,
    OrderState,
    advance,
)
from cloud_gateway.billing.termination import terminate as termination_of
from cloud_gateway.config import BillingConfig
from cloud_gateway.entitlements.service import EntitlementService
from cloud_gateway.entitlements.windows import Booking
from tunnel.clock import Clock

__all__ = ["BillingService", "Customer", "OrderLine", "RunReport", "customer_from_data"]

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
class Customer:
    """The buyer of an order: printed party and what the VAT treatment depends on."""

    account_id: int
    party: Party
    buyer: Buyer
    language: str = "de"


def _printed_party(customer: Customer) -> Party:
    """The buyer as documents print it: with the VAT ID the tax treatment rests on.

    A reverse-charge document must show the buyer's VAT ID (EN 16931 BR-AE-02); a business's
    ID is printed whenever it has one.
    """
    if customer.party.vat_id or not customer.buyer.vat_id:
        return customer.party
    return dataclasses.replace(customer.party, vat_id=customer.buyer.vat_id)


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


class BillingService:
    """Orders, payments, pro-forma settlement, credit notes, the billing run."""

    def __init__(
        self,
        repository: BillingRepository,
        catalogues: CatalogueSet,
        clock: Clock,
        config: BillingConfig,
        *,
        entitlements: EntitlementService | None = None,
    ) -> None:
        self._repo = repository
        self._catalogues = catalogues
        self._clock = clock
        self._config = config
        self._seller, self._bank = seller_parties(config)
        #: where a started hub package becomes an entitlement window (never flipped here)
        self._entitlements = entitlements

    async def _finalise(
        self,
        conn: AsyncConnection,
        pending: Sequence[Pending],
        now: datetime,
        *,
        want_ids: bool = True,
    ) -> list[int]:
        return await finalise_pending(
            self._repo, conn, pending, now, seller=self._seller, bank=self._bank,
            want_ids=want_ids,
        )  # fmt: skip

    # --- idempotency ------------------------------------------------------------------------
    async def _once(
        self,
        key: str,
        operation: str,
        action: Callable[[AsyncConnection, datetime], Awaitable[dict[str, Any]]],
    ) -> dict[str, Any]:
        now = self._clock.now()
        async with self._repo.transaction() as conn:
            first = await self._repo.claim(conn, key, operation, now)
            if first is not None:
                if first[0] != operation:
                    raise IdempotencyError(f"key {key!r} was used for {first[0]}")
                result: dict[str, Any] = json.loads(first[1])
                return result
            result = await action(conn, now)
            await self._repo.remember(conn, key, json.dumps(result, sort_keys=True))
            return result

    # --- orders -----------------------------------------------------------------------------
    async def place_order(
        self, customer: Customer, lines: Sequence[OrderLine], *, key: str
    ) -> dict[str, Any]:
        """Book ``lines``: an order, a pending contract per line and its pro-forma (R-BIL-3)."""

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
            party = _printed_party(customer)
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
            ids = await self._finalise(conn, pending, now)
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
        await self._book_windows(order_id)
        return result

    async def _start_order(
        self, conn: AsyncConnection, order: StoredOrder, day: date, now: datetime
    ) -> dict[str, Any]:
        """Activate a ready order: its contracts start on ``day`` (the run's jobs from then)."""
        state = advance(order.state, OrderEvent.ACTIVATE)
        await self._repo.set_order(conn, order.id, state=state.value)
        for contract in await self._repo.contracts(conn, order_id=order.id):
            advance(contract.state, ContractEvent.ACTIVATE)
            await self._repo.set_contract(
                conn, contract.id, state=ContractState.ACTIVE.value, start_day=day
            )
            await self._repo.schedule(conn, [(contract.id, local_midnight(day))])
        await self._service_windows(conn, order_id=order.id, now=now)
        return {"order_id": order.id, "state": state.value, "start": day.isoformat()}

    async def _activate_ready(
        self, conn: AsyncConnection, order_id: int, now: datetime, *, start: date | None = None
    ) -> dict[str, Any] | None:
        """Activate the order if it is ready (all reservations confirmed, fully paid) (R-BIL-5).

        The contracts start on ``start``, else on the day the customer wished if that is still
        ahead, else today: the first pro-forma has no deadline, the start moves until payment
        (R-BIL-9). ``None`` (and nothing changes) when the order is not ready; so every path
        that may complete an order (payment, reservation confirmation) can call it.
        """
        order = await self._repo.order(conn, order_id)
        if order.state is not OrderState.READY:
            return None
        today = local_date(now)
        wished = order.wished_start if order.wished_start and order.wished_start > today else None
        return await self._start_order(conn, order, start or wished or today, now)

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

    async def _service_windows(
        self,
        conn: AsyncConnection,
        *,
        now: datetime,
        order_id: int | None = None,
        contract_ids: Sequence[int] | None = None,
    ) -> None:
        """Each paid month of a running service contract is an entitlement window.

        Booked in the caller's transaction through the entitlement service, one window per
        period keyed by the contract and the period: calling again books nothing twice.
        """
        if self._entitlements is None:
            return
        for contract in await self._repo.contracts(conn, order_id=order_id, ids=contract_ids):
            product = self._product(contract)
            if (
                product.family is not Family.SERVICE_CONTRACT
                or contract.start_day is None
                or contract.state is not ContractState.ACTIVE
            ):
                continue
            plan = product.plan(contract.plan_code)
            for p in range(contract.paid_periods):
                this = period(contract.start_day, p, plan.period_unit, plan.period_length)
                await self._entitlements.book_service_period(
                    conn,
                    contract_id=contract.id,
                    account_id=contract.account_id,
                    start=local_midnight(this.first),
                    end=local_midnight(this.last + timedelta(days=1)),
                    product=contract.product_code,
                    idempotency_key=f"billing:contract:{contract.id}:period:{p}",
                    now=now,
                )

    def _product(self, contract: StoredContract) -> Product:
        return self._catalogues.version(contract.catalogue_version).product(contract.product_code)

    async def _book_windows(self, order_id: int) -> None:
        """Give each started hub package of the order its entitlement window.

        Runs after the activation's commit, through :class:`EntitlementService`, keyed by the
        contract: a retried activation (same key) books nothing twice and heals a crash between
        the two steps.
        """
        if self._entitlements is None:
            return
        async with self._repo.transaction() as conn:
            contracts = await self._repo.contracts(conn, order_id=order_id)
        for contract in contracts:
            product = self._catalogues.version(contract.catalogue_version).product(
                contract.product_code
            )
            if product.family is not Family.HUB_PACKAGE or contract.start_day is None:
                continue
            plan = product.plan(contract.plan_code)
            first = period(contract.start_day, 0, plan.period_unit, plan.period_length)
            await self._entitlements.book_package(
                account_id=contract.account_id,
                paid_at=self._clock.now(),
                days=(first.last - first.first).days + 1,
                booking=Booking(contract.booking.value),
                product=contract.product_code,
                source=f"billing:contract:{contract.id}",
                idempotency_key=f"billing:contract:{contract.id}:period:0",
            )

    # --- payment account --------------------------------------------------------------------
    async def record_payment(
        self, account_id: int, amount: int, reference: str, *, key: str
    ) -> dict[str, Any]:
        """Book money received; settle the pro-forma it names if still valid (else credit)."""

        async def action(conn: AsyncConnection, now: datetime) -> dict[str, Any]:
            await self._repo.lock_account(conn, account_id)
            entry = await self._repo.append(
                conn,
                account_id=account_id,
                kind=EntryKind.PAYMENT.value,
                amount=signed(EntryKind.PAYMENT, amount),
                source_key=key,
                reference=reference,
                created_at=now,
            )
            document = await self._repo.document_by_reference(
                conn, reference.replace(" ", "").upper()
            )
            settled = None
            if document is not None and document.kind is DocumentKind.PROFORMA:
                settled = await self._settle(conn, document, now, allow_overdraft=False)
            return {"journal_id": entry, "settled_document_id": settled}

        return await self._once(key, "record_payment", action)

    async def record_payments(self, payments: Sequence[Payment]) -> list[dict[str, Any]]:
        """:meth:`record_payment` for a batch, in one transaction with a few statements in all
        (a bank statement); same keys, rules and results (see :mod:`.payments_bulk`)."""
        return await book_payments(self, self._repo, payments, self._clock.now())

    async def settle_from_account(self, document_id: int, *, key: str) -> dict[str, Any]:
        """Settle a pro-forma from the payment account, within its overdraft limit (R-BIL-11)."""

        async def action(conn: AsyncConnection, now: datetime) -> dict[str, Any]:
            document = await self._repo.document(conn, document_id)
            settled = await self._settle(conn, document, now, allow_overdraft=True)
            if settled is None:
                raise BillingError(f"pro-forma {document.number} cannot be settled")
            return {"settled_document_id": settled}

        return await self._once(key, "settle_from_account", action)

    async def refund(
        self, account_id: int, amount: int, reference: str, *, key: str
    ) -> dict[str, Any]:
        """Pay credit back to the customer; only from a positive balance, never into overdraft."""

        async def action(conn: AsyncConnection, now: datetime) -> dict[str, Any]:
            await self._repo.lock_account(conn, account_id)
            balance = await self._repo.balance(conn, account_id)
            if not can_charge(balance, 0, amount):
                raise OverdraftError(f"account {account_id}: refund {amount} > balance {balance}")
            entry = await self._repo.append(
                conn,
                account_id=account_id,
                kind=EntryKind.REFUND.value,
                amount=signed(EntryKind.REFUND, amount),
                source_key=key,
                reference=reference,
                created_at=now,
            )
            return {"journal_id": entry}

        return await self._once(key, "refund", action)

    async def reverse_payment(
        self, account_id: int, amount: int, reference: str, *, key: str
    ) -> dict[str, Any]:
        """Take back money the bank reversed or returned; the balance may go below zero.

        Settled documents stay settled (they are final): a negative balance is what the
        customer owes, shown on the account and evened out by the next payment.
        """

        async def action(conn: AsyncConnection, now: datetime) -> dict[str, Any]:
            await self._repo.lock_account(conn, account_id)
            entry = await self._repo.append(
                conn,
                account_id=account_id,
                kind=EntryKind.REVERSAL.value,
                amount=signed(EntryKind.REVERSAL, amount),
                source_key=key,
                reference=reference,
                created_at=now,
            )
            return {"journal_id": entry}

        return await self._once(key, "reverse_payment", action)

    def within(self, repository: BillingRepository) -> BillingService:
        """This service on another repository, e.g. one bound to a caller's unit of work.

        Its calls then run inside the caller's transaction (each still claims its own
        idempotency key there), so a caller can book many payments with one commit.
        """
        bound = copy.copy(self)
        bound._repo = repository
        return bound

    async def set_overdraft_limit(self, account_id: int, limit: int, *, key: str) -> dict[str, Any]:
        """The operator allows the account to go down to ``-limit`` cents."""

        async def action(conn: AsyncConnection, now: datetime) -> dict[str, Any]:
            entry = await self._repo.append(
                conn,
                account_id=account_id,
                kind=EntryKind.OVERDRAFT_LIMIT.value,
                amount=0,
                overdraft_limit=limit,
                source_key=key,
                created_at=now,
            )
            return {"journal_id": entry}

        return await self._once(key, "set_overdraft_limit", action)

    async def _settle(
        self,
        conn: AsyncConnection,
        proforma: StoredDocument,
        now: datetime,
        *,
        allow_overdraft: bool,
    ) -> int | None:
        """Charge a valid, unpaid pro-forma to the account; ``None`` if it cannot be."""
        if proforma.kind is not DocumentKind.PROFORMA or proforma.contract_id is None:
            return None
        await self._repo.lock_account(conn, proforma.account_id)
        if await self._repo.is_settled(conn, proforma.id):
            return None
        if proforma.due_date is not None and local_date(now) > proforma.due_date:
            return None  # expired (R-BIL-9): the money stays on the account as credit
        [contract] = await self._repo.contracts(conn, ids=[proforma.contract_id])
        if contract.state in (ContractState.ENDED, ContractState.CANCELLED):
            return None
        balance = await self._repo.balance(conn, proforma.account_id)
        limit = (
            await self._repo.overdraft_limit(conn, proforma.account_id) if allow_overdraft else 0
        )
        if not can_charge(balance, limit, proforma.gross):
            if allow_overdraft:
                raise OverdraftError(f"account {proforma.account_id}: limit {limit} exceeded")
            return None
        entry = await self._repo.append(
            conn,
            account_id=proforma.account_id,
            kind=EntryKind.CHARGE.value,
            amount=signed(EntryKind.CHARGE, proforma.gross),
            source_key=f"settle:{proforma.id}",
            document_id=proforma.id,
            reference=proforma.number,
            created_at=now,
        )
        if entry is None:  # settled meanwhile by a concurrent call
            return None
        await self._repo.settle(conn, proforma.id, entry, now)
        view = view_from_canonical(proforma.canonical.encode())
        periods = int(view.lines[-1].quantity)  # the plan's line comes last (run._draft)
        await self._repo.add_paid_periods(conn, contract.id, periods)
        if proforma.period == 0:
            order = await self._repo.order(conn, contract.order_id)
            if order.state in (OrderState.PLACED, OrderState.CONFIRMED):
                new = advance(order.state, OrderEvent.PAID)
                await self._repo.set_order(conn, order.id, state=new.value)
            if self._product(contract).family is Family.SERVICE_CONTRACT:
                # the start moves until payment (R-BIL-9); the payment path of the other
                # families is the payment work's
                await self._activate_ready(conn, order.id, now)
        else:
            await self._service_windows(conn, contract_ids=[contract.id], now=now)
        return proforma.id

    # --- credit notes -----------------------------------------------------------------------
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
        """Reverse an invoice in full; its amount goes to the payment account as credit."""

        async def action(conn: AsyncConnection, now: datetime) -> dict[str, Any]:
            invoice = await self._repo.document(conn, invoice_id)
            if invoice.kind is not DocumentKind.INVOICE:
                raise BillingError(f"{invoice.number} is not an invoice")
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

    # --- billing run ------------------------------------------------------------------------
    async def run(self, contract_ids: Sequence[int] | None = None) -> RunReport:
        """Persist every missing item of the pure billing run at the clock's instant."""
        now = self._clock.now()
        async with self._repo.transaction() as conn:
            return await persist_run(
                self._repo, conn, self._catalogues, local_date(now),
                contract_ids=contract_ids, finalise=self._run_finaliser(now),
            )  # fmt: skip

    def _run_finaliser(
        self, now: datetime
    ) -> Callable[[AsyncConnection, Sequence[Pending]], Awaitable[None]]:
        """How the run's shell finalises its documents at ``now`` (ids not needed)."""

        async def finalise(conn: AsyncConnection, pending: Sequence[Pending]) -> None:
            await self._finalise(conn, pending, now, want_ids=False)

        return finalise
