"""Prepaid service contracts (seed 004): ordering with the provider's pre-check, the customer's
view, the preview before ordering, and refunds to the customer's IBAN.

The money moves in the money core (:class:`~cloud_gateway.billing.service.BillingService`):
the order and its pro-forma, payments, activation when ready, the monthly run, termination.
This shell adds what the service needs around it:

1. **Ordering** (R-BIL-2, 3): the provider pre-checks the site (the plant's coordinates); only
   an accepted site is ordered. A service number is assigned, and in one transaction the mail
   with the order confirmation, the order form (PDF) and the pro-forma (PDF/A-3 with its
   EN 16931 XML) goes into the notification outbox. Keyed: a retry orders and mails once.
2. **Views** (R-BIL-4): the contract with its open reservations, months, documents and the
   payment-account journal.
3. **Refunds**: the account's credit paid back as a SEPA credit-transfer file (pain.001).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from typing import Any

from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.billing.catalogue import CatalogueSet, Family, Product
from cloud_gateway.billing.documents import view_from_canonical
from cloud_gateway.billing.errors import BillingError
from cloud_gateway.billing.finalising import seller_parties
from cloud_gateway.billing.model import StoredContract, StoredDocument, StoredEntry, StoredOrder
from cloud_gateway.billing.periods import local_date, period
from cloud_gateway.billing.rendering import render_document
from cloud_gateway.billing.rendering.labels import labels_for
from cloud_gateway.billing.rendering.view import DocumentKind
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.service import BillingService, Customer, OrderLine
from cloud_gateway.config import BillingConfig
from cloud_gateway.contracts.errors import ContractError, InvalidSiteError
from cloud_gateway.contracts.orderform import OrderForm, render_order_form
from cloud_gateway.contracts.provider import ServiceProvider, Site
from cloud_gateway.contracts.repository import ServiceContractRepository, StoredService
from cloud_gateway.contracts.sepa import Transfer, pain001
from cloud_gateway.errors import NotFoundError
from cloud_gateway.i18n import Language
from cloud_gateway.notify.mail import Attachment, Mail, MailKind
from cloud_gateway.notify.outbox import Outbox
from cloud_gateway.plants.repository import PlantRepository
from cloud_gateway.store import Store
from tunnel.clock import Clock

__all__ = ["ContractService", "ContractView", "MonthView", "month_views"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MonthView:
    """One month of a contract as the customer sees it."""

    index: int
    first: date
    last: date
    state: str
    """``served``, ``running``, ``paid``, ``offered`` or ``open``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ContractView:
    """A service contract with everything the customer sees about it."""

    contract: StoredContract
    order: StoredOrder
    service: StoredService | None
    months: tuple[MonthView, ...]
    documents: tuple[StoredDocument, ...]
    journal: tuple[StoredEntry, ...]
    balance: int


def month_views(
    contract: StoredContract, product: Product, today: date, offered: frozenset[int]
) -> tuple[MonthView, ...]:
    """The contract's months from its start to the maximum term (pure)."""
    if contract.start_day is None:
        return ()
    plan = product.plan(contract.plan_code)
    months = []
    for index in range(product.max_periods or contract.paid_periods):
        this = period(contract.start_day, index, plan.period_unit, plan.period_length)
        if contract.ended_on is not None and this.first > contract.ended_on:
            break
        if index < contract.paid_periods:
            state = "served" if this.last < today else "running" if this.first <= today else "paid"
        elif index in offered:
            state = "offered"
        else:
            state = "open"
        months.append(MonthView(index=index, first=this.first, last=this.last, state=state))
    return tuple(months)


class ContractService:
    """Ordering, views and refunds of prepaid service contracts."""

    def __init__(
        self,
        *,
        store: Store,
        billing: BillingService,
        catalogues: CatalogueSet,
        provider: ServiceProvider,
        outbox: Outbox,
        clock: Clock,
        config: BillingConfig,
    ) -> None:
        self._store = store
        self._billing = billing
        self._catalogues = catalogues
        self._provider = provider
        self._outbox = outbox
        self._clock = clock
        self._config = config
        self._seller, self._bank = seller_parties(config)

    # --- ordering ---------------------------------------------------------------------------
    async def site_of_plant(self, account_id: int, plant_id: int) -> Site:
        """The plant's coordinates (the account's own plant)."""
        plant = await self._store.repo(PlantRepository).get(plant_id, account_id)
        fields = plant.fields
        if fields.latitude is None or fields.longitude is None:
            raise InvalidSiteError(f"plant {plant_id} has no coordinates")
        return Site.of(fields.latitude, fields.longitude)

    async def order(
        self,
        customer: Customer,
        *,
        product: str,
        plan: str,
        site: Site,
        plant_id: int | None = None,
        wished_start: date | None = None,
        key: str,
    ) -> dict[str, Any]:
        """Pre-check ``site`` with the provider, then order (R-BIL-2, 3).

        A refusal or an unavailable provider raises before anything is stored. Accepted: the
        order and its pro-forma (money core), the wished start, the service number, and the
        mail with the confirmation, the order form and the pro-forma; a retry with the same
        ``key`` returns the first result and mails nothing twice.
        """
        today = local_date(self._clock.now())
        found = self._catalogues.effective(today).product(product)
        if found.family is not Family.SERVICE_CONTRACT or found.resource is None:
            raise ContractError(f"{product} is not a service contract")
        line = OrderLine(product=product, plan=plan, plant_id=plant_id)
        repo = self._store.repo(ServiceContractRepository)
        async with self._store.repo(BillingRepository).transaction() as conn:
            accepted = await repo.ordered_with(conn, key)
        if accepted is not None:  # a retry: the first result, the provider is not asked again
            placed = await self._billing.place_order(customer, [line], key=key)
            return {
                **placed,
                "service_number": accepted.service_number,
                "precheck_reference": accepted.precheck_reference,
            }
        await self._store.release_reads()  # no pooled connection held while the provider answers
        checked = await self._provider.precheck(found.code, site)
        placed = await self._billing.place_order(customer, [line], key=key)
        order_id = int(placed["order_id"])
        [contract_id] = placed["contract_ids"]
        [proforma_id] = placed["proforma_ids"]
        if wished_start is not None:
            await self._billing.wish_start(order_id, wished_start, key=f"{key}:wish")
        account = await self._store.repo(AccountRepository).get(customer.account_id)
        billing = self._store.repo(BillingRepository)
        now = self._clock.now()
        async with billing.transaction() as conn:
            service = await repo.add_service(
                conn,
                contract_id=contract_id,
                service_number=f"{found.resource.service_number_prefix}-{contract_id:06d}",
                provider=found.resource.provider,
                site=site,
                plant_id=plant_id,
                precheck_reference=checked.reference,
                order_key=key,
                now=now,
            )
            proforma = await billing.document(conn, proforma_id)
            order = await billing.order(conn, order_id)
            attachments = await self._attachments(
                order=order, service=service, proforma=proforma, product=found, plan=plan,
                customer=customer, wished_start=wished_start,
            )  # fmt: skip
            labels = labels_for(customer.language)
            mailed = await self._outbox.put(
                conn,
                Mail(
                    to=account.email,
                    kind=MailKind.SERVICE_ORDER,
                    language=Language.EN if customer.language == "en" else Language.DE,
                    params={
                        "name": customer.party.name,
                        "product": found.name.get(customer.language),
                        "order_id": order_id,
                        "ordered_on": labels.date(local_date(order.created_at)),
                        "service_number": service.service_number,
                        "latitude": str(site.latitude),
                        "longitude": str(site.longitude),
                        "proforma_number": proforma.number,
                        "proforma_gross": labels.money(proforma.gross),
                        "payment_reference": proforma.payment_reference or proforma.number,
                        "wished_start": labels.date(wished_start) if wished_start else "",
                        "seller": self._seller.name,
                    },
                    attachments=attachments,
                ),
                now=now,
                dedup_key=f"service-order:{order_id}",
            )
        if mailed is not None:
            self._outbox.wake()
        return {
            **placed,
            "service_number": service.service_number,
            "precheck_reference": service.precheck_reference,
        }

    async def _attachments(
        self,
        *,
        order: StoredOrder,
        service: StoredService,
        proforma: StoredDocument,
        product: Product,
        plan: str,
        customer: Customer,
        wished_start: date | None,
    ) -> tuple[Attachment, ...]:
        form = OrderForm(
            order_id=order.id, service_number=service.service_number,
            ordered_on=local_date(order.created_at), customer=customer.party,
            seller=self._seller, product=product, plan=plan, site=service.site,
            wished_start=wished_start, language=customer.language,
        )  # fmt: skip
        form_pdf, proforma_pdf = await asyncio.gather(
            asyncio.to_thread(render_order_form, form),
            asyncio.to_thread(render_document, view_from_canonical(proforma.canonical.encode())),
        )
        title = "Order-form" if customer.language == "en" else "Bestellformular"
        return (
            Attachment(
                filename=f"{title}-{service.service_number}.pdf",
                content_type="application/pdf",
                data=form_pdf,
            ),
            Attachment(
                filename=f"{proforma.number}.pdf", content_type="application/pdf", data=proforma_pdf
            ),
        )

    # --- views ------------------------------------------------------------------------------
    async def view(self, contract_id: int, account_id: int | None) -> ContractView:
        """One contract with its months, documents and journal (``account_id``: its owner)."""
        billing = self._store.repo(BillingRepository)
        async with billing.transaction() as conn:
            found = await billing.contracts(conn, ids=[contract_id])
            if not found or (account_id is not None and found[0].account_id != account_id):
                raise NotFoundError(f"no contract {contract_id}")
            contract = found[0]
            order = await billing.order(conn, contract.order_id)
            documents = await billing.documents(conn, contract_id=contract.id)
            journal = await billing.journal(conn, contract.account_id)
            balance = await billing.balance(conn, contract.account_id)
            service = await self._store.repo(ServiceContractRepository).service(conn, contract.id)
            settled = {d.period for d in documents if d.kind is DocumentKind.PROFORMA}
        product = self._catalogues.version(contract.catalogue_version).product(
            contract.product_code
        )
        today = local_date(self._clock.now())
        mine = {d.id for d in documents}
        return ContractView(
            contract=contract,
            order=order,
            service=service,
            months=month_views(
                contract, product, today, frozenset(p for p in settled if p is not None)
            ),
            documents=tuple(documents),
            journal=tuple(e for e in journal if e.document_id is None or e.document_id in mine),
            balance=balance,
        )

    async def contract_ids(self, account_id: int) -> list[int]:
        """The account's contracts of the service-contract family, oldest first."""
        billing = self._store.repo(BillingRepository)
        async with billing.transaction() as conn:
            orders = await billing.orders(conn, account_id)
            contracts = [c for o in orders for c in await billing.contracts(conn, order_id=o.id)]
        return sorted(
            c.id
            for c in contracts
            if self._catalogues.version(c.catalogue_version).product(c.product_code).family
            is Family.SERVICE_CONTRACT
        )

    @property
    def catalogues(self) -> CatalogueSet:
        """The catalogue versions contracts are booked under (the preview reads them)."""
        return self._catalogues

    # --- refunds ----------------------------------------------------------------------------
    async def refund_to_iban(
        self,
        account_id: int,
        *,
        iban: str,
        holder: str,
        amount: int | None = None,
        key: str,
    ) -> bytes:
        """Pay ``amount`` (default: the whole positive balance) back as a pain.001 file.

        The journal's refund entry (money core, keyed) and the file are made once per ``key``;
        a retry returns the same file.
        """
        billing = self._store.repo(BillingRepository)
        refunds = self._store.repo(ServiceContractRepository)
        async with billing.transaction() as conn:
            done = await refunds.refund(conn, key)
            balance = await billing.balance(conn, account_id)
        if done is not None:  # a retry: the first file
            return done.pain001.encode()
        due = balance if amount is None else amount
        if due <= 0:
            raise BillingError(f"account {account_id} has no credit to pay back")
        now = self._clock.now()
        transfer = Transfer(
            debtor_name=self._seller.name, debtor_iban=self._bank.iban,
            debtor_bic=self._bank.bic or "", creditor_name=holder, creditor_iban=iban,
            amount=due, execution_date=local_date(now),
            reference=f"K{account_id:06d} Rueckzahlung Guthaben", end_to_end_id=key,
        )  # fmt: skip
        data = await asyncio.to_thread(pain001, transfer)  # checks the IBAN before money moves
        await self._billing.refund(account_id, due, f"SEPA {iban[-4:]}", key=key)
        async with billing.transaction() as conn:
            stored = await refunds.add_refund(
                conn, key=key, account_id=account_id, amount=due, iban=iban, holder=holder,
                pain001=data.decode(), now=now,
            )  # fmt: skip
        return stored.pain001.encode()
