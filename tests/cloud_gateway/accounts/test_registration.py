"""Registration → validation mail → login, and the reset flow, over TLS with real SMTP."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import aiohttp

from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.accounts.repository_security import AccountSecurityRepository
from cloud_gateway.entitlements.repository import EntitlementRepository
from cloud_gateway.entitlements.windows import Subject, WindowKind
from cloud_gateway.notify.mail import MailKind
from cloud_gateway.notify.repository import OutboxRepository
from cloud_gateway.store import Store
from tests.cloud_gateway.accounts.support import PASSWORD, link_path, mailing_gateway, register
from tests.support.gateway import GatewayHarness, gateway_harness
from tests.support.smtp import RecordingSmtp
from tunnel.clock import ManualClock


async def test_register_validate_then_login(
    tmp_path: Path, db_url: str, clock: ManualClock, smtp_server: RecordingSmtp
) -> None:
    async with mailing_gateway(tmp_path, db_url, clock, smtp_server) as gw:
        async with gw.client() as http:
            refused = await register(gw, http, "anna", accept=False)
            assert refused.status == 400
            weak = await register(gw, http, "anna", password="sonnig2026")
            assert weak.status == 400
            resp = await register(gw, http, "anna")
            assert resp.status == 200
            (mail,) = await smtp_server.wait_for(1)
            assert mail["To"] == "anna@example.org"
            assert mail["Subject"] == "Bitte bestätigen Sie Ihre E-Mail-Adresse"
            assert "anna" in mail.get_content()
            # no login before validation
            before = await gw.login(http, "anna")
            assert before.status == 403
            path = link_path(mail)
            assert path.startswith("/register/confirm?token=")
            token = await gw.form_token(http, path)
            async with http.post(
                "/register/confirm",
                data={"csrf_token": token, "token": path.split("token=")[1]},
            ) as page:
                assert page.status == 200
                assert str(page.url).endswith("/portal")
                assert "anna" in await page.text()
        async with gw.client() as http:
            assert (await gw.login(http, "anna@example.org")).status == 200
            # the link is single-use
            token = await gw.form_token(http, path)
            async with http.post(
                "/register/confirm", data={"csrf_token": token, "token": path.split("token=")[1]}
            ) as again:
                assert again.status == 400
        store = gw.gateway.store
        account = await store.repo(AccountRepository).find_by_login("anna")
        assert account is not None
        assert await store.repo(AccountSecurityRepository).missing_acceptances(account) == {}
        windows = await store.repo(EntitlementRepository).for_subjects(
            (Subject.ACCOUNT, account.id)
        )
        assert [w.window.kind for w in windows] == [WindowKind.TRIAL]
        assert windows[0].window.start == account.created_at


async def test_taken_user_name_and_known_address(
    tmp_path: Path, db_url: str, clock: ManualClock, smtp_server: RecordingSmtp
) -> None:
    async with mailing_gateway(tmp_path, db_url, clock, smtp_server) as gw:
        await gw.create_account("anna")
        async with gw.client() as http:
            assert (await register(gw, http, "ANNA", email="other@example.org")).status == 400
            # an address already registered gets the same answer plus a hint mail
            assert (await register(gw, http, "berta", email="anna@example.org")).status == 200
            (mail,) = await smtp_server.wait_for(1)
            assert mail["X-Outbox-Template"] == "already_registered"
            assert await gw.gateway.store.repo(AccountRepository).find_by_login("berta") is None


async def test_forgotten_password_single_use_expiring_link(
    tmp_path: Path, db_url: str, clock: ManualClock, smtp_server: RecordingSmtp
) -> None:
    async with mailing_gateway(tmp_path, db_url, clock, smtp_server) as gw:
        await gw.create_account("anna")
        async with gw.client() as old_browser:
            assert (await gw.login(old_browser, "anna")).status == 200
            async with gw.client() as http:
                for login in ("nobody", "anna"):
                    token = await gw.form_token(http, "/password/forgot")
                    async with http.post(
                        "/password/forgot", data={"csrf_token": token, "login": login}
                    ) as resp:
                        assert resp.status == 200
                        assert 'id="message"' in await resp.text()
                (mail,) = await smtp_server.wait_for(1)
                assert mail["To"] == "anna@example.org"
                path = link_path(mail)
                new = "Regen#2027"
                token = await gw.form_token(http, path)
                data = {
                    "csrf_token": token,
                    "token": path.split("token=")[1],
                    "password": new,
                    "password2": new,
                }
                async with http.post("/password/reset", data=data) as resp:
                    assert resp.status == 200
                async with http.get(path) as resp:
                    assert resp.status == 400  # spent
                assert (await gw.login(http, "anna", PASSWORD)).status == 401
                assert (await gw.login(http, "anna", new)).status == 200
            # the reset ended the other browser's session
            async with old_browser.get("/portal", allow_redirects=False) as resp:
                assert resp.status == 303
            assert (await smtp_server.wait_for(2))[1]["X-Outbox-Template"] == "password_changed"
        # a link expires after 60 minutes
        async with gw.client() as http:
            await _forgot(gw, http, "anna")
            mail = (await smtp_server.wait_for(3))[2]
            clock.advance(timedelta(minutes=60))
            async with http.get(link_path(mail)) as resp:
                assert resp.status == 400


async def test_a_reset_requested_just_before_shutdown_is_finished(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    """The reset runs in a task of its own after the answer; the gateway waits for it when it
    stops. Left pending, it held a pooled connection past the store's close (collected later,
    unclosed: aiosqlite's "deleted before being closed") and its mail was lost."""
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        await gw.create_account("anna")
        async with gw.client() as http:
            await _forgot(gw, http, "anna")
    # nothing of the request still running once the gateway stopped
    assert [t for t in asyncio.all_tasks() if _coroutine_name(t) == "AccountService._reset"] == []
    store = await Store.open(db_url, run_migrations=False)
    try:
        mails = await store.repo(OutboxRepository).list_recent()
    finally:
        await store.close()
    assert [m.template for m in mails] == [MailKind.PASSWORD_RESET.value]


async def _forgot(gw: GatewayHarness, http: aiohttp.ClientSession, login: str) -> None:
    """Ask for a reset link for ``login`` ("Passwort vergessen")."""
    token = await gw.form_token(http, "/password/forgot")
    async with http.post("/password/forgot", data={"csrf_token": token, "login": login}) as resp:
        assert resp.status == 200


def _coroutine_name(task: asyncio.Task[object]) -> str:
    return getattr(task.get_coro(), "__qualname__", "")
