"""Activation of a ready order, inside the caller's transaction (#12 item 3).

When an order becomes ready (paid, every reservation confirmed) one transaction starts its
contracts, finalises each contract's first invoice (the billing run's item, so the run never
makes it again), gives each hub package and plant licence its entitlement window (keyed by
contract and period) and queues the confirmation mail with the invoices as PDF (rendered by the
mail worker from the finalised documents, :data:`DOCUMENT_SOURCE`, not in here). A crash
anywhere rolls all of it back; a retry (same idempotency key) or a redelivered payment finds
everything done. After the commit, :meth:`Activation.after_commit` wakes the mail worker and
tells the open tunnels (entitlement listeners).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from cloud_gateway.accounts.model import Account
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.billing.catalogue import BookingType, CatalogueSet, Family
from cloud_gateway.billing.documents import view_from_canonical
from cloud_gateway.billing.finalising import Pending
from cloud_gateway.billing.model import StoredContract, StoredDocument, StoredOrder
from cloud_gateway.billing.periods import local_date, period
from cloud_gateway.billing.rendering.labels import labels_for
from cloud_gateway.billing.rendering.view import DocumentKind
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.runner import persist_run
from cloud_gateway.entitlements.service import EntitlementService
from cloud_gateway.entitlements.windows import Booking
from cloud_gateway.i18n import Language
from cloud_gateway.notify.mail import Attachment, Mail, MailKind
from cloud_gateway.notify.outbox import Outbox
from cloud_gateway.store.database import BoundConnection

__all__ = ["DOCUMENT_SOURCE", "Activation"]

#: the mail worker's attachment scheme for a finalised document's PDF (``billing-document:ID``)
DOCUMENT_SOURCE = "billing-document"

#: what the shop sells: started on payment, with invoice, window and mail in one transaction
_SHOP_FAMILIES = (Family.HUB_PACKAGE, Family.PLANT_LICENCE)

Finaliser = Callable[..., Awaitable[list[int]]]


class Activation:
    """Starts ready orders for the billing service (see the module docstring)."""

    def __init__(
        self,
        repository: BillingRepository,
        catalogues: CatalogueSet,
        finalise: Finaliser,
        *,
        entitlements: EntitlementService | None,
        outbox: Outbox | None,
    ) -> None:
        self._repo = repository
        self._catalogues = catalogues
        self._finalise = finalise
        self._entitlements = entitlements
        self._outbox = outbox

    async def started(
        self,
        conn: AsyncConnection,
        order: StoredOrder,
        started: Sequence[StoredContract],
        day: date,
        now: datetime,
    ) -> None:
        """The order's contracts (``started``, as stored now) just started on ``day`` (in the
        caller's transaction).

        For its hub packages and plant licences: the first invoice is finalised (the billing
        run's item, when the start is today or earlier), each gets its entitlement window and
        the confirmation mail with the invoices as PDF is queued. Service contracts have their
        own windows and mails (the contracts area). A crash rolls all of it back together.
        """
        contracts = [c for c in started if self._family(c) in _SHOP_FAMILIES]
        if not contracts:
            return
        ids = [c.id for c in contracts]
        # the invoices' numbers as late as possible: on PostgreSQL the range's counter row
        # stays locked from taking them until the commit, and every other payment waits
        account = await AccountRepository(BoundConnection(conn)).get(order.account_id)
        for contract in contracts:
            await self.open_window(conn, contract, 0, now, account=account)
        # the mail's invoices: those the contracts have already, then those finalised now
        # (their numbers and ids as stored, not read back while the counter row is locked)
        invoices = [
            (d.id, d.number)
            for contract_id in ids
            for d in await self._repo.documents(conn, contract_id=contract_id)
            if d.kind is DocumentKind.INVOICE and d.period == 0
        ]
        if day <= local_date(now):

            async def finalise(conn: AsyncConnection, pending: Sequence[Pending]) -> None:
                numbers: list[str] = []
                stored = await self._finalise(conn, pending, now, numbered=numbers)
                invoices.extend(
                    (document_id, number)
                    for p, document_id, number in zip(pending, stored, numbers, strict=True)
                    if p.draft.kind is DocumentKind.INVOICE and p.period == 0
                )
                await self.renewals_offered(conn, pending, now)

            await persist_run(
                self._repo, conn, self._catalogues, local_date(now),
                contract_ids=ids, finalise=finalise,
            )  # fmt: skip
        await self._confirmation_mail(conn, order, account, invoices, now)

    def _family(self, contract: StoredContract) -> Family:
        return (
            self._catalogues.version(contract.catalogue_version)
            .product(contract.product_code)
            .family
        )

    async def open_window(
        self,
        conn: AsyncConnection,
        contract: StoredContract,
        index: int,
        now: datetime,
        *,
        account: Account | None = None,
    ) -> None:
        """Period ``index`` of a started hub package or plant licence becomes its window.

        Keyed by contract and period: booking it again (a retry, a redelivered payment)
        changes nothing. Service contracts have no window. ``account``: the contract's
        account when the caller has read it (else read if a hub window needs it).
        """
        if self._entitlements is None or contract.start_day is None:
            return
        product = self._catalogues.version(contract.catalogue_version).product(
            contract.product_code
        )
        plan = product.plan(contract.plan_code)
        span = period(contract.start_day, index, plan.period_unit, plan.period_length)
        days = (span.last - span.first).days + 1
        key = f"billing:contract:{contract.id}:period:{index}"
        source = f"billing:contract:{contract.id}"
        if product.family is Family.HUB_PACKAGE:
            await self._entitlements.book_package_in(
                conn, account_id=contract.account_id, paid_at=now, days=days,
                booking=Booking(contract.booking.value), product=contract.product_code,
                source=source, idempotency_key=key, account=account,
            )  # fmt: skip
        elif product.family is Family.PLANT_LICENCE and contract.plant_id is not None:
            await self._entitlements.buy_licence_in(
                conn, plant_id=contract.plant_id, account_id=contract.account_id, paid_at=now,
                days=days, licensed_power_w=contract.power_w or 0, source=source,
                idempotency_key=key,
            )  # fmt: skip

    async def _confirmation_mail(
        self,
        conn: AsyncConnection,
        order: StoredOrder,
        account: Account,
        invoices: Sequence[tuple[int, str]],
        now: datetime,
    ) -> None:
        """Queue "Zahlung erhalten" with the order's first ``invoices`` (id, number) as PDF
        (same transaction).

        The PDFs are renderings of the finalised documents' frozen data: the worker renders
        them when it sends the mail, so this transaction (holding the number counter's row)
        stays short.
        """
        if self._outbox is None:
            return
        order_id = order.id
        language = Language.EN if order.language == "en" else Language.DE
        mail = Mail(
            to=account.email,
            kind=MailKind.ORDER_PAID,
            language=language,
            params={
                "username": account.username,
                "order_id": order_id,
                "invoices": [number for _id, number in invoices],
            },
            attachments=tuple(
                Attachment(
                    filename=f"{number}.pdf",
                    content_type="application/pdf",
                    source=f"{DOCUMENT_SOURCE}:{document_id}",
                )
                for document_id, number in invoices
            ),
        )
        await self._outbox.put(conn, mail, now=now, dedup_key=f"billing:order:{order_id}:paid")

    async def renewals_offered(
        self, conn: AsyncConnection, pending: Sequence[Pending], now: datetime
    ) -> None:
        """Mail each hub-package subscription's renewal pro-forma just finalised (same tx).

        The billing run is the one place a subscription renews (#12): at each period start it
        offers the next period as a pro-forma, paid by the PayPal subscription or the
        customer's standing order with its reference. This mail ("Neue Bestellung für Ihr
        Abonnement") announces it, once per contract and period (the outbox's dedup key).
        """
        offers = {
            (p.contract_id, p.period)
            for p in pending
            if p.item_kind == DocumentKind.PROFORMA.value
            and p.contract_id is not None
            and (p.period or 0) > 0
        }
        if self._outbox is None or not offers:
            return
        ids = sorted({contract_id for contract_id, _ in offers})
        for contract in await self._repo.contracts(conn, ids=ids):
            if (
                contract.booking is not BookingType.SUBSCRIPTION
                or self._family(contract) is not Family.HUB_PACKAGE
            ):
                continue
            for document in await self._repo.documents(conn, contract_id=contract.id):
                if document.kind is DocumentKind.PROFORMA and (
                    (contract.id, document.period) in offers
                ):
                    await self._renewal_mail(conn, self._outbox, contract, document, now)

    async def _renewal_mail(
        self,
        conn: AsyncConnection,
        outbox: Outbox,
        contract: StoredContract,
        document: StoredDocument,
        now: datetime,
    ) -> None:
        view = view_from_canonical(document.canonical.encode())
        labels = labels_for(contract.language, view.currency)
        account = await AccountRepository(BoundConnection(conn)).get(contract.account_id)
        product = self._catalogues.version(contract.catalogue_version).product(
            contract.product_code
        )
        mail = Mail(
            to=account.email,
            kind=MailKind.SUBSCRIPTION_ORDER,
            language=Language.EN if contract.language == "en" else Language.DE,
            params={
                "username": account.username,
                "product": product.name.get(contract.language),
                "order_id": contract.order_id,
                "number": document.number,
                "amount": labels.money(document.gross),
                "reference": document.payment_reference or document.number,
                "first": labels.date(view.period_start) if view.period_start else "",
                "last": labels.date(view.period_end) if view.period_end else "",
                "due": labels.date(document.due_date) if document.due_date else "",
            },
        )
        key = f"billing:contract:{contract.id}:period:{document.period}:offer"
        await outbox.put(conn, mail, now=now, dedup_key=key)

    async def after_commit(self, result: dict[str, Any]) -> None:
        """Wake the mail worker and tell the open tunnels about new windows."""
        if self._outbox is not None:
            self._outbox.wake()
        account_id = result.get("account_id")
        if self._entitlements is not None and isinstance(account_id, int):
            await self._entitlements.account_changed(account_id)
