"""The shop's pages (R-CCU-3..5): Produkte, product page, Warenkorb, Zahlungsart, orders.

::

    GET  /shop/products                 "Produkte": the hub packages, prices with VAT
    GET  /shop/products/{code}          runtime, Einzelbuchung/Abonnement, "In den Warenkorb"
    POST /shop/cart/add                 (CSRF) into the cart, 303 to the cart
    GET  /shop/cart                     the cart: lines with payment details, totals
    POST /shop/cart/update              (CSRF) "Löschen" ticked + "Aktualisierung"
    POST /shop/cart/voucher             (CSRF) "Gutschein einlösen"
    GET  /shop/checkout                 "Kaufen": the payment method page
    POST /shop/checkout                 (CSRF) "Jetzt kaufen": 303 to the provider or the order
    GET  /shop/orders, /shop/orders/{order_id}   the account's orders

A refused form is shown again with a clear message in the user's language and what was typed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from aiohttp import web

from cloud_gateway.accounts.flows import base_url
from cloud_gateway.billing.catalogue import BookingType, PaymentMedium
from cloud_gateway.errors import NotFoundError
from cloud_gateway.http.auth import current_identity, require_identity, verify_csrf
from cloud_gateway.http.keys import CONFIG, SHOP
from cloud_gateway.http.pages import content_security_policy
from cloud_gateway.i18n import request_language
from cloud_gateway.payments.texts import payment_text
from cloud_gateway.shop.errors import CartError, CartProblem
from cloud_gateway.shop.web import render_shop

__all__ = ["checkout_csp", "setup"]

#: "Jetzt kaufen" may be answered by a redirect to a payment provider's page (https)
_CHECKOUT_CSP = content_security_policy(form_action="'self' https:")
#: what the payment service's return sends the buyer back with (``payments.texts``)
_PAYMENT_NOTICES = ("paid", "pending", "declined", "error")


def _lang(request: web.Request) -> str:
    return request_language(request).value


async def shop_home(_request: web.Request) -> web.Response:
    """The shop starts with its products."""
    raise web.HTTPSeeOther("/shop/products")


async def products(request: web.Request) -> web.Response:
    """The products page ("Produkte"): every hub package with its runtimes' prices."""
    shop = request.app[SHOP]
    lang = _lang(request)
    offers = [(p, shop.plan_prices(p, lang)) for p in shop.packages()]
    return render_shop(request, "shop_products.html", {"offers": offers})


async def _product_page(
    request: web.Request, code: str, chosen: dict[str, str], *, error: str = "", status: int = 200
) -> web.Response:
    shop = request.app[SHOP]
    try:
        product = shop.package(code)
    except NotFoundError:
        raise web.HTTPNotFound(text="no such product") from None
    identity = await current_identity(request)
    context = {
        "product": product,
        "prices": shop.plan_prices(product, _lang(request)),
        "chosen_plan": chosen.get("plan") or "12m",
        "chosen_booking": chosen.get("booking") or BookingType.SINGLE.value,
        "csrf_token": identity.session.csrf_token if identity else "",
        "logged_in": identity is not None,
        "error": error,
        "here": request.path_qs,
    }
    return render_shop(request, "shop_product.html", context, status=status)


async def product(request: web.Request) -> web.Response:
    """The product page: choose the runtime and the booking type."""
    return await _product_page(request, request.match_info["code"], dict(request.query))


async def cart_add(request: web.Request) -> web.Response:
    """Add to the cart ("In den Warenkorb"), then show the cart."""
    identity = await require_identity(request)
    form = await request.post()
    await verify_csrf(request, form)
    chosen = {k: str(form.get(k, "")) for k in ("product", "plan", "booking")}
    try:
        booking = BookingType(chosen["booking"])
        await request.app[SHOP].add(identity.account.id, chosen["product"], chosen["plan"], booking)
    except (CartError, ValueError) as exc:
        problem = exc.problem if isinstance(exc, CartError) else CartProblem.BOOKING_TYPE
        text = f"cart.problem.{problem.value}"
        return await _product_page(request, chosen["product"], chosen, error=text, status=422)
    raise web.HTTPSeeOther("/shop/cart")


async def _cart_page(
    request: web.Request, *, error: str = "", voucher: str = "", status: int = 200
) -> web.Response:
    identity = await require_identity(request)
    view = await request.app[SHOP].view(identity.account.id, _lang(request))
    context = {
        "view": view,
        "csrf_token": identity.session.csrf_token,
        "error": error,
        "voucher_typed": voucher,
        "redeemed": request.query.get("redeemed", ""),
        "updated": "updated" in request.query,
        "hub": request.query.get("hub", ""),
    }
    return render_shop(request, "shop_cart.html", context, status=status)


async def cart(request: web.Request) -> web.Response:
    """The cart."""
    return await _cart_page(request)


async def cart_update(request: web.Request) -> web.Response:
    """Update ("Aktualisierung"): the lines ticked "Löschen" go."""
    identity = await require_identity(request)
    form = await request.post()
    await verify_csrf(request, form)
    ids = [int(v) for v in form.getall("remove", []) if isinstance(v, str) and v.isdigit()]
    await request.app[SHOP].remove(identity.account.id, ids)
    raise web.HTTPSeeOther("/shop/cart?updated=1")


async def cart_voucher(request: web.Request) -> web.Response:
    """Redeem ("Gutschein einlösen"): the amount is adjusted, or a reason keeps the code typed."""
    identity = await require_identity(request)
    form = await request.post()
    await verify_csrf(request, form)
    code = str(form.get("voucher", "")).strip()
    try:
        await request.app[SHOP].redeem(identity.account.id, code)
    except CartError as error:
        text = f"cart.problem.{error.problem.value}"
        return await _cart_page(request, error=text, voucher=code, status=422)
    raise web.HTTPSeeOther("/shop/cart?" + urlencode({"redeemed": code}))


async def _payment_page(
    request: web.Request, *, error: str = "", method: str = "", status: int = 200
) -> web.Response:
    identity = await require_identity(request)
    view = await request.app[SHOP].view(identity.account.id, _lang(request))
    if not view.cart.items and not error:
        raise web.HTTPSeeOther("/shop/cart")
    methods = [m.value for m in view.methods]
    context = {
        "view": view,
        "csrf_token": identity.session.csrf_token,
        "key": view.cart.checkout_key(),
        "methods": methods,
        "chosen": method if method in methods else (methods[0] if methods else ""),
        "error": error,
    }
    response = render_shop(request, "shop_payment.html", context, status=status)
    response.headers["Content-Security-Policy"] = checkout_csp(request)
    return response


def checkout_csp(request: web.Request) -> str:
    """A payment page (the shop's checkout, the licence pay page) may send its form on to
    https pages and the configured providers' pages (a local simulator speaks plain http):
    the browser applies ``form-action`` to the redirect after the POST too."""
    settings = request.app[CONFIG].payments
    origins = sorted(
        f"{u.scheme}://{u.netloc}"
        for u in (urlsplit(settings.paypal_api_url), urlsplit(settings.psp_url))
        if u.scheme == "http" and u.netloc
    )
    if not origins:
        return _CHECKOUT_CSP
    return content_security_policy(form_action=" ".join(["'self'", "https:", *origins]))


async def payment(request: web.Request) -> web.Response:
    """Buy ("Kaufen"): choose the payment method."""
    return await _payment_page(request)


def _method(value: str) -> PaymentMedium:
    """The chosen method; an unknown value counts as card (refused where not offered)."""
    return PaymentMedium(value) if value in {m.value for m in PaymentMedium} else PaymentMedium.CARD


async def checkout(request: web.Request) -> web.Response:
    """Buy now ("Jetzt kaufen"): place the order (once per cart content), start paying."""
    identity = await require_identity(request)
    form = await request.post()
    await verify_csrf(request, form)
    key, method = str(form.get("key", "")), str(form.get("method", ""))
    try:
        done = await request.app[SHOP].checkout(
            identity.account.id,
            key=key,
            method=_method(method),
            language=_lang(request),
            base_url=base_url(request),
        )
    except CartError as error:
        text = f"cart.problem.{error.problem.value}"
        return await _payment_page(request, error=text, method=method, status=422)
    raise web.HTTPSeeOther(done.redirect_url or f"/shop/orders/{done.order_id}")


async def orders(request: web.Request) -> web.Response:
    """The account's orders."""
    identity = await require_identity(request)
    found = await request.app[SHOP].book.orders(identity.account.id)
    return render_shop(request, "shop_orders.html", {"orders": found})


async def order(request: web.Request) -> web.Response:
    """One order: status, documents (PDF, GiroCode, RF reference), packages and their end."""
    identity = await require_identity(request)
    raw = request.match_info["order_id"]
    # back from PayPal or the PSP (``?payment=``, a hint only: the order's status is read):
    # while that payment is being confirmed, the page asks for no bank transfer (no GiroCode)
    came_back = request.query.get("payment", "")
    notice = came_back if came_back in _PAYMENT_NOTICES else None
    try:
        info = await request.app[SHOP].book.order(
            identity.account.id, int(raw), girocodes=notice not in ("pending", "paid")
        )
    except (NotFoundError, ValueError):
        raise web.HTTPNotFound(text="no such order") from None
    context: dict[str, Any] = {
        "info": info,
        "notice": notice,
        "notice_text": payment_text(request_language(request), f"payment.{notice}")
        if notice
        else "",
    }
    return render_shop(request, "shop_order.html", context)


def setup(app: web.Application) -> None:
    """Register the shop's pages."""
    app.router.add_get("/shop", shop_home, name="shop")
    app.router.add_get("/shop/products", products, name="shop_products")
    app.router.add_get("/shop/products/{code}", product, name="shop_product")
    app.router.add_post("/shop/cart/add", cart_add, name="shop_cart_add")
    app.router.add_get("/shop/cart", cart, name="shop_cart")
    app.router.add_post("/shop/cart/update", cart_update, name="shop_cart_update")
    app.router.add_post("/shop/cart/voucher", cart_voucher, name="shop_cart_voucher")
    app.router.add_get("/shop/checkout", payment, name="shop_checkout")
    app.router.add_post("/shop/checkout", checkout)
    app.router.add_get("/shop/orders", orders, name="shop_orders")
    app.router.add_get("/shop/orders/{order_id}", order, name="shop_order")
