"""Suite test 6, tenant isolation: every route the gateway serves (HTML and ``/api/v1``),
generated from the application's route table, against one object of each type that one
customer owns, as owner, other customer, installer without and with a delegation of the
owner's plant, operator, accountant and nobody.

Each route has a rule in :data:`RULES` (object type, action, the roles allowed), or is a
console route declared with its roles through ``add_console_routes`` (their matrix is
``tests/cloud_gateway/operator/test_role_matrix.py``); a route without a rule fails the test.
Every role outside a rule is refused (401, 403, 404, or the way to the login): reads and
writes (with a valid CSRF token) alike. The allowed roles read successfully; the owner's
reads run last, so they also prove that no refused write changed the owner's objects.
Allowed writes are not replayed here (each area's tests drive them). The caller's own
pages and lists need a login and never show the owner's plant to another tenant."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiohttp
from aiohttp import web

from cloud_gateway.accounts.model import Role
from cloud_gateway.accounts.repository_customers import CustomerRepository
from cloud_gateway.devices.model import DeviceKind
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.entitlements.windows import Subject
from cloud_gateway.http.keys import ENTITLEMENTS, LICENCES
from cloud_gateway.i18n import Language
from cloud_gateway.licences.quote import LicenceTerm
from cloud_gateway.operator.console import CONSOLE_ROUTES
from cloud_gateway.plants.model import PlantFields
from cloud_gateway.plants.repository import PlantRepository
from cloud_gateway.plants.repository_inverters import InverterRepository
from cloud_gateway.remote.repository_lan import LanTargetRepository
from tests.cloud_gateway.accounts.test_access_matrix import _portal_objects
from tests.reliability.report import record
from tests.support.console import staff_login
from tests.support.gateway import GatewayHarness, gateway_harness
from tunnel.clock import ManualClock

ANON, OWNER, OTHER, INSTALLER, DELEGATED, OPERATOR, ACCOUNTANT = (
    "anonymous", "owner", "other", "installer", "delegated", "operator", "accountant"
)  # fmt: skip
ROLES = (ANON, OTHER, INSTALLER, DELEGATED, ACCOUNTANT, OPERATOR, OWNER)
"""In the order they run: the owner last (see the module's docstring)."""
ANYONE = frozenset(ROLES)
LOGGED_IN = ANYONE - {ANON}
STAFF = frozenset({OPERATOR, ACCOUNTANT})
OWNER_ONLY = frozenset({OWNER})
OWNER_OP = frozenset({OWNER, OPERATOR})
PLANT_READERS = frozenset({OWNER, DELEGATED, OPERATOR})
NOBODY: frozenset[str] = frozenset()
"""Machine routes (webhooks, the tunnel, enrolment): no browser session opens them."""


@dataclass(frozen=True, slots=True)
class Rule:
    """Who may use one route: the object type it acts on, the action, the roles allowed."""

    kind: str
    action: str
    allowed: frozenset[str]


def _rules(kind: str, allowed: frozenset[str], *routes: str) -> dict[tuple[str, str], Rule]:
    table = {}
    for spec in routes:
        method, path = spec.split(" ", 1)
        action = {"GET": "read", "POST": "create", "PUT": "update", "PATCH": "update"}.get(
            method, "delete"
        )
        table[(method, path)] = Rule(kind, action, allowed)
    return table


RULES: dict[tuple[str, str], Rule] = {
    # pages and documents for everybody, no tenant object behind them
    **_rules("public", ANYONE,
        "GET /", "GET /healthz", "GET /static", "GET /api/v1/openapi.json",
        "GET /register", "POST /register", "GET /register/confirm", "POST /register/confirm",
        "GET /password/forgot", "POST /password/forgot", "GET /password/reset",
        "POST /password/reset", "GET /login", "POST /login", "GET /public/plants",
        "GET /public/map", "GET /legal/{document}", "GET /shop", "GET /shop/products",
        "GET /shop/products/{code}", "GET /shop/hub",
        "GET /demo/mailbox", "GET /demo/mailbox/{key}",
        "GET /demo/mailbox/{key}/attachments/{index}", "POST /logout",
        "GET /api/v1/billing/contracts/preview", "GET /portal/contracts/preview"),
    # the caller's own account and lists: whatever they show is the caller's
    **_rules("own", LOGGED_IN,
        "GET /api/v1/me", "GET /password/change", "POST /password/change",
        "GET /terms", "POST /terms", "GET /api/v1/delegations", "GET /portal",
        "GET /portal/customer", "POST /portal/customer", "GET /portal/account",
        "GET /portal/account/bank", "POST /portal/account/bank", "GET /portal/account/delete",
        "POST /portal/account/delete", "GET /portal/devices", "GET /portal/devices/audit",
        "GET /portal/devices/pair", "POST /portal/devices/pair", "GET /portal/sharing",
        "POST /portal/sharing", "GET /portal/tickets", "POST /portal/tickets",
        "GET /portal/repairs", "POST /portal/repairs", "GET /portal/products",
        "GET /portal/invoices", "GET /plants", "GET /plants/new", "POST /plants/new",
        "GET /plants/inverter-template.{ext}", "GET /api/v1/plants", "POST /api/v1/plants",
        "POST /api/v1/delegations", "GET /shop/cart", "POST /shop/cart/add",
        "POST /shop/cart/update", "POST /shop/cart/voucher", "GET /shop/checkout",
        "POST /shop/checkout", "GET /shop/orders", "POST /shop/hub/confirm",
        "POST /shop/hub/switch", "GET /api/v1/billing/orders", "GET /api/v1/billing/documents",
        "GET /api/v1/billing/account", "GET /api/v1/billing/contracts",
        "POST /api/v1/billing/contracts", "GET /licences/buy", "POST /licences/order",
        "GET /payments/paypal/return", "GET /payments/psp/return"),
    # authenticated by a signature, a certificate or a one-time code, never by a session
    **_rules("machine", NOBODY,
        "GET /tunnel/v1", "POST /api/v1/payments/paypal/webhook",
        "POST /api/v1/payments/psp/notify",
        "POST /api/v1/enrol", "GET /api/v1/enrol/{token}"),
    **_rules("staff", STAFF, "GET /metrics", "GET /console/2fa", "POST /console/2fa"),
    **_rules("account", OWNER_OP,
        "GET /api/v1/accounts/{account_id}", "GET /api/v1/accounts/{account_id}/customer-data",
        "PUT /api/v1/accounts/{account_id}/customer-data"),
    **_rules("device", OWNER_OP,  # the hub is in no plant: the plant delegation misses it
        "GET /api/v1/devices/{slug}",
        "GET /portal/devices/{slug}/lan", "POST /portal/devices/{slug}/lan",
        "GET /portal/devices/{slug}/lan/{target_id}/delete",
        "POST /portal/devices/{slug}/lan/{target_id}/delete"),
    **_rules("remote_session", OWNER_ONLY,
        "GET /remote/{slug}/open", "POST /remote/{slug}/open", "POST /remote/{slug}/support",
        "POST /remote/{slug}/support/revoke"),
    **_rules("window", OWNER_OP,
        "GET /api/v1/devices/{slug}/windows", "GET /api/v1/windows/{window_id}"),
    **_rules("window", frozenset({OPERATOR}),
        "POST /api/v1/windows", "POST /api/v1/windows/{window_id}/end"),
    **_rules("delegation", OWNER_OP,
        "DELETE /api/v1/delegations/{delegation_id}", "GET /portal/sharing/{grant_id}/revoke",
        "POST /portal/sharing/{grant_id}/revoke"),
    **_rules("plant", PLANT_READERS,
        "GET /api/v1/plants/{plant_id}", "GET /plants/{plant_id}",
        "GET /api/v1/plants/{plant_id}/inverters", "GET /api/v1/plants/{plant_id}/live",
        "GET /plants/{plant_id}/forecast.json", "GET /plants/{plant_id}/alerts.json",
        "GET /api/v1/plants/{plant_id}/licence", "GET /api/v1/plants/{plant_id}/licence/preview"),
    **_rules("plant", OWNER_OP,
        "PUT /api/v1/plants/{plant_id}", "DELETE /api/v1/plants/{plant_id}",
        "POST /api/v1/plants/{plant_id}/inverters"),
    # the owner's management pages stay the owner's (operators use the console and the API)
    **_rules("plant", OWNER_ONLY,
        "GET /plants/{plant_id}/licence", "GET /plants/{plant_id}/licence/preview",
        "GET /plants/{plant_id}/edit",
        "POST /plants/{plant_id}/edit", "POST /plants/{plant_id}/delete",
        "POST /plants/{plant_id}/inverters", "GET /plants/{plant_id}/inverters/upload",
        "POST /plants/{plant_id}/inverters/upload", "POST /plants/{plant_id}/licence/resend"),
    **_rules("plant", OWNER_OP, "GET /plants/{plant_id}/alerts", "POST /plants/{plant_id}/alerts"),
    **_rules("inverter", PLANT_READERS,
        "GET /api/v1/inverters/{inverter_id}",
        "GET /plants/{plant_id}/inverters/{inverter_id}/live.json"),
    **_rules("inverter", OWNER_OP,
        "PATCH /api/v1/inverters/{inverter_id}", "DELETE /api/v1/inverters/{inverter_id}",
        "POST /api/v1/inverters/{inverter_id}/swap"),
    **_rules("inverter", OWNER_ONLY, "GET /plants/{plant_id}/inverters/{inverter_id}",
        "POST /plants/{plant_id}/inverters/{inverter_id}/edit",
        "POST /plants/{plant_id}/inverters/{inverter_id}/swap",
        "POST /plants/{plant_id}/inverters/{inverter_id}/delete"),
    **_rules("reading", PLANT_READERS,
        "GET /api/v1/plants/{plant_id}/readings", "GET /api/v1/inverters/{inverter_id}/readings"),
    **_rules("order", OWNER_ONLY,
        "GET /shop/orders/{order_id}", "GET /api/v1/billing/orders/{order_id}",
        ),
    **_rules("licence_order", OWNER_ONLY,
        "GET /licences/orders/{order_id}/pay", "POST /licences/orders/{order_id}/pay"),
    **_rules("document", OWNER_ONLY,
        "GET /api/v1/billing/documents/{document_id}",
        "GET /api/v1/billing/documents/{document_id}/pdf"),
    **_rules("contract", OWNER_ONLY,
        "GET /api/v1/billing/contracts/{contract_id}", "GET /portal/contracts/{contract_id}",
        "POST /portal/products/{contract_id}/cancel",
        "GET /portal/products/{contract_id}/papers/{n}"),
    **_rules("ticket", OWNER_ONLY,
        "GET /portal/tickets/{ticket_id}", "POST /portal/tickets/{ticket_id}/reply",
        "POST /portal/tickets/{ticket_id}/close", "GET /portal/attachments/{attachment_id}"),
    **_rules("repair_order", OWNER_ONLY,
        "GET /portal/repairs/{repair_id}", "GET /portal/repairs/{repair_id}/quote.pdf",
        "POST /portal/repairs/{repair_id}/accept"),
}  # fmt: skip
"""The declared table: (method, route) → rule. A new route needs a line here."""

_PARAM = re.compile(r"\{(\w+)(?::[^}]+)?\}")
_CONSOLE = ("/console", "/api/v1/operator")
_REFUSED = {401, 403, 404}
_WRITES = {"POST", "PUT", "PATCH", "DELETE"}
MARKER = "Anlage-Q7X"
"""The owner's plant name: no list of another tenant shows it."""
_NOTHING_TO_SHOW = {("GET", "/portal/products/{contract_id}/papers/{n}")}
"""Routes whose object the fixture lacks (a hub package mails no contract papers): the
refusals are checked, the allowed roles' 404 is expected."""


def _canonical(path: str) -> str:
    return _PARAM.sub(lambda m: "{" + m.group(1) + "}", path)


def served_routes(app: web.Application) -> set[tuple[str, str]]:
    """(method, canonical path) of every route the application serves, HEAD aside."""
    return {
        (route.method, _canonical(route.resource.canonical))
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }


def unruled(app: web.Application) -> list[tuple[str, str]]:
    """Served routes with neither a rule here nor a console declaration."""
    declared = {(r.method, _canonical(r.path)) for r in app[CONSOLE_ROUTES]}
    return sorted(served_routes(app) - set(RULES) - declared)


def _url(path: str, params: dict[str, str], *, licence: bool = False) -> str:
    """``path`` with the owner's objects in place of its parameters."""
    values = params | ({"order_id": params["licence_order_id"]} if licence else {})
    return _PARAM.sub(lambda m: values[m.group(1)], path)


@dataclass
class Visitor:
    role: str
    http: aiohttp.ClientSession
    csrf: str = ""


async def _objects(gw: GatewayHarness, clock: ManualClock) -> tuple[dict[str, str], int]:
    """One object of each type, all the owner's; returns the path parameters and the
    number of object types made."""
    anna = await gw.create_account("anna")
    ina = await gw.create_account("ina", role=Role.INSTALLER)
    operator = await gw.create_account("olga", role=Role.OPERATOR)
    store, now = gw.gateway.store, clock.now()
    device = await store.repo(DeviceRepository).create(
        slug="ccu-anna", kind=DeviceKind.CCU, created_at=now, account_id=anna.id
    )
    plant = await store.repo(PlantRepository).create(anna.id, PlantFields(name=MARKER), now)
    inverter = await store.repo(InverterRepository).add(
        plant_id=plant.id, account_id=anna.id, serial="SN-ANNA-1", name="WR Süd", now=now
    )
    window = await gw.gateway.runner.app[ENTITLEMENTS].grant(
        actor_account_id=operator.id,
        subject=Subject.HUB,
        subject_id=device.id,
        start=now,
        end=now + timedelta(days=90),
        note="matrix",
    )
    grant = await store.repo(CustomerRepository).delegate(anna.id, ina.id, plant.id, now)
    target = await store.repo(LanTargetRepository).add(
        device.id, name="Wechselrichter", host="192.168.1.20", port=80, now=now
    )
    portal = await _portal_objects(gw, anna.id)  # order, documents, contract, ticket, repair
    licence = await gw.gateway.runner.app[LICENCES].order(
        account_id=anna.id,
        plant_ids=[plant.id],
        term=LicenceTerm.DAYS_365,
        language=Language.DE,
        key="matrix-licence",
    )
    params = {
        "slug": device.slug,
        "plant_id": str(plant.id),
        "inverter_id": str(inverter.id),
        "window_id": str(window.id),
        "account_id": str(anna.id),
        "delegation_id": str(grant.id),
        "grant_id": str(grant.id),
        "target_id": str(target.id),
        "order_id": str(portal["order"]),
        "document_id": str(portal["proforma"]),
        "contract_id": str(portal["contract"]),
        "ticket_id": str(portal["ticket"]),
        "attachment_id": str(portal["attachment"]),
        "repair_id": str(portal["repair"]),
        "licence_order_id": str(licence.order_id),
        "n": "0",
        "action": "disconnect",
        "transaction_id": "1",
        "code": "hub-comfort",
        "ext": "csv",
        "document": "impressum",
        "key": "none",
        "index": "0",
        "token": "none",
    }
    return params, 13


async def _visitors(gw: GatewayHarness, clock: ManualClock) -> list[Visitor]:
    await gw.create_account("bert")
    await gw.create_account("ivo", role=Role.INSTALLER)
    await gw.create_account("alma", role=Role.ACCOUNTANT)
    logins = {OWNER: "anna", OTHER: "bert", INSTALLER: "ivo", DELEGATED: "ina",
              OPERATOR: "olga", ACCOUNTANT: "alma"}  # fmt: skip
    visitors = []
    for role in ROLES:
        http = gw.client()
        visitor = Visitor(role, http)
        if role in STAFF:
            visitor.csrf = await staff_login(gw, http, logins[role], clock)
        elif role != ANON:
            assert (await gw.login(http, logins[role])).status == 200
            visitor.csrf = await gw.form_token(http, "/portal")
        else:
            visitor.csrf = await gw.form_token(http, "/login")
        visitors.append(visitor)
    return visitors


async def _call(visitor: Visitor, method: str, path: str, url: str) -> int:
    """The answer's status; a redirect to the login or the second factor counts as 401."""
    headers = {"X-CSRF-Token": visitor.csrf}
    json_body: dict[str, object] | None = None
    form: dict[str, str] | None = None
    if method in _WRITES and path.startswith("/api/"):
        json_body = {"name": "übernommen", "note": "x", "reason": "x"}
    elif method in _WRITES:
        form = {"csrf_token": visitor.csrf, "name": "übernommen", "body": "übernommen"}
    async with visitor.http.request(
        method, url, headers=headers, json=json_body, data=form, allow_redirects=False
    ) as resp:
        await resp.read()
        location = resp.headers.get("Location", "")
        if resp.status in {302, 303} and location.startswith(("/login", "/console/2fa")):
            return 401
        return resp.status


async def test_every_route_has_a_rule_and_only_the_allowed_succeed(
    tmp_path: Path, clock: ManualClock, db_url: str
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        app = gw.gateway.runner.app
        missing = unruled(app)
        assert missing == [], f"routes without a rule in RULES: {missing}"
        params, kinds = await _objects(gw, clock)
        visitors = await _visitors(gw, clock)
        wrong: list[tuple[str, str, str, int]] = []
        calls = 0
        try:
            for visitor in visitors:
                for (method, path), rule in sorted(RULES.items()):
                    if rule.kind == "public":
                        continue  # no tenant object
                    allowed = visitor.role in rule.allowed
                    if allowed and method in _WRITES:
                        continue  # allowed writes: the areas' own tests
                    if rule.kind == "own" and allowed:  # the caller's lists: nobody else's
                        if visitor.role in {OTHER, INSTALLER, ACCOUNTANT}:
                            url = _url(path, params)
                            async with visitor.http.get(url, allow_redirects=False) as resp:
                                if MARKER in await resp.text():
                                    wrong.append((visitor.role, method, path, resp.status))
                            calls += 1
                        continue
                    url = _url(path, params, licence=rule.kind == "licence_order")
                    status = await _call(visitor, method, path, url)
                    calls += 1
                    if allowed:
                        ok = status < 400 or (status == 404 and (method, path) in _NOTHING_TO_SHOW)
                    else:
                        ok = status in _REFUSED or status == 400
                    if not ok:
                        wrong.append((visitor.role, method, path, status))
        finally:
            for visitor in visitors:
                await visitor.http.close()
    routes = len(served_routes(app))
    figure = (
        f"{routes} routes all with a rule, {kinds} object types x {len(ROLES)} roles, "
        f"{calls} calls, {len(wrong)} wrong"
    )
    record("tenant-isolation", figure, passed=not wrong)
    assert wrong == [], "\n".join(map(str, wrong))


def test_a_route_without_a_rule_is_reported() -> None:
    app = web.Application()
    app[CONSOLE_ROUTES] = []

    async def handler(_request: web.Request) -> web.Response:
        return web.Response()

    app.router.add_get("/api/v1/plants/{plant_id}", handler)
    app.router.add_get("/api/v1/secrets/{secret_id:\\d+}", handler)
    assert unruled(app) == [("GET", "/api/v1/secrets/{secret_id}")]
