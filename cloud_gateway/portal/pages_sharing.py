"""Sharing (R-MON-20): an owner lets an installer monitor a plant, lists and revokes grants.

Grants are the accounts area's delegations; every change is checked with the one access rule
(``can``): only the owner (or an operator) revokes a grant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from cloud_gateway.accounts.access import Action, ObjectKind, Resource, actor_for, can
from cloud_gateway.accounts.model import Role
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.accounts.repository_customers import CustomerRepository, StoredDelegation
from cloud_gateway.errors import NotFoundError
from cloud_gateway.http.auth import csrf_token, require_identity, verify_csrf
from cloud_gateway.http.keys import CLOCK, STORE
from cloud_gateway.http.pages import render
from cloud_gateway.i18n import request_language, translate
from cloud_gateway.plants.repository import PlantRepository

__all__ = ["setup"]


@dataclass(frozen=True, slots=True)
class _Grant:
    id: int
    installer: str
    owner: str
    target: str
    since: datetime


async def _describe(request: web.Request, grants: list[StoredDelegation]) -> list[_Grant]:
    store = request.app[STORE]
    lang = request_language(request)
    accounts = store.repo(AccountRepository)
    plants = store.repo(PlantRepository)
    described: list[_Grant] = []
    for g in grants:
        if g.device_id is not None:
            target = translate(lang, "sharing.device")
        elif g.plant_id is None:
            target = translate(lang, "sharing.all_plants")
        else:
            try:
                target = (await plants.get(g.plant_id, g.owner_account_id)).fields.name
            except NotFoundError:
                continue  # the plant is gone; its grant means nothing any more
        installer = (await accounts.get(g.installer_account_id)).username
        owner = (await accounts.get(g.owner_account_id)).username
        described.append(_Grant(g.id, installer, owner, target, g.created_at))
    return described


async def _page(
    request: web.Request,
    *,
    notice: str | None = None,
    error: str | None = None,
    installer: str = "",
    status: int = 200,
) -> web.Response:
    identity = await require_identity(request)
    store = request.app[STORE]
    customers = store.repo(CustomerRepository)
    account_id = identity.account.id
    context = {
        "csrf_token": await csrf_token(request),
        "plants": await store.repo(PlantRepository).list_for_account(account_id),
        "given": await _describe(request, await customers.delegations(owner_account_id=account_id)),
        "held": await _describe(
            request, await customers.delegations(installer_account_id=account_id)
        ),
        "notice": notice,
        "error": error,
        "installer": installer,
    }
    return render(request, "portal_sharing.html", context, status=status)


_NOTICES = {"granted": "sharing.granted", "revoked": "sharing.revoked"}


async def sharing_page(request: web.Request) -> web.Response:
    """Grants given and held, and the form to give one."""
    return await _page(request, notice=_NOTICES.get(request.query.get("done", "")))


async def sharing_grant(request: web.Request) -> web.Response:
    """Let an installer monitor one of the owner's plants (or all of them)."""
    identity = await require_identity(request)
    form = await request.post()
    await verify_csrf(request, form)
    store = request.app[STORE]
    login = str(form.get("installer", "")).strip()[:254]
    installer = await store.repo(AccountRepository).find_by_login(login) if login else None
    if installer is None or installer.role is not Role.INSTALLER:
        return await _page(request, error="sharing.err.no_installer", installer=login, status=422)
    raw = str(form.get("plant_id", ""))
    plant_id: int | None = None
    if raw != "all":
        try:
            plant_id = (await store.repo(PlantRepository).get(int(raw), identity.account.id)).id
        except (ValueError, NotFoundError):
            return await _page(request, error="sharing.err.plant", installer=login, status=422)
    await store.repo(CustomerRepository).delegate(
        identity.account.id, installer.id, plant_id, request.app[CLOCK].now()
    )
    raise web.HTTPSeeOther("/portal/sharing?done=granted")


async def _owned_grant(request: web.Request) -> StoredDelegation:
    identity = await require_identity(request)
    store = request.app[STORE]
    try:
        grant = await store.repo(CustomerRepository).delegation(int(request.match_info["grant_id"]))
    except (ValueError, NotFoundError):
        raise web.HTTPNotFound from None
    resource = Resource(
        kind=ObjectKind.DELEGATION, owner_account_id=grant.owner_account_id, plant_id=grant.plant_id
    )
    if grant.revoked_at is not None or not can(
        await actor_for(store, identity.account), Action.DELETE, resource
    ):
        raise web.HTTPNotFound
    return grant


async def revoke_form(request: web.Request) -> web.Response:
    """Ask before ending a grant."""
    grant = await _owned_grant(request)
    lang = request_language(request)
    context = {
        "csrf_token": await csrf_token(request),
        "question": translate(lang, "sharing.revoke_question"),
        "action": f"/portal/sharing/{grant.id}/revoke",
        "cancel": "/portal/sharing",
        "yes": "ask.revoke",
    }
    return render(request, "confirm.html", context)


async def revoke_submit(request: web.Request) -> web.Response:
    """End the grant: the installer no longer sees the plant."""
    grant = await _owned_grant(request)
    form = await request.post()
    await verify_csrf(request, form)
    await request.app[STORE].repo(CustomerRepository).revoke(grant.id, request.app[CLOCK].now())
    raise web.HTTPSeeOther("/portal/sharing?done=revoked")


def setup(app: web.Application) -> None:
    """Register the pages."""
    r = app.router
    r.add_get("/portal/sharing", sharing_page, name="portal_sharing")
    r.add_post("/portal/sharing", sharing_grant)
    r.add_get("/portal/sharing/{grant_id:\\d+}/revoke", revoke_form)
    r.add_post("/portal/sharing/{grant_id:\\d+}/revoke", revoke_submit)
