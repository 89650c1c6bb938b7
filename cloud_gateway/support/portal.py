"""Portal pages that combine areas: the overview, the booked products, invoices and payments.

::

    GET  /portal                              overview (R-POR-2, R-CCU-12)
    GET  /portal/products                     booked products with documents (R-POR-3)
    POST /portal/products/{contract_id}/cancel  end a subscription at its period end
    GET  /portal/invoices                     documents, balance and journal (R-POR-4)

Every object comes from a query scoped to the logged-in account; a contract of another
account is "not found" (404).
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from cloud_gateway.billing.catalogue import (
    BookingType,
    Family,
    PaymentMedium,
    Product,
    load_catalogues,
)
from cloud_gateway.billing.errors import BillingError
from cloud_gateway.billing.model import StoredContract, StoredDocument, StoredEntry
from cloud_gateway.billing.rendering.view import DocumentKind
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.billing.states import ContractState
from cloud_gateway.devices.model import DeviceKind
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.errors import NotFoundError
from cloud_gateway.http.auth import csrf_token, require_identity, verify_csrf
from cloud_gateway.http.keys import BILLING, CLOCK, PLANT_ACCESS, SHOP, STORE, SUPPORT
from cloud_gateway.http.pages import render
from cloud_gateway.i18n import request_language, translate
from cloud_gateway.notify.mail import Attachment
from cloud_gateway.notify.repository import OutboxRepository
from cloud_gateway.plants.repository import PlantRepository
from cloud_gateway.plants.views import shared_plants
from cloud_gateway.shop.formats import Formats
from cloud_gateway.shop.repository import CartRepository
from cloud_gateway.store import Store
from cloud_gateway.support import pages
from cloud_gateway.support.model import TicketStatus

__all__ = ["setup"]

#: notices about endings this close (days)
_NOTICE_DAYS = 30


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentRow:
    """A document as the invoice list shows it."""

    doc: StoredDocument
    open: bool
    #: the shop's order page that offers the payment (pro-formas and invoices of an order)
    pay_url: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductRow:
    """A booked product: its contract, catalogue product and documents."""

    contract: StoredContract
    product: Product
    documents: list[StoredDocument]
    paypal: bool
    #: the contract documents mailed with the order (terms, order form): file names by position
    papers: tuple[tuple[int, str], ...] = ()

    @property
    def cancellable(self) -> bool:
        return (
            self.contract.state is ContractState.ACTIVE
            and self.contract.booking is BookingType.SUBSCRIPTION
            and self.contract.ended_on is None
            and not self.paypal
        )


async def _contracts(store: Store, account_id: int) -> list[StoredContract]:
    repo = store.repo(BillingRepository)
    async with repo.reading() as conn:  # reads only: the request's read connection
        found: list[StoredContract] = []
        for order in await repo.orders(conn, account_id):
            found += await repo.contracts(conn, order_id=order.id)
    return [c for c in found if c.account_id == account_id]


async def _documents(
    store: Store, account_id: int, repairs: dict[int, int] | None = None
) -> list[DocumentRow]:
    """The account's documents newest first, open ones marked, each with its pay link: the
    shop's order page, or for a repair's pro-forma (``repairs``: document id to repair id)
    the repair order's page with the transfer details."""
    repo = store.repo(BillingRepository)
    repairs = repairs or {}
    rows = []
    async with repo.reading() as conn:  # reads only: the request's read connection
        documents = await repo.documents(conn, account_id=account_id)
        orders = {}
        contract_ids = [d.contract_id for d in documents if d.contract_id is not None]
        for c in await repo.contracts(conn, ids=sorted(set(contract_ids))):
            orders[c.id] = c.order_id
        for d in reversed(documents):
            payable = d.kind is DocumentKind.PROFORMA or (
                d.kind is DocumentKind.INVOICE and d.due > 0
            )
            is_open = payable and not await repo.is_settled(conn, d.id)
            order_id = orders.get(d.contract_id) if d.contract_id is not None else None
            pay_url = None
            if is_open and order_id is not None:
                pay_url = f"/shop/orders/{order_id}"
            elif is_open and d.id in repairs:
                pay_url = f"/portal/repairs/{repairs[d.id]}"
            rows.append(DocumentRow(doc=d, open=is_open, pay_url=pay_url))
    return rows


async def _repair_proformas(request: web.Request) -> dict[int, int]:
    """The logged-in account's repair pro-formas: document id to repair order id."""
    identity = await require_identity(request)
    return {
        r.proforma_id: r.id
        for r in await request.app[SUPPORT].repairs(identity.account.id)
        if r.proforma_id is not None
    }


async def _journal(store: Store, account_id: int) -> tuple[int, list[StoredEntry]]:
    repo = store.repo(BillingRepository)
    async with repo.reading() as conn:
        return await repo.balance(conn, account_id), await repo.journal(conn, account_id)


async def overview(request: web.Request) -> web.Response:
    """The customer's overview: invoices, tickets, notices, devices and plants."""
    identity = await require_identity(request)
    account = identity.account
    store, lang = request.app[STORE], request_language(request)
    fmt = Formats(lang)
    now = request.app[CLOCK].now()
    devices = await store.repo(DeviceRepository).list_for_account(account.id)
    shop = request.app[SHOP]
    hubs = [
        (d, await shop.hub_status(account.id, d.id)) for d in devices if d.kind is DeviceKind.CCU
    ]
    notices: list[str] = []
    for device, status in hubs:
        if status.until is not None and (status.until - now).days < _NOTICE_DAYS:
            notices.append(
                translate(lang, "sp.notice.ends").format(
                    device=device.name or device.slug, day=fmt.last_day(status.until)
                )
            )
    licensed = {
        c.plant_id
        for c in await _contracts(store, account.id)
        if c.plant_id is not None and c.state is ContractState.ACTIVE
    }
    plants = []
    for plant in await store.repo(PlantRepository).list_for_account(account.id):
        access = await request.app[PLANT_ACCESS].decide(plant, now)
        if not access.entitled or access.until is None:
            state = translate(lang, "sp.plant_state.none")
        else:
            key = "sp.plant_state.licence" if plant.id in licensed else "sp.plant_state.trial"
            state = translate(lang, key).format(day=fmt.last_day(access.until))
            if (access.until - now).days < _NOTICE_DAYS:
                notices.append(
                    translate(lang, "sp.notice.plant_ends").format(
                        plant=plant.fields.name, day=fmt.last_day(access.until)
                    )
                )
        plants.append((plant, access.entitled, state))
    documents = (await _documents(store, account.id, await _repair_proformas(request)))[:5]
    tickets = [
        t
        for t in await request.app[SUPPORT].tickets(account.id)
        if t.status is not TicketStatus.CLOSED
    ]
    return render(
        request,
        "portal.html",
        {
            "account": account,
            "devices": devices,
            "csrf_token": await csrf_token(request),
            "hubs": hubs,
            "plants": plants,
            "notices": notices,
            "documents": documents,
            "tickets": tickets,
            "shared": await shared_plants(request, account),
            "fmt": fmt,
        },
    )


async def products(request: web.Request) -> web.Response:
    """The booked products: overview, documents, cancellation as the product allows."""
    identity = await require_identity(request)
    store = request.app[STORE]
    catalogues = load_catalogues()
    checkouts = await store.repo(CartRepository).checkouts(identity.account.id)
    paypal = {order for order, c in checkouts.items() if c.method is PaymentMedium.PAYPAL}
    repo = store.repo(BillingRepository)
    rows = []
    for contract in await _contracts(store, identity.account.id):
        async with repo.reading() as conn:
            documents = await repo.documents(conn, contract_id=contract.id)
        product = catalogues.version(contract.catalogue_version).product(contract.product_code)
        numbers = {f"{d.number}.pdf" for d in documents}
        papers = tuple(
            (n, a.filename)
            for n, a in enumerate(await _papers(store, contract, product))
            if a.filename not in numbers  # a mailed pro-forma is listed among the documents
        )
        rows.append(
            ProductRow(
                contract=contract,
                product=product,
                documents=documents,
                paypal=contract.order_id in paypal,
                papers=papers,
            )
        )
    return render(
        request,
        "portal_products.html",
        {
            "rows": rows,
            "csrf_token": await csrf_token(request),
            "fmt": Formats(request_language(request)),
            "notice": request.query.get("cancelled"),
            "error": request.query.get("error"),
        },
    )


#: the mail that carried an order's contract documents, by product family
_ORDER_MAILS = {
    Family.PLANT_LICENCE: "licence-order:{order_id}",
    Family.SERVICE_CONTRACT: "service-order:{order_id}",
}


async def _papers(store: Store, contract: StoredContract, product: Product) -> list[Attachment]:
    """The contract documents mailed with the contract's order (none for hub packages)."""
    key = _ORDER_MAILS.get(product.family)
    if key is None:
        return []
    return await store.repo(OutboxRepository).attachments_by_key(
        key.format(order_id=contract.order_id)
    )


async def paper(request: web.Request) -> web.Response:
    """One contract document of a booked product (the account's own contracts only)."""
    identity = await require_identity(request)
    store = request.app[STORE]
    contract_id, position = int(request.match_info["contract_id"]), int(request.match_info["n"])
    mine = {c.id: c for c in await _contracts(store, identity.account.id)}
    if contract_id not in mine:
        raise NotFoundError(f"no contract {contract_id}")
    contract = mine[contract_id]
    product = load_catalogues().version(contract.catalogue_version).product(contract.product_code)
    papers = await _papers(store, contract, product)
    if position >= len(papers):
        raise NotFoundError(f"no document {position} of contract {contract_id}")
    found = papers[position]
    return web.Response(
        body=found.data,
        content_type=found.content_type,
        headers={"Content-Disposition": f'inline; filename="{found.filename}"'},
    )


async def cancel(request: web.Request) -> web.Response:
    """End a subscription at the end of its current period (the billing service's terminate)."""
    identity = await require_identity(request)
    form = await request.post()
    await verify_csrf(request, form)
    try:
        contract_id = int(request.match_info["contract_id"])
    except ValueError:
        raise web.HTTPNotFound from None
    store = request.app[STORE]
    mine = {c.id: c for c in await _contracts(store, identity.account.id)}
    if contract_id not in mine:
        raise NotFoundError(f"no contract {contract_id}")
    try:
        await request.app[BILLING].terminate(contract_id, key=f"portal-cancel:{contract_id}")
    except BillingError:
        raise web.HTTPSeeOther("/portal/products?error=cancel") from None
    raise web.HTTPSeeOther(f"/portal/products?cancelled={contract_id}")


async def invoices(request: web.Request) -> web.Response:
    """Invoices, pro-formas and credit notes; the payment account's balance and journal."""
    identity = await require_identity(request)
    store = request.app[STORE]
    balance, journal = await _journal(store, identity.account.id)
    return render(
        request,
        "portal_invoices.html",
        {
            "rows": await _documents(store, identity.account.id, await _repair_proformas(request)),
            "balance": balance,
            "journal": list(reversed(journal)),
            "fmt": Formats(request_language(request)),
        },
    )


def setup(app: web.Application) -> None:
    """Register the overview, products and invoice pages."""
    app.router.add_get("/portal", overview, name="portal")
    app.router.add_get("/portal/products", products, name="portal_products")
    app.router.add_post(r"/portal/products/{contract_id:\d+}/cancel", pages.owned(cancel))
    app.router.add_get(r"/portal/products/{contract_id:\d+}/papers/{n:\d+}", pages.owned(paper))
    app.router.add_get("/portal/invoices", invoices, name="portal_invoices")
