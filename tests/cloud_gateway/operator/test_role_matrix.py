"""Role matrix of the console, generated from the application's route table: customer,
installer, operator, accountant (and nobody) against every console page and operator API
route of every area (declared with ``add_console_routes``); only the roles a route declares
succeed. Every POST is refused without CSRF."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web

from cloud_gateway.accounts.model import Role
from cloud_gateway.devices.model import DeviceKind
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.operator.console import CONSOLE_ROUTES, ConsoleRoute
from tests.support.console import staff_login
from tests.support.gateway import GatewayHarness, gateway_harness
from tunnel.clock import ManualClock

_PARAM = re.compile(r"\{(\w+)(?::[^}]+)?\}")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_CONSOLE = ("/console", "/api/v1/operator")
_SECOND_FACTOR_STEP = {"/console/2fa"}


@dataclass
class Visitor:
    """A browser of one role (``None``: nobody logged in) with its session's CSRF token."""

    role: Role | None
    http: aiohttp.ClientSession
    csrf: str = ""


def _canonical(path: str) -> str:
    return _PARAM.sub(lambda m: "{" + m.group(1) + "}", path)


def _console_routes(app: web.Application) -> set[tuple[str, str]]:
    found = set()
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if route.method != "HEAD" and path.startswith(_CONSOLE) and path not in _SECOND_FACTOR_STEP:
            found.add((route.method, path))
    return found


async def _visitors(gw: GatewayHarness, clock: ManualClock) -> list[Visitor]:
    visitors = [Visitor(None, gw.client())]
    for name, role in [
        ("cathy", Role.CUSTOMER),
        ("ivo", Role.INSTALLER),
        ("olga", Role.OPERATOR),
        ("alma", Role.ACCOUNTANT),
    ]:
        await gw.create_account(name, role=role)
        http = gw.client()
        if role in {Role.OPERATOR, Role.ACCOUNTANT}:
            token = await staff_login(gw, http, name, clock)
        else:
            await gw.login(http, name)
            async with http.get("/portal/devices/pair") as resp:
                found = _CSRF.search(await resp.text())
            assert found
            token = found.group(1)
        visitors.append(Visitor(role, http, token))
    return visitors


async def _call(visitor: Visitor, route: ConsoleRoute, url: str, *, csrf: bool) -> int:
    headers: dict[str, str] = {}
    json_body: dict[str, object] | None = None
    form: dict[str, str] | None = None
    if route.method == "POST":
        if route.path.startswith("/api/"):
            json_body = {"reason": "role matrix", "disabled": True}
            if csrf:
                headers["X-CSRF-Token"] = visitor.csrf
        else:
            form = {"reason": "role matrix"} | ({"csrf_token": visitor.csrf} if csrf else {})
    async with visitor.http.request(
        route.method, url, headers=headers, allow_redirects=False, json=json_body, data=form
    ) as resp:
        await resp.read()
        location = resp.headers.get("Location", "")
        if resp.status == 303 and location.startswith(("/login", "/console/2fa")):
            return 401
        return resp.status


async def test_only_the_declared_roles_reach_each_console_route(
    tmp_path: Path, clock: ManualClock, db_url: str
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        app = gw.gateway.runner.app
        declared = {(r.method, _canonical(r.path)): r for r in app[CONSOLE_ROUTES]}
        # every console route the application serves is declared with its roles
        assert _console_routes(app) == set(declared)
        owner = await gw.create_account("anna")
        device = await gw.gateway.store.repo(DeviceRepository).create(
            slug="anna-ccu", kind=DeviceKind.CCU, created_at=clock.now(), account_id=owner.id
        )
        visitors = await _visitors(gw, clock)
        try:
            outcomes: dict[tuple[str, str, str], int] = {}
            for (method, path), route in sorted(declared.items()):
                url = _PARAM.sub(
                    "999",
                    path.replace("{slug}", device.slug).replace("{action}", "disconnect"),
                )
                for visitor in visitors:
                    status = await _call(visitor, route, url, csrf=True)
                    who = visitor.role.value if visitor.role else "nobody"
                    outcomes[(method, path, who)] = status
                    allowed = visitor.role in route.roles
                    if allowed:  # reached the handler (which may find the body wanting or
                        # refuse the unknown object's state: 400, 404, 409, 422)
                        assert status in {200, 303, 400, 404, 409, 422}, (method, path, who, status)
                    else:
                        assert status in {401, 403}, (method, path, who, status)
                    if method == "POST" and allowed:
                        refused = await _call(visitor, route, url, csrf=False)
                        assert refused == 403, (method, path, who, "without CSRF")
        finally:
            for visitor in visitors:
                await visitor.http.close()
    # a few cells spelled out, so that the declared table itself is checked too
    assert outcomes[("GET", "/console", "accountant")] == 200
    assert outcomes[("GET", "/console/tunnels", "accountant")] == 403
    assert outcomes[("GET", "/api/v1/operator/tunnels", "operator")] == 200
    assert outcomes[("GET", "/api/v1/operator/tunnels", "customer")] == 403
    assert outcomes[("POST", "/api/v1/operator/devices/{slug}/disconnect", "installer")] == 403
    assert outcomes[("GET", "/console/audit", "nobody")] == 401
    # the other areas' routes: money for operators and accountants, support for operators
    assert outcomes[("GET", "/api/v1/operator/bank/queue", "accountant")] == 200
    assert outcomes[("GET", "/api/v1/operator/bank/queue", "installer")] == 403
    assert outcomes[("GET", "/api/v1/operator/tickets", "operator")] == 200
    assert outcomes[("GET", "/api/v1/operator/tickets", "accountant")] == 403
    terminate = "/api/v1/operator/contracts/{contract_id}/terminate"
    assert outcomes[("POST", terminate, "accountant")] == 403
    # credit notes and refunds are the accountant's, ticket assignment the operator's
    assert outcomes[("GET", "/console/credit", "accountant")] == 200
    assert outcomes[("GET", "/console/credit", "operator")] == 403
    refund = "/console/credit/refunds/{account_id}"
    assert outcomes[("POST", refund, "operator")] == 403
    assign = "/console/tickets/{ticket_id}/assign"
    assert outcomes[("POST", assign, "accountant")] == 403
    assert outcomes[("POST", assign, "operator")] == 404  # no such ticket


async def test_metrics_answer_staff_and_the_scraper_only(
    tmp_path: Path, clock: ManualClock
) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        visitors = await _visitors(gw, clock)
        try:
            for visitor in visitors:
                async with visitor.http.get("/metrics") as resp:
                    staff = visitor.role in {Role.OPERATOR, Role.ACCOUNTANT}
                    assert resp.status == (200 if staff else 401 if visitor.role is None else 403)
        finally:
            for visitor in visitors:
                await visitor.http.close()
