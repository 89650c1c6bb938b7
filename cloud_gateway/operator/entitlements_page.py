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
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class _Grant:
    """A checked grant form: whose, which product and plan, how many days, why."""

    account: Account
    code: str
    plan: Plan
    days: int
    reason: str
    source: str
    key: str


async def _grant_form(request: web.Request, family: Family) -> _Grant | str:
    """The form's grant, or the text id of what is wrong with it."""
    body, reason = request[BODY], reason_of(request)
    account = await _account(request, str(body.get("account", "")))
    chosen = _product_plan(request, family)
    if account is None or chosen is None:
        return "console.ent.unknown"
    if not reason:
        return "console.reason_required"
    code, plan = chosen
    return _Grant(
        account,
        code,
        plan,
        _days(plan, request),
        reason,
        f"operator:{request[STAFF].account.id}",
        f"console:{body.get('form_key', '')}",
    )


async def _granted(request: web.Request, grant: _Grant, what: str, detail: str) -> web.HTTPSeeOther:
    """Audit the grant; the redirect back to the account's windows, to raise."""
    await audit(request, f"entitlement.{what}", grant.account.username, grant.reason, detail)
    return web.HTTPSeeOther(f"/console/entitlements?account={grant.account.username}&done={what}")


async def grant_package(request: web.Request) -> web.StreamResponse:
    """A hub package for the account, as if booked and paid now."""
    grant = await _grant_form(request, Family.HUB_PACKAGE)
    if isinstance(grant, str):
        return await _refuse(request, grant)
    single = request[BODY].get("booking") != "subscription"
    booking = Booking.SINGLE if single else Booking.SUBSCRIPTION
    stored = await request.app[ENTITLEMENTS].book_package(
        account_id=grant.account.id,
        paid_at=request.app[CLOCK].now(),
        days=grant.days,
        booking=booking,
        product=grant.code,
        source=grant.source,
        idempotency_key=grant.key,
    )
    plan = f"{grant.code} {grant.plan.code} {grant.days} d"
    raise await _granted(request, grant, "package", f"window {stored.window.id}: {plan} {booking}")


async def grant_licence(request: web.Request) -> web.StreamResponse:
    """A plant licence for one of the account's plants, as if bought now."""
    grant = await _grant_form(request, Family.PLANT_LICENCE)
    if isinstance(grant, str):
        return await _refuse(request, grant)
    body = request[BODY]
    plants = await request.app[STORE].repo(PlantRepository).list_for_account(grant.account.id)
    plant = next((p for p in plants if str(p.id) == body.get("plant")), None)
    power = str(body.get("power_w", "")).strip()
    if plant is None or not power.isdigit() or int(power) <= 0:
        return await _refuse(request, "console.ent.unknown")
    stored = await request.app[ENTITLEMENTS].buy_licence(
        plant_id=plant.id,
        account_id=grant.account.id,
        paid_at=request.app[CLOCK].now(),
        days=grant.days,
        licensed_power_w=int(power),
        source=grant.source,
        idempotency_key=grant.key,
    )
    plan = f"{grant.code} {grant.plan.code} {grant.days} d"
    detail = f"window {stored.window.id}: {plan} plant {plant.id} {power} W"
    raise await _granted(request, grant, "licence", detail)


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
