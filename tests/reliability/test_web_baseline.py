"""Suite test 10, the web security baseline (OWASP ASVS L2) over the real gateway: argon2id
hashes from the gateway's own registration, the session rotated at login and dead after
logout (replayed by a second browser), ``__Host-`` cookies, CSRF on every state-changing
route (walked from the route table), stored-XSS probes in every free-text field a page
shows, request-size and upload limits, and the login, pairing and activation-code rate limits
measured.

The security headers on every response kind are ``test_security_headers.py``'s; login
rotation and the password lockout's rules are ``tests/cloud_gateway/test_login.py``'s and
``accounts/test_password_policy.py``'s (here: the figures)."""

from __future__ import annotations

import io
import re
from http.cookies import SimpleCookie
from pathlib import Path

import aiohttp
from yarl import URL

from cloud_gateway.accounts.model import Role
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.devices.model import DeviceKind
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.http.keys import SUPPORT
from cloud_gateway.operator.console import CONSOLE_ROUTES
from cloud_gateway.plants.model import PlantFields
from cloud_gateway.plants.repository import PlantRepository
from cloud_gateway.plants.repository_inverters import InverterRepository
from cloud_gateway.remote.repository_lan import LanTargetRepository
from cloud_gateway.support.attachments import MAX_BYTES
from cloud_gateway.support.service import RepairForm
from cloud_gateway.tunnels.pairing import CODE_ALPHABET
from tests.cloud_gateway.accounts.support import register
from tests.cloud_gateway.shop.shopping import give_customer_data
from tests.reliability.report import record
from tests.reliability.test_security_headers import missing
from tests.reliability.test_tenant_isolation import RULES, Visitor, _objects, _url, _visitors
from tests.support.console import staff_login
from tests.support.gateway import GatewayHarness, gateway_harness
from tunnel.clock import ManualClock

PROBE = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>"
"""What a stored-XSS attacker types into a free-text field."""
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
_WRITES = {"POST", "PUT", "PATCH", "DELETE"}
_NO_SESSION_FORMS = {"/tunnel/v1"}
_CONSOLE = ("/console", "/api/v1/operator")


async def test_registration_hashes_with_argon2id_and_sessions_die_at_login_and_logout(
    tmp_path: Path, clock: ManualClock, db_url: str
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        async with gw.client() as http:
            assert (await register(gw, http, "rita")).status == 200
        account = await gw.gateway.store.repo(AccountRepository).find_by_login("rita")
        assert account is not None
        assert account.password_hash.startswith("$argon2id$v=19$")
        await gw.create_account("anna")
        async with gw.client() as http:
            async with http.get("/login") as resp:  # the anonymous double-submit cookie
                anonymous = resp.cookies["__Host-csrf"]
            first = (await gw.login(http, "anna")).history[0].cookies["__Host-session"]
            second = (await gw.login(http, "anna")).history[0].cookies["__Host-session"]
            token = await gw.form_token(http, "/portal")
            async with http.post("/logout", data={"csrf_token": token}) as resp:
                assert resp.status == 200
        cookies = [anonymous, first, second]
        for cookie in cookies:  # __Host-: Secure, Path=/, no Domain (host-only)
            assert cookie.key.startswith("__Host-")
            assert cookie["secure"]
            assert cookie["path"] == "/"
            assert cookie["domain"] == ""
            assert cookie["samesite"] in {"Lax", "Strict"}
        assert first["httponly"]
        assert first.value != second.value  # rotated at the second login
        for old in (first, second):  # replayed from another browser: nobody
            async with gw.client() as thief:
                thief.cookie_jar.update_cookies(SimpleCookie({old.key: old.value}), URL(gw.url))
                async with thief.get("/api/v1/me") as resp:
                    assert resp.status == 401


async def test_every_state_change_needs_the_csrf_token(
    tmp_path: Path, clock: ManualClock, db_url: str
) -> None:
    """Every POST/PUT/PATCH/DELETE of the route table, with a live session but without a
    token, answers 403: the owner's session for the owner's routes, the operator's for the
    console's, nobody's for the anonymous forms. Machine routes (webhooks, enrolment, the
    tunnel) carry no session and are authenticated otherwise (signature, code, certificate)."""
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        app = gw.gateway.runner.app
        params, _kinds = await _objects(gw, clock)
        visitors = {v.role: v for v in await _visitors(gw, clock)}
        console = {(r.method, r.path) for r in app[CONSOLE_ROUTES]}
        walked, wrong = 0, []
        try:
            for route in app.router.routes():
                method = route.method
                path = route.resource.canonical if route.resource is not None else ""
                if method not in _WRITES:
                    continue
                rule = RULES.get((method, re.sub(r"\{(\w+):[^}]+\}", r"{\1}", path)))
                if rule is not None and rule.kind == "machine":
                    continue
                if (method, path) in console or path.startswith(_CONSOLE):
                    visitor = visitors["operator"]
                elif rule is not None and rule.kind == "public":
                    visitor = visitors["anonymous"]
                else:
                    visitor = visitors["owner"]
                url = _url(path, params, licence=rule is not None and rule.kind == "licence_order")
                status = await _without_token(visitor, method, url)
                walked += 1
                if status != 403:
                    wrong.append((method, path, visitor.role, status))
        finally:
            for visitor in visitors.values():
                await visitor.http.close()
    record(
        "csrf-every-state-change",
        f"{walked} state-changing routes without token, {len(wrong)} not refused",
        passed=not wrong,
    )
    assert wrong == [], "\n".join(map(str, wrong))


async def _without_token(visitor: Visitor, method: str, url: str) -> int:
    api = url.startswith("/api/")
    async with visitor.http.request(
        method,
        url,
        allow_redirects=False,
        json={"name": "x", "reason": "x"} if api else None,
        data=None if api else {"x": "1"},
    ) as resp:
        await resp.read()
        return resp.status


async def test_stored_script_in_every_free_text_field_is_rendered_escaped(
    tmp_path: Path, clock: ManualClock, db_url: str
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        store, now, app = gw.gateway.store, clock.now(), gw.gateway.runner.app
        anna = await gw.create_account("anna")
        await give_customer_data(gw, anna.id, PROBE)
        device = await store.repo(DeviceRepository).create(
            slug="ccu-anna", kind=DeviceKind.CCU, created_at=now, account_id=anna.id
        )
        plant = await store.repo(PlantRepository).create(anna.id, PlantFields(name=PROBE), now)
        inverter = await store.repo(InverterRepository).add(
            plant_id=plant.id, account_id=anna.id, serial="SN-XSS-1", name=PROBE, now=now
        )
        await store.repo(LanTargetRepository).add(
            device.id, name=PROBE, host="192.168.1.20", port=80, now=now
        )
        support = app[SUPPORT]
        ticket = await support.open_ticket(anna.id, PROBE, PROBE)
        form = {"contact_name": PROBE, "contact_email": "anna@example.org", "category": "ae_new",
                "device_serial": "SN-XSS-1", "fault": PROBE}  # fmt: skip
        repair = await support.file_repair(anna.id, RepairForm.parse(form))
        fields = ["customer name", "plant name", "inverter name", "LAN target name",
                  "ticket subject", "ticket text", "repair contact", "repair fault"]  # fmt: skip
        await gw.create_account("olga", role=Role.OPERATOR)
        pages = {
            "owner": [
                "/portal", "/portal/customer", "/plants", f"/plants/{plant.id}",
                f"/plants/{plant.id}/edit", f"/plants/{plant.id}/inverters/{inverter.id}",
                f"/portal/devices/{device.slug}/lan", "/portal/tickets",
                f"/portal/tickets/{ticket}", "/portal/repairs", f"/portal/repairs/{repair}",
            ],
            "operator": [
                "/console/tickets", f"/console/tickets/{ticket}", "/console/repairs",
            ],
        }  # fmt: skip
        unescaped, shown, silent = [], 0, []
        for role, paths in pages.items():
            async with gw.client() as http:
                if role == "owner":
                    await gw.login(http, "anna")
                else:
                    await staff_login(gw, http, "olga", clock)
                for path in paths:
                    async with http.get(path) as resp:
                        assert resp.status == 200, (role, path, resp.status)
                        html = await resp.text()
                        assert missing(resp.headers) == [], path
                    if "<script>alert" in html or "<img src=x" in html:
                        unescaped.append(path)
                    shown += ESCAPED in html
                    if ESCAPED not in html:
                        silent.append(path)
    record(
        "stored-xss",
        f"{len(fields)} free-text fields, {sum(map(len, pages.values()))} pages, "
        f"{shown} showing a probe escaped, {len(unescaped)} unescaped",
        passed=not unescaped and shown > 0,
    )
    assert unescaped == []
    assert silent == []


async def test_request_size_and_upload_limits(
    tmp_path: Path, clock: ManualClock, db_url: str
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        await gw.create_account("anna")
        async with gw.client() as http:
            await gw.login(http, "anna")
            token = await gw.form_token(http, "/portal/tickets")
            big = io.BytesIO(b"x" * (8 * 1024 * 1024 + 1))  # over the app's client_max_size
            async with http.post(
                "/api/v1/plants", data=big, headers={"X-CSRF-Token": token}
            ) as resp:
                too_big = resp.status
                assert missing(resp.headers) == []
            form = aiohttp.FormData()
            form.add_field("csrf_token", token)
            form.add_field("subject", "Anhang")
            form.add_field("body", "zu groß")
            form.add_field(
                "files", io.BytesIO(b"%PDF-1.4\n" + b"0" * MAX_BYTES), filename="a.pdf",
                content_type="application/pdf",
            )  # fmt: skip
            async with http.post("/portal/tickets", data=form, allow_redirects=False) as resp:
                upload = resp.status
            async with http.get("/portal/tickets") as resp:
                listed = await resp.text()
    record(
        "request-limits",
        f"body over 8 MiB -> {too_big}, "
        f"attachment over {MAX_BYTES // 1024 // 1024} MiB -> {upload}",
        passed=too_big == 413 and upload in {400, 413, 422},
    )
    assert too_big == 413
    assert upload in {400, 413, 422}
    assert "zu groß" not in listed  # nothing stored from the refused form


async def _wrong_activation_codes(gw: GatewayHarness, login: str, tries: int) -> int:
    """Wrong activation codes ``login`` gets evaluated (422) before a 429, at most ``tries``."""
    async with gw.client() as http:
        await gw.login(http, login)
        headers = {"X-CSRF-Token": await gw.form_token(http, "/plants/new")}
        async with http.post("/api/v1/plants", json={"name": "P"}, headers=headers) as resp:
            assert resp.status == 201, resp.status
            path = f"/api/v1/plants/{(await resp.json())['id']}/inverters"
        wrong = {"serial": "SN-1", "activation_code": "AAAAA-AAAAA"}
        for n in range(tries):
            async with http.post(path, json=wrong, headers=headers) as resp:
                if resp.status != 422:
                    assert resp.status == 429, resp.status
                    return n
    return tries


async def test_login_pairing_and_activation_tries_per_minute_are_measured(
    tmp_path: Path, clock: ManualClock, db_url: str
) -> None:
    """Wrong passwords for one account, wrong pairing codes and wrong activation codes, as
    fast as a script sends them within one minute of the injected clock: how many the gateway
    still evaluates. Activation codes also per source address, from several accounts at once
    (every client here comes from the loopback address)."""
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        await gw.create_account("anna")
        await gw.create_account("bert")
        async with gw.client() as http:
            login_tries = 0
            for _ in range(60):
                status = (await gw.login(http, "anna", "Falsch!2026x")).status
                if status != 401:
                    assert status in {403, 429}, status
                    break
                login_tries += 1
        async with gw.client() as http:
            await gw.login(http, "bert")
            token = await gw.form_token(http, "/portal/devices/pair")
            pair_tries = 0
            for n in range(60):
                code = "".join(CODE_ALPHABET[(n * 7 + i) % len(CODE_ALPHABET)] for i in range(8))
                form = {"csrf_token": token, "code": code}  # well-formed, never issued
                async with http.post("/portal/devices/pair", data=form) as resp:
                    if resp.status != 400:
                        assert resp.status == 429, resp.status
                        break
                pair_tries += 1
        per_account = []  # wrong activation codes of each account, all from one address
        for n in range(8):
            await gw.create_account(f"owner{n}")
            per_account.append(await _wrong_activation_codes(gw, f"owner{n}", 60))
    per_source = sum(per_account)
    passed = (
        0 < login_tries <= 10
        and 0 < pair_tries <= 10
        and 0 < per_account[0] <= 10
        and max(per_account) == per_account[0]
        and per_account[-1] == 0
        and 0 < per_source <= 30
    )
    record(
        "rate-limits",
        f"login {login_tries} wrong passwords per minute per account, "
        f"pairing {pair_tries} wrong codes per minute per account, "
        f"activation {per_account[0]} wrong codes per minute per account and {per_source} per "
        f"source address (by {len(per_account)} accounts: {per_account})",
        passed=passed,
    )
    assert 0 < login_tries <= 10
    assert 0 < pair_tries <= 10
    assert 0 < per_account[0] <= 10
    assert 0 < per_source <= 30  # not per_account[0] times the accounts one address opens
    assert per_account[-1] == 0  # the address is refused even for a fresh account
