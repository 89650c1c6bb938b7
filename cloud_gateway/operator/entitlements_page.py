"""Entitlements by hand in the console (R-OPS-2): real products, with reason and audit.

::

    GET  /console/entitlements?account=NAME        the account's windows, its plants' windows
    POST /console/entitlements/package             choice=product|plan, booking: a hub package
    POST /console/entitlements/licence             plant, choice=product|plan, power_w: a licence
    POST /console/entitlements/{window_id}/end     end a window now

A package or licence granted here is the same window a paid booking makes (kind ``package``
or ``licence``, product and days from the catalogue in force), with the source
``operator:<id>``. Each form carries a one-time key, so a double submission grants once.
Every action needs a reason and is written to the console audit.
"""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from cloud_gateway.accounts.model import Account
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.billing.catalogue import Catalogue, Family, Plan
from cloud_gateway.billing.errors import UnknownProductError
from cloud_gateway.billing.periods import period
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.entitlements.repository import EntitlementRepository, StoredWindow
from cloud_gateway.entitlements.windows import Booking, Subject
from cloud_gateway.errors import NotFoundError
from cloud_gateway.http.keys import CLOCK, ENTITLEMENTS, SHOP, STORE
from cloud_gateway.localdays import local_date
from cloud_gateway.operator.console import BODY, STAFF, audit, reason_of
from cloud_gateway.operator.rendering import render_console
from cloud_gateway.plants.repository import PlantRepository

__all__ = ["end_window", "entitlements", "grant_licence", "grant_package"]


def _products(catalogue: Catalogue, family: Family) -> list[dict[str, Any]]:
    return [
        {"code": p.code, "name": p.name.get("de"), "plans": [pl.code for pl in p.plans]}
        for p in catalogue.products
        if p.family is family
    ]


async def _account(request: web.Request, name: str) -> Account | None:
    if not name.strip():
        return None
    return await request.app[STORE].repo(AccountRepository).find_by_login(name)


async def _windows(request: web.Request, account: Account) -> list[StoredWindow]:
    store = request.app[STORE]
    subjects: list[tuple[Subject, int]] = [(Subject.ACCOUNT, account.id)]
    subjects += [
        (Subject.HUB, d.id) for d in await store.repo(DeviceRepository).list_for_account(account.id)
    ]
    subjects += [
        (Subject.PLANT, p.id)
        for p in await store.repo(PlantRepository).list_for_account(account.id)
    ]
    return await store.repo(EntitlementRepository).for_subjects(*subjects)


async def entitlements(request: web.Request) -> web.Response:
    """The account's windows with the forms to grant and end."""
    return await _page(request, None)


async def _page(request: web.Request, extra: dict[str, Any] | None) -> web.Response:
    name = (extra or {}).get("account_name") or request.query.get("account", "")
    account = await _account(request, name)
    catalogue = request.app[SHOP].catalogue()
    context: dict[str, Any] = {
        "account_name": name,
        "account": account,
        "windows": await _windows(request, account) if account else [],
        "plants": (
            await request.app[STORE].repo(PlantRepository).list_for_account(account.id)
            if account
            else []
        ),
        "packages": _products(catalogue, Family.HUB_PACKAGE),
        "licences": _products(catalogue, Family.PLANT_LICENCE),
        "form_key": secrets.token_urlsafe(16),
        "now": request.app[CLOCK].now(),
        "error": None,
        "notice": request.query.get("done", ""),
    }
    status = 422 if extra and extra.get("error") else 200
    return await render_console(
        request, "console_entitlements.html", context | (extra or {}), status=status
    )


def _days(plan: Plan, request: web.Request) -> int:
    first = period(local_date(request.app[CLOCK].now()), 0, plan.period_unit, plan.period_length)
    return (first.last - first.first).days + 1


async def _refuse(request: web.Request, error: str) -> web.Response:
    body = request[BODY]
    return await _page(request, {"error": error, "account_name": body.get("account", "")})


def _product_plan(request: web.Request, family: Family) -> tuple[str, Plan] | None:
    code, _sep, plan = str(request[BODY].get("choice", "")).partition("|")
    try:
        product = request.app[SHOP].catalogue().product(code)
        if product.family is not family:
            return None
        return product.code, product.plan(plan)
    except UnknownProductError:
        return None


async def grant_package(request: web.Request) -> web.StreamResponse:
    """A hub package for the account, as if booked and paid now."""
    body, reason = request[BODY], reason_of(request)
    account = await _account(request, str(body.get("account", "")))
    chosen = _product_plan(request, Family.HUB_PACKAGE)
    if account is None or chosen is None:
        return await _refuse(request, "console.ent.unknown")
    if not reason:
        return await _refuse(request, "console.reason_required")
    code, plan = chosen
    booking = Booking.SUBSCRIPTION if body.get("booking") == "subscription" else Booking.SINGLE
    days = _days(plan, request)
    stored = await request.app[ENTITLEMENTS].book_package(
        account_id=account.id,
        paid_at=request.app[CLOCK].now(),
        days=days,
        booking=booking,
        product=code,
        source=f"operator:{request[STAFF].account.id}",
        idempotency_key=f"console:{body.get('form_key', '')}",
    )
    detail = f"window {stored.window.id}: {code} {plan.code} {days} d {booking.value}"
    await audit(request, "entitlement.package", account.username, reason, detail)
    raise web.HTTPSeeOther(f"/console/entitlements?account={account.username}&done=package")


async def grant_licence(request: web.Request) -> web.StreamResponse:
    """A plant licence for one of the account's plants, as if bought now."""
    body, reason = request[BODY], reason_of(request)
    account = await _account(request, str(body.get("account", "")))
    chosen = _product_plan(request, Family.PLANT_LICENCE)
    plants = (
        await request.app[STORE].repo(PlantRepository).list_for_account(account.id)
        if account
        else []
    )
    plant = next((p for p in plants if str(p.id) == body.get("plant")), None)
    try:
        power_w = int(str(body.get("power_w", "")))
    except ValueError:
        power_w = 0
    if account is None or chosen is None or plant is None or power_w <= 0:
        return await _refuse(request, "console.ent.unknown")
    if not reason:
        return await _refuse(request, "console.reason_required")
    code, plan = chosen
    days = _days(plan, request)
    stored = await request.app[ENTITLEMENTS].buy_licence(
        plant_id=plant.id,
        account_id=account.id,
        paid_at=request.app[CLOCK].now(),
        days=days,
        licensed_power_w=power_w,
        source=f"operator:{request[STAFF].account.id}",
        idempotency_key=f"console:{body.get('form_key', '')}",
    )
    detail = f"window {stored.window.id}: {code} {plan.code} {days} d plant {plant.id} {power_w} W"
    await audit(request, "entitlement.licence", account.username, reason, detail)
    raise web.HTTPSeeOther(f"/console/entitlements?account={account.username}&done=licence")


async def end_window(request: web.Request) -> web.StreamResponse:
    """End one window now."""
    body, reason = request[BODY], reason_of(request)
    account = await _account(request, str(body.get("account", "")))
    try:
        window_id = int(request.match_info["window_id"])
        stored = await request.app[STORE].repo(EntitlementRepository).get(window_id)
    except (ValueError, NotFoundError):
        raise web.HTTPNotFound from None
    if account is None:
        return await _refuse(request, "console.ent.unknown")
    if not reason:
        return await _refuse(request, "console.reason_required")
    await request.app[ENTITLEMENTS].end_window(
        actor_account_id=request[STAFF].account.id,
        window_id=stored.window.id or window_id,
        at=request.app[CLOCK].now(),
        note=reason,
    )
    await audit(request, "entitlement.end", account.username, reason, f"window {window_id}")
    raise web.HTTPSeeOther(f"/console/entitlements?account={account.username}&done=end")
