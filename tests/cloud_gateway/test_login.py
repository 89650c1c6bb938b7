"""Login, session cookie, CSRF and logout against the real gateway over TLS."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from cloud_gateway.accounts.passwords import PasswordHasher
from cloud_gateway.accounts.repository_sessions import SessionRepository
from cloud_gateway.accounts.routes import safe_next
from tests.support.gateway import gateway_harness
from tunnel.clock import ManualClock


async def test_login_by_name_or_email_rotates_session_and_logout_ends_it(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        await gw.create_account("anna")
        async with gw.client() as http:
            async with http.get("/portal", allow_redirects=False) as resp:
                assert resp.status == 303
                assert resp.headers["Location"].startswith("/login?next=/portal")
            resp = await gw.login(http, "anna")
            assert resp.status == 200
            assert str(resp.url).endswith("/portal")
            cookie = resp.history[0].cookies["__Host-session"]
            assert cookie["secure"]
            assert cookie["httponly"]
            assert cookie["samesite"] == "Lax"
            assert cookie["path"] == "/"
            first = cookie.value
            async with http.get("/portal") as page:
                assert "anna" in await page.text()
            resp = await gw.login(http, "anna@example.org")
            second = resp.history[0].cookies["__Host-session"].value
            assert second != first
            assert await gw.gateway.store.repo(SessionRepository).find(first) is None
            token = await gw.form_token(http, "/portal")
            async with http.post("/logout", data={"csrf_token": token}) as out:
                assert out.status == 200
            assert await gw.gateway.store.repo(SessionRepository).find(second) is None
            async with http.get("/portal", allow_redirects=False) as resp:
                assert resp.status == 303


async def test_wrong_password_and_unknown_user_look_the_same(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        await gw.create_account("anna")
        async with gw.client() as http:
            wrong = await gw.login(http, "anna", "falsch")
            unknown = await gw.login(http, "nobody", "falsch")
            assert wrong.status == unknown.status == 401


async def test_forms_without_valid_csrf_token_are_refused(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        await gw.create_account("anna")
        async with gw.client() as http:
            async with http.post("/login", data={"login": "anna", "password": "x"}) as resp:
                assert resp.status == 403
            await gw.form_token(http, "/login")
            async with http.post(
                "/login", data={"csrf_token": "forged", "login": "anna", "password": "x"}
            ) as resp:
                assert resp.status == 403
            await gw.login(http, "anna")
            async with http.post("/logout", data={"csrf_token": "forged"}) as resp:
                assert resp.status == 403


async def test_idle_sessions_expire(tmp_path: Path, db_url: str, clock: ManualClock) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        await gw.create_account("anna")
        async with gw.client() as http:
            await gw.login(http, "anna")
            clock.advance(timedelta(hours=11))
            async with http.get("/portal", allow_redirects=False) as resp:
                assert resp.status == 200
            clock.advance(timedelta(hours=12, minutes=1))
            async with http.get("/portal", allow_redirects=False) as resp:
                assert resp.status == 303


def test_after_login_only_same_site_paths_are_followed() -> None:
    assert safe_next("/portal/devices") == "/portal/devices"
    assert safe_next("//evil.example/x") == "/portal"
    assert safe_next("https://evil.example/") == "/portal"
    assert safe_next("/\\evil.example") == "/portal"
    assert safe_next("/shop/cart?item=1#top") == "/shop/cart?item=1#top"
    assert safe_next("/portal/plants/%C3%BC") == "/portal/plants/%C3%BC"


@pytest.mark.parametrize(
    "target",
    [
        "/\t/evil.example",
        "/\r\n/evil.example",
        "/%09/evil.example",
        "/%0d%0a/evil.example",
        "/%2F/evil.example",
        "/%2f%2fevil.example",
        "/%5Cevil.example",
        " //evil.example",
        "\x00//evil.example",
        "/ /evil.example",
        "/\x7f/evil.example",
        "javascript:alert(1)",
        "/%00",
        "%2F%2Fevil.example",
        "http:/evil.example",
    ],
)
def test_next_with_controls_or_encodings_never_leaves_the_site(target: str) -> None:
    """Regression (issue #20, fix 2): TAB/CR/LF were dropped after the check, so
    ``/login?next=/%09/evil.example`` ended at ``//evil.example``."""
    assert safe_next(target) == "/portal"


def test_argon2id_hashes_verify_and_refuse() -> None:
    hasher = PasswordHasher()
    stored = hasher.hash("Sonnig!2026")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert hasher.verify(stored, "Sonnig!2026")
    assert not hasher.verify(stored, "sonnig!2026")
    assert not hasher.verify("not-a-hash", "x")
