"""The licence pages (seed 002 §11-15), German first, English switchable::

    GET  /plants/{id}/licence               status, end, "Lizenz kaufen"/"Lizenz erneuern",
                                            power, "Konfiguration neu anfordern", fee preview
    POST /plants/{id}/licence/resend        (CSRF) CONTROL resend_configuration to the agent
    GET  /plants/{id}/licence/preview?added  "Gebühren vorab erfragen" (dry run)
    GET  /licences/buy?plant&term&contract_language   choose plants, term, language; with a
                                            term the total is shown before the terms checkbox
                                            and "Jetzt kostenpflichtig bestellen"
    POST /licences/order                    (CSRF) place the order (idempotent by its key)
    GET  /licences/orders/{id}/pay          choose the payment method
    POST /licences/orders/{id}/pay          (CSRF) start paying; on to the provider or the
                                            shop's order page ``/shop/orders/{id}``

Errors are shown on the page in the user's language with the input kept.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Awaitable, Sequence
from typing import Any

import jinja2
from aiohttp import web

from cloud_gateway.accounts.access import Action, ObjectKind, Resource, actor_for, can
from cloud_gateway.accounts.model import Account
from cloud_gateway.billing.catalogue import PaymentMedium
from cloud_gateway.billing.rendering.view import DocumentKind
from cloud_gateway.billing.repository import BillingRepository
from cloud_gateway.errors import NotFoundError
from cloud_gateway.http.auth import csrf_token, require_identity, verify_csrf
from cloud_gateway.http.keys import LICENCES, STORE
from cloud_gateway.http.pages import page_context, page_response
from cloud_gateway.i18n import Language, request_language
from cloud_gateway.licences import api
from cloud_gateway.licences.errors import (
    AgentOfflineError,
    PaymentMethodError,
    PurchaseRefusedError,
    QuoteError,
)
from cloud_gateway.licences.quote import LicenceTerm, parse_watts
from cloud_gateway.licences.service import PowerPreview
from cloud_gateway.licences.texts import day, licence_text, money, power, register
from cloud_gateway.plants.model import Plant
from cloud_gateway.plants.repository import PlantRepository
from cloud_gateway.shop.pages import checkout_csp

__all__ = ["setup"]


@functools.cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.PackageLoader("cloud_gateway.licences", "templates"),
                jinja2.PackageLoader("cloud_gateway", "templates"),
            ]
        ),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )


async def _render(
    request: web.Request, template: str, context: dict[str, Any], *, status: int = 200
) -> web.Response:
    lang = request_language(request)
    helpers = {
        "t": functools.partial(licence_text, lang),
        "money": functools.partial(money, lang),
        "power": functools.partial(power, lang),
        "day": functools.partial(day, lang),
        "lang": lang.value,
        "csrf_token": await csrf_token(request),
    }
    values = {**page_context(request), **helpers, **context}  # the layout's viewer and nav
    body = _templates().get_template(template).render(**values)
    return page_response(request, body, status=status)


async def _own_plant(request: web.Request, account_id: int) -> Plant:
    try:
        plant_id = int(request.match_info["plant_id"])
        return await request.app[STORE].repo(PlantRepository).get(plant_id, account_id)
    except (ValueError, NotFoundError):
        raise web.HTTPNotFound from None


# -- a plant's licence ----------------------------------------------------------------------


async def plant_licence(
    request: web.Request,
    *,
    message: str = "",
    error: str = "",
    status: int = 200,
    preview: PowerPreview | None = None,
) -> web.Response:
    identity = await require_identity(request)
    plant = await _own_plant(request, identity.account.id)
    service = request.app[LICENCES]
    return await _render(
        request,
        "licence_plant.html",
        {
            "plant": plant,
            "status": await service.status(plant),
            "plant_power": await service.plant_power(plant),
            "ended_by_power": await service.ended_by_power(plant),
            "message": message,
            "error": error,
            "preview": preview,
            "added": request.query.get("added", ""),
        },
        status=status,
    )


async def plant_licence_get(request: web.Request) -> web.Response:
    return await plant_licence(request)


async def resend(request: web.Request) -> web.Response:
    identity = await require_identity(request)
    await verify_csrf(request, await request.post())
    plant = await _own_plant(request, identity.account.id)
    try:
        await request.app[LICENCES].resend_configuration(identity.account.id, plant.id)
    except AgentOfflineError:
        return await plant_licence(request, error="lic.agent_offline", status=409)
    return await plant_licence(request, message="lic.resend_sent")


async def preview(request: web.Request) -> web.Response:
    """Gebühren vorab erfragen: the dry run; nothing is stored."""
    identity = await require_identity(request)
    plant = await _own_plant(request, identity.account.id)
    service = request.app[LICENCES]
    raw = request.query.get("added", "")
    try:
        added = parse_watts(raw)
        term = LicenceTerm.parse(request.query.get("term", "365"))
    except QuoteError:
        return await plant_licence(request, error="lic.err.watts", status=422)
    result = await service.preview_power(identity.account.id, plant.id, added, term)
    return await plant_licence(request, preview=result)


# -- buying -----------------------------------------------------------------------------------


def _plant_ids(values: Sequence[str]) -> list[int]:
    ids: list[int] = []
    for value in values:
        if value.isdigit() and int(value) not in ids:
            ids.append(int(value))
    return ids


async def _buy_page(
    request: web.Request,
    account_id: int,
    *,
    chosen: list[int],
    term_raw: str,
    language_raw: str,
    error: str = "",
    status: int = 200,
) -> web.Response:
    service = request.app[LICENCES]
    plants = await request.app[STORE].repo(PlantRepository).list_for_account(account_id)
    refusal = await service.refusal(account_id)
    contract_language = (
        language_raw if language_raw in {"de", "en"} else request_language(request).value
    )
    priced = None
    term = None
    if term_raw:
        try:
            term = LicenceTerm.parse(term_raw)
        except QuoteError:
            error, status = error or "lic.err.term", 422
    owned = {p.id for p in plants}
    chosen = [pid for pid in chosen if pid in owned]
    if term is not None:
        if chosen:
            try:
                priced = await service.quote(account_id, chosen, term)
            except QuoteError:
                error, status = error or "lic.err.no_inverters", 422
        else:
            error, status = error or "lic.err.plants", 422
    return await _render(
        request,
        "licence_buy.html",
        {
            "plants": plants,
            "chosen": chosen,
            "term": term,
            "terms": list(LicenceTerm),
            "contract_language": contract_language,
            "quote": priced,
            "refusal": refusal,
            "error": error,
            "order_key": secrets.token_urlsafe(16),
        },
        status=status,
    )


async def buy(request: web.Request) -> web.Response:
    identity = await require_identity(request)
    return await _buy_page(
        request,
        identity.account.id,
        chosen=_plant_ids(request.query.getall("plant", [])),
        term_raw=request.query.get("term", ""),
        language_raw=request.query.get("contract_language", ""),
    )


async def order(request: web.Request) -> web.Response:
    identity = await require_identity(request)
    form = await request.post()
    await verify_csrf(request, form)
    account_id = identity.account.id
    chosen = _plant_ids([str(v) for v in form.getall("plant", [])])
    term_raw = str(form.get("term", ""))
    language_raw = str(form.get("contract_language", ""))

    def again(error: str, status: int) -> Awaitable[web.Response]:
        return _buy_page(
            request, account_id, chosen=chosen, term_raw=term_raw,
            language_raw=language_raw, error=error, status=status,
        )  # fmt: skip

    if form.get("accept") != "on":
        return await again("lic.err.accept", 422)
    key = str(form.get("order_key", ""))
    if not 16 <= len(key) <= 64:
        return await again("lic.err.plants", 422)
    try:
        term = LicenceTerm.parse(term_raw)
    except QuoteError:
        return await again("lic.err.term", 422)
    try:
        placed = await request.app[LICENCES].order(
            account_id=account_id,
            plant_ids=chosen,
            term=term,
            language=Language.EN if language_raw == "en" else Language.DE,
            key=f"{account_id}:{key}",
        )
    except PurchaseRefusedError:
        return await again("", 403)
    except (QuoteError, NotFoundError):
        return await again("lic.err.plants", 422)
    raise web.HTTPSeeOther(f"/licences/orders/{placed.order_id}/pay")


async def _order_total(request: web.Request, account: Account) -> tuple[int, int]:
    """The order id of the path (the account's own) and the gross of its pro-formas."""
    account_id = account.id
    try:
        order_id = int(request.match_info["order_id"])
    except ValueError:
        raise web.HTTPNotFound from None
    billing = request.app[STORE].repo(BillingRepository)
    async with billing.transaction() as conn:
        try:
            found = await billing.order(conn, order_id)
        except NotFoundError:
            raise web.HTTPNotFound from None
        order = Resource(kind=ObjectKind.ORDER, owner_account_id=found.account_id)
        if not can(await actor_for(request.app[STORE], account), Action.READ, order):
            raise web.HTTPNotFound
        ids = {c.id for c in await billing.contracts(conn, order_id=order_id)}
        docs = await billing.documents(conn, account_id=account_id)
    gross = sum(
        d.gross
        for d in docs
        if d.kind is DocumentKind.PROFORMA and d.period == 0 and d.contract_id in ids
    )
    return order_id, gross


async def pay_page(request: web.Request, *, error: str = "", status: int = 200) -> web.Response:
    identity = await require_identity(request)
    order_id, gross = await _order_total(request, identity.account)
    try:  # the order-confirmation mail, should the order step have stopped before it
        await request.app[LICENCES].ensure_confirmation(identity.account.id, order_id)
    except QuoteError:
        raise web.HTTPNotFound from None  # not a licence order
    response = await _render(
        request,
        "licence_pay.html",
        {
            "order_id": order_id,
            "gross": gross,
            "methods": [m.value for m in request.app[LICENCES].payment_methods()],
            "chosen": request.query.get("method", PaymentMedium.BANK_TRANSFER.value),
            "error": error,
            "pay_key": secrets.token_urlsafe(16),
        },
        status=status,
    )
    # "Jetzt bezahlen" goes on to the provider's page (303): allowed like the shop's checkout
    response.headers["Content-Security-Policy"] = checkout_csp(request)
    return response


async def pay_page_get(request: web.Request) -> web.Response:
    return await pay_page(request)


async def pay(request: web.Request) -> web.Response:
    identity = await require_identity(request)
    form = await request.post()
    await verify_csrf(request, form)
    order_id, _gross = await _order_total(request, identity.account)
    try:
        method = PaymentMedium(str(form.get("method", "")))
    except ValueError:
        return await pay_page(request, error="lic.err.method", status=422)
    base = f"{request.scheme}://{request.host}"
    try:
        started = await request.app[LICENCES].pay(
            account_id=identity.account.id,
            order_id=order_id,
            method=method,
            return_url=f"{base}/shop/orders/{order_id}",
            cancel_url=f"{base}/licences/orders/{order_id}/pay",
            key=f"{order_id}:{form.get('pay_key', '')}",
        )
    except PaymentMethodError:
        return await pay_page(request, error="lic.err.method", status=422)
    raise web.HTTPSeeOther(started.redirect_url or f"/shop/orders/{order_id}")


def setup(app: web.Application) -> None:
    """Register the licence pages (needs STORE and LICENCES on ``app``)."""
    register()
    api.setup(app)
    r = app.router
    plant = "/plants/{plant_id:\\d+}/licence"
    r.add_get(plant, plant_licence_get, name="plant_licence")
    r.add_post(plant + "/resend", resend, name="plant_licence_resend")
    r.add_get(plant + "/preview", preview, name="plant_licence_preview")
    r.add_get("/licences/buy", buy, name="licences_buy")
    r.add_post("/licences/order", order, name="licences_order")
    r.add_get("/licences/orders/{order_id:\\d+}/pay", pay_page_get, name="licences_pay")
    r.add_post("/licences/orders/{order_id:\\d+}/pay", pay)
