"""The money core's service base: construction, idempotency, finalising, activation.

:class:`BillingCore` holds what every part of :class:`~cloud_gateway.billing.service.BillingService`
shares: the idempotency claim (:meth:`BillingCore._once`: the key claimed in the change's
transaction, a retry gets the first result), document finalising in that transaction, and the
activation of a ready order (contracts started, first invoice, windows, mail; one transaction).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Self

from sqlalchemy.ext.asyncio import AsyncConnection

from cloud_gateway.billing.activation import Activation
from cloud_gateway.billing.catalogue import (
    CatalogueSet,
    Family,
    Product,
)
from cloud_gateway.billing.errors import (
    IdempotencyError,
)
from cloud_gateway.billing.finalising import Pending, finalise_pending, seller_parties
from cloud_gateway.billing.model import StoredContract, StoredOrder
from cloud_gateway.billing.periods import local_date, local_midnight, period
from cloud_gateway.billing.pricing import Buyer
from cloud_gateway.billing.rendering.view import Party
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.states import (
    ContractEvent,
    ContractState,
    OrderEvent,
    OrderState,
    advance,
)
from cloud_gateway.config import BillingConfig
from cloud_gateway.entitlements.service import EntitlementService
from cloud_gateway.notify.outbox import Outbox
from tunnel.clock import Clock

__all__ = ["SERVICE_ITEM", "BillingCore", "Customer", "printed_party"]

_LOGGER = logging.getLogger(__name__)

#: the German standard VAT rate, for catalogue-free services (repairs)
_STANDARD_RATE = Decimal(19)
#: ``item_kind`` of a catalogue-free service pro-forma (no contract; settled like the others)
SERVICE_ITEM = "service"


@dataclass(frozen=True, slots=True, kw_only=True)
class Customer:
    """The buyer of an order: printed party and what the VAT treatment depends on."""

    account_id: int
    party: Party
    buyer: Buyer
    language: str = "de"


def printed_party(customer: Customer) -> Party:
    """The buyer as documents print it: with the VAT ID the tax treatment rests on.

    A reverse-charge document must show the buyer's VAT ID (EN 16931 BR-AE-02); a business's
    ID is printed whenever it has one.
    """
    if customer.party.vat_id or not customer.buyer.vat_id:
        return customer.party
    return dataclasses.replace(customer.party, vat_id=customer.buyer.vat_id)


class BillingCore:
    """Shared state and steps of the billing service (see the module docstring)."""

    def __init__(
        self,
        repository: BillingRepository,
        catalogues: CatalogueSet,
        clock: Clock,
        config: BillingConfig,
        *,
        entitlements: EntitlementService | None = None,
        outbox: Outbox | None = None,
    ) -> None:
        self._repo = repository
        self._catalogues = catalogues
        self._clock = clock
        self._config = config
        self._seller, self._bank = seller_parties(config)
        #: bound to a caller's unit of work (:meth:`within`): the caller commits, then runs
        #: :meth:`after_commit` itself
        self._bound = False
        #: where a started hub package becomes an entitlement window (never flipped here)
        self._entitlements = entitlements
        #: shop products on activation: first invoice, windows, the paid mail (one tx)
        self._activation = Activation(
            repository, catalogues, self._finalise, entitlements=entitlements, outbox=outbox
        )

    @property
    def catalogues(self) -> CatalogueSet:
        """Every catalogue version (the shop and the licence pages price from it)."""
        return self._catalogues

    async def _finalise(
        self,
        conn: AsyncConnection,
        pending: Sequence[Pending],
        now: datetime,
        *,
        want_ids: bool = True,
        numbered: list[str] | None = None,
    ) -> list[int]:
        return await finalise_pending(
            self._repo, conn, pending, now, seller=self._seller, bank=self._bank,
            want_ids=want_ids, numbered=numbered,
        )  # fmt: skip

    async def _once(
        self,
        key: str,
        operation: str,
        action: Callable[[AsyncConnection, datetime], Awaitable[dict[str, Any]]],
    ) -> dict[str, Any]:
        now = self._clock.now()
        if not self._bound:
            # a retry of a call that committed: its result, without queueing as a writer
            async with self._repo.reading() as conn:
                done = await self._repo.claimed(conn, key)
            if done is not None and done[1]:
                if done[0] != operation:
                    raise IdempotencyError(f"key {key!r} was used for {done[0]}")
                earlier: dict[str, Any] = json.loads(done[1])
                return earlier
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

    async def _start_order(
        self, conn: AsyncConnection, order: StoredOrder, day: date, now: datetime
    ) -> dict[str, Any]:
        """Activate a ready order: its contracts start on ``day`` (the run's jobs from then)."""
        state = advance(order.state, OrderEvent.ACTIVATE)
        await self._repo.set_order(conn, order.id, state=state.value)
        started = []
        for contract in await self._repo.contracts(conn, order_id=order.id):
            advance(contract.state, ContractEvent.ACTIVATE)
            await self._repo.set_contract(
                conn, contract.id, state=ContractState.ACTIVE.value, start_day=day
            )
            await self._repo.schedule(conn, [(contract.id, local_midnight(day))])
            # the row as stored now: passed down instead of read again
            started.append(dataclasses.replace(contract, state=ContractState.ACTIVE, start_day=day))
        await self._service_windows(conn, contracts=started, now=now)
        await self._activation.started(conn, order, started, day, now)
        return {
            "order_id": order.id,
            "state": state.value,
            "start": day.isoformat(),
            "account_id": order.account_id,
        }

    async def _activate_ready(
        self,
        conn: AsyncConnection,
        order_id: int,
        now: datetime,
        *,
        start: date | None = None,
        order: StoredOrder | None = None,
    ) -> dict[str, Any] | None:
        """Activate the order if it is ready (all reservations confirmed, fully paid) (R-BIL-5).

        The contracts start on ``start``, else on the day the customer wished if that is still
        ahead, else today: the first pro-forma has no deadline, the start moves until payment
        (R-BIL-9). ``None`` (and nothing changes) when the order is not ready; so every path
        that may complete an order (payment, reservation confirmation) can call it.
        ``order``: the order's row as stored now, when the caller holds it.
        """
        if order is None or order.id != order_id:
            order = await self._repo.order(conn, order_id)
        if order.state is not OrderState.READY:
            return None
        today = local_date(now)
        wished = order.wished_start if order.wished_start and order.wished_start > today else None
        return await self._start_order(conn, order, start or wished or today, now)

    async def _service_windows(
        self,
        conn: AsyncConnection,
        *,
        now: datetime,
        order_id: int | None = None,
        contract_ids: Sequence[int] | None = None,
        contracts: Sequence[StoredContract] | None = None,
    ) -> None:
        """Each paid month of a running service contract is an entitlement window.

        Booked in the caller's transaction through the entitlement service, one window per
        period keyed by the contract and the period: calling again books nothing twice.
        ``contracts``: the rows as stored in this transaction, when the caller holds them
        (else read by ``order_id`` and ``contract_ids``).
        """
        if self._entitlements is None:
            return
        if contracts is None:
            contracts = await self._repo.contracts(conn, order_id=order_id, ids=contract_ids)
        for contract in contracts:
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

    async def after_commit(self, result: dict[str, Any]) -> None:
        """Wake the mail worker and tell open tunnels about windows a booking opened.

        The service runs it after its own commits; a caller that booked inside its own unit
        of work (:meth:`within`) runs it after that commit, so listeners read committed state.
        """
        await self._activation.after_commit(result)

    async def _after_own_commit(self, result: dict[str, Any]) -> None:
        """:meth:`after_commit` once the service's own transaction committed; bound to a
        caller's unit of work (:meth:`within`) the caller runs it after its commit."""
        if not self._bound:
            await self.after_commit(result)

    def within(self, repository: BillingRepository) -> Self:
        """This service on another repository, e.g. one bound to a caller's unit of work.

        Its calls then run inside the caller's transaction (each still claims its own
        idempotency key there), so a caller can book many payments with one commit.
        """
        bound = copy.copy(self)
        bound._repo = repository
        bound._bound = True
        return bound

    def _run_finaliser(
        self, now: datetime
    ) -> Callable[[AsyncConnection, Sequence[Pending]], Awaitable[None]]:
        """How the run's shell finalises its documents at ``now`` (ids not needed)."""

        async def finalise(conn: AsyncConnection, pending: Sequence[Pending]) -> None:
            await self._finalise(conn, pending, now, want_ids=False)

        return finalise
