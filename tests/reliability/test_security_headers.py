"""Security review items 7 and 10: the security headers on every response (raised
``HTTPException``s and proxied device responses included), a device's cookies kept to its
own host, the client's ``X-Forwarded-For`` not passed on, and no version disclosed."""

from __future__ import annotations

from pathlib import Path

from multidict import CIMultiDictProxy
from yarl import URL

from tests.e2e.test_tunnel_remote import remote_env
from tests.support.gateway import gateway_harness
from tunnel.clock import ManualClock

GATEWAY_HEADERS = {
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "SAMEORIGIN",
}


def missing(headers: CIMultiDictProxy[str]) -> list[str]:
    """Security headers absent from (or weaker in) ``headers``."""
    gaps = [name for name, value in GATEWAY_HEADERS.items() if headers.get(name) != value]
    policies = headers.getall("Content-Security-Policy", [])
    if not any("frame-ancestors 'self'" in policy for policy in policies):
        gaps.append("Content-Security-Policy")
    return gaps


async def test_raised_errors_and_redirects_carry_the_security_headers(
    tmp_path: Path, clock: ManualClock
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db, clock) as gw:
        await gw.create_account("anna")
        async with gw.client() as http:
            answers = []
            for method, path in [
                ("GET", "/"),
                ("GET", "/api/v1/me"),  # 401 JSON
                ("GET", "/no/such/page"),  # 404
                ("DELETE", "/healthz"),  # 405
                ("GET", "/tunnel/v1"),  # the tunnel's 400 (no upgrade)
                ("POST", "/login"),  # CSRF 403
            ]:
                async with http.request(method, path, allow_redirects=False) as resp:
                    answers.append((method, path, resp.status, missing(resp.headers)))
            await gw.login(http, "anna")  # 303 after login, then the session's pages
            async with http.post("/api/v1/plants", json={}) as resp:  # CSRF 403 JSON
                answers.append(("POST", "/api/v1/plants", resp.status, missing(resp.headers)))
        statuses = [status for *_, status, _gaps in answers]
        assert {401, 403, 404, 405} <= set(statuses)
        assert [a for a in answers if a[3]] == []


async def test_login_redirect_carries_the_security_headers(
    tmp_path: Path, clock: ManualClock
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db, clock) as gw:
        await gw.create_account("anna")
        async with gw.client() as http:
            token = await gw.form_token(http, "/login")
            form = {"login": "anna", "password": "Sonnig!2026", "csrf_token": token}
            async with http.post("/login", data=form, allow_redirects=False) as resp:
                assert resp.status == 303
                assert missing(resp.headers) == []


async def test_device_responses_get_the_headers_and_keep_cookies_to_their_host(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with remote_env(tmp_path, clock) as env, env.browser() as http:
        landed = await env.open(http)
        assert landed.status == 200
        assert missing(landed.headers) == []
        spoofed = {
            "X-Forwarded-For": "203.0.113.66",
            "Forwarded": "for=203.0.113.66",
            "X-Real-IP": "203.0.113.66",
        }
        async with http.get(f"{env.device_url}/headers", headers=spoofed) as resp:
            assert missing(resp.headers) == []
            seen = (await resp.json())["headers"]
        assert seen["X-Forwarded-For"] == "127.0.0.1"
        assert "203.0.113.66" not in str(seen)
        async with http.get(f"{env.device_url}/cookies") as resp:
            set_cookies = resp.headers.getall("Set-Cookie")
            assert missing(resp.headers) == []
        wide = [c for c in set_cookies if c.startswith("wide=")]
        assert len(wide) == 1
        assert "domain" not in wide[0].lower()  # host-only: never the portal or other devices
        # the browser keeps it for this device host only
        on_portal = http.cookie_jar.filter_cookies(URL(env.gw.url))
        assert "wide" not in on_portal


async def test_no_version_in_the_server_header_or_the_anonymous_healthz(
    tmp_path: Path, clock: ManualClock
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db, clock) as gw, gw.client() as http:
        for path in ("/healthz", "/", "/no/such/page"):
            async with http.get(path) as resp:
                server = resp.headers.get("Server", "")
                assert not any(ch.isdigit() for ch in server), server
                if path == "/healthz":
                    body = await resp.json()
                    assert body["status"] == "ok"
                    assert "version" not in body
