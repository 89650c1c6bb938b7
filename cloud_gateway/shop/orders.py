"""What an account has bought, as the shop's pages show it (reads only).

An order's status for the buyer: awaiting payment (its pro-formas open), paid (money in,
not yet running), active (the contracts run; each hub package has its entitlement window,
whose end is shown), or cancelled. Documents come with their RF reference, and an open
pro-forma with its GiroCode (EPC QR) as an SVG data URI.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cloud_gateway.billing.catalogue import BookingType, CatalogueSet, Family, Plan, Product
from cloud_gateway.billing.documents import view_from_canonical
from cloud_gateway.billing.model import StoredContract, StoredDocument, StoredOrder
from cloud_gateway.billing.rendering.girocode import girocode
from cloud_gateway.billing.rendering.view import DocumentKind
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.states import OrderState
from cloud_gateway.entitlements.repository import EntitlementRepository, StoredWindow
from cloud_gateway.entitlements.windows import Subject, WindowKind
from cloud_gateway.errors import NotFoundError
from cloud_gateway.shop.repository import CartRepository
from cloud_gateway.store import Store

__all__ = [
    "BOOKED_SOURCE",
    "OrderBook",
    "OrderContract",
    "OrderDocument",
    "OrderInfo",
    "OrderStatus",
]

#: the entitlement window source of a contract's package (``BillingService._book_windows``)
BOOKED_SOURCE = "billing:contract:{id}"


class OrderStatus(StrEnum):
    """Where an order stands for the buyer."""

    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    ACTIVE = "active"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderDocument:
    """A document of the order."""

    id: int
    kind: DocumentKind
    number: str
    gross: int
    due: int
    reference: str | None
    settled: bool
    #: the EPC QR code of an open pro-forma (``data:image/svg+xml,…``), else ``None``
    girocode: str | None
    #: the contract period it is for: 0 the order itself, later ones a subscription's renewals
    period: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderContract:
    """A booked product of the order."""

    contract: StoredContract
    product: Product
    plan: Plan
    #: when its access ends (the entitlement window's end), once active
    ends_at: datetime | None
    starts_at: datetime | None

    @property
    def subscription(self) -> bool:
        return self.contract.booking is BookingType.SUBSCRIPTION


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderInfo:
    """An order as the order page shows it."""

    order: StoredOrder
    status: OrderStatus
    contracts: tuple[OrderContract, ...]
    documents: tuple[OrderDocument, ...]
    #: the payment method chosen at checkout (``None`` for orders placed elsewhere)
    method: str | None

    @property
    def gross(self) -> int:
        return sum(
            d.gross for d in self.documents if d.kind is DocumentKind.PROFORMA and not d.period
        )

    @property
    def subscription(self) -> bool:
        return any(c.subscription for c in self.contracts)


def _status(order: StoredOrder, proformas_settled: bool) -> OrderStatus:
    if order.state is OrderState.CANCELLED:
        return OrderStatus.CANCELLED
    if order.state is OrderState.ACTIVE:
        return OrderStatus.ACTIVE
    if order.state in (OrderState.PAID, OrderState.READY) or proformas_settled:
        return OrderStatus.PAID
    return OrderStatus.AWAITING_PAYMENT


def _qr(document: StoredDocument, settled: bool, status: OrderStatus, wanted: bool) -> str | None:
    """The GiroCode of a pro-forma still waiting for money (a cancelled order's are void);
    none unless ``wanted`` (the buyer's card or PayPal payment is being confirmed)."""
    if (
        not wanted
        or document.kind is not DocumentKind.PROFORMA
        or settled
        or document.due <= 0
        or status is OrderStatus.CANCELLED
    ):
        return None
    code = girocode(view_from_canonical(document.canonical.encode()))
    return None if code is None else str(code.svg_data_uri(scale=4, border=2))


class OrderBook:
    """Reads an account's orders, documents and booked windows."""

    def __init__(self, store: Store, catalogues: CatalogueSet) -> None:
        self._store = store
        self._catalogues = catalogues

    def _product(self, contract: StoredContract) -> Product:
        return self._catalogues.version(contract.catalogue_version).product(contract.product_code)

    async def _windows(self, account_id: int) -> dict[str, StoredWindow]:
        stored = await self._store.repo(EntitlementRepository).for_subjects(
            (Subject.ACCOUNT, account_id)
        )
        return {s.window.source: s for s in stored}

    async def orders(self, account_id: int) -> list[OrderInfo]:
        """The account's orders, newest first."""
        repo = self._store.repo(BillingRepository)
        async with repo.reading() as conn:
            ids = [o.id for o in await repo.orders(conn, account_id)]
        return [await self.order(account_id, i) for i in reversed(ids)]

    async def order(self, account_id: int, order_id: int, *, girocodes: bool = True) -> OrderInfo:
        """One order of the account; another account's order is :class:`NotFoundError`.

        ``girocodes``: render the GiroCodes of its open pro-formas (about 3 ms of CPU each);
        not while the buyer's card or PayPal payment is being confirmed.
        """
        repo = self._store.repo(BillingRepository)
        async with repo.reading() as conn:
            order = await repo.order(conn, order_id)
            if order.account_id != account_id:
                raise NotFoundError(f"no order {order_id} for this account")
            contracts = await repo.contracts(conn, order_id=order_id)
            documents: list[tuple[StoredDocument, bool]] = []
            for contract in contracts:
                found = await repo.documents(conn, contract_id=contract.id)
                documents += [(doc, await repo.is_settled(conn, doc.id)) for doc in found]
        windows = await self._windows(account_id)
        booked = []
        for contract in contracts:
            product = self._product(contract)
            window = windows.get(BOOKED_SOURCE.format(id=contract.id))
            booked.append(
                OrderContract(
                    contract=contract,
                    product=product,
                    plan=product.plan(contract.plan_code),
                    ends_at=window.window.effective_end if window else None,
                    starts_at=window.window.start if window else None,
                )
            )
        proformas = [
            settled
            for d, settled in documents
            if d.kind is DocumentKind.PROFORMA and not d.period  # the order's, not renewals
        ]
        checkout = (await self._store.repo(CartRepository).checkouts(account_id)).get(order_id)
        status = _status(order, bool(proformas) and all(proformas))
        return OrderInfo(
            order=order,
            status=status,
            contracts=tuple(booked),
            documents=tuple(
                OrderDocument(
                    id=d.id,
                    kind=d.kind,
                    number=d.number,
                    gross=d.gross,
                    due=d.due,
                    reference=d.payment_reference,
                    settled=settled,
                    girocode=_qr(d, settled, status, girocodes),
                    period=d.period,
                )
                for d, settled in documents
            ),
            method=checkout.method.value if checkout else None,
        )

    async def chain_product(self, account_id: int, until: datetime) -> Product | None:
        """The package the account's access until ``until`` ends with (trial then package)."""
        stored = await self._store.repo(EntitlementRepository).for_subjects(
            (Subject.ACCOUNT, account_id)
        )
        last = [
            s
            for s in stored
            if s.window.kind is WindowKind.PACKAGE and s.window.effective_end == until
        ]
        if not last:
            return None
        for catalogue in reversed(self._catalogues.versions):
            for product in catalogue.products:
                if product.code == last[-1].product:
                    return product
        return None

    async def booked_line(self, account_id: int, code: str) -> tuple[str, str, BookingType] | None:
        """The product, plan and booking type behind a hub's package code, if it has one.

        The add-on names packages ``<kind>-<window id>`` (``entitlements.hub_packages``);
        a package window booked in the shop leads back to its contract. For anything else (a
        trial, a grant) the account's latest booked package counts; ``None`` when it has none.
        """
        windows = {
            s.id: s
            for s in await self._store.repo(EntitlementRepository).for_subjects(
                (Subject.ACCOUNT, account_id)
            )
        }
        kind, _sep, number = code.rpartition("-")
        chosen = windows.get(int(number)) if number.isdigit() else None
        if chosen is None or kind != WindowKind.PACKAGE.value:
            # the account's latest booked package, else nothing
            packages = [s for s in windows.values() if s.window.kind is WindowKind.PACKAGE]
            chosen = max(packages, key=lambda s: s.window.end, default=None)
        if chosen is None or not chosen.window.source.startswith("billing:contract:"):
            return None
        contract_id = int(chosen.window.source.rsplit(":", 1)[1])
        repo = self._store.repo(BillingRepository)
        async with repo.reading() as conn:
            found = await repo.contracts(conn, ids=[contract_id])
        if not found or self._product(found[0]).family is not Family.HUB_PACKAGE:
            return None
        contract = found[0]
        return contract.product_code, contract.plan_code, contract.booking
