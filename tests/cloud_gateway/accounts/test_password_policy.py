"""Every rule of R-MON-2 against the real gateway with the test clock."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import aiohttp

from tests.cloud_gateway.accounts.support import PASSWORD
from tests.support.gateway import GatewayHarness, gateway_harness
from tunnel.clock import ManualClock


async def _change(
    gw: GatewayHarness, http: aiohttp.ClientSession, current: str, new: str
) -> tuple[int, str]:
    token = await gw.form_token(http, "/password/change")
    data = {"csrf_token": token, "current": current, "password": new, "password2": new}
    async with http.post("/password/change", data=data) as resp:
        return resp.status, await resp.text()


async def test_expiry_after_365_days_forces_a_change_at_next_login(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        await gw.create_account("anna")
        async with gw.client() as http:
            clock.advance(timedelta(days=365) - timedelta(minutes=1))
            assert str((await gw.login(http, "anna")).url).endswith("/portal")
            clock.advance(timedelta(minutes=1))
            resp = await gw.login(http, "anna")
            assert str(resp.url).endswith("/password/change")
            assert 'id="expired"' in await resp.text()
            async with http.get("/portal", allow_redirects=False) as page:
                assert page.status == 303
                assert page.headers["Location"] == "/password/change"
            async with http.get("/api/v1/me") as api:
                assert api.status == 403
                assert (await api.json())["error"] == "password_expired"
            status, _ = await _change(gw, http, PASSWORD, "Neues!2027")
            assert status == 200
            async with http.get("/portal", allow_redirects=False) as page:
                assert page.status == 200


async def test_minimum_age_history_and_other_sessions_end(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        await gw.create_account("anna")
        async with gw.client() as http, gw.client() as other:
            clock.advance(timedelta(days=2))
            await gw.login(http, "anna")
            await gw.login(other, "anna")
            status, _ = await _change(gw, http, PASSWORD, "Wechsel!0x")
            assert status == 200
            # the other browser's session ended at the change, this one lives on
            async with other.get("/portal", allow_redirects=False) as page:
                assert page.status == 303
            async with http.get("/portal", allow_redirects=False) as page:
                assert page.status == 200
            passwords = [PASSWORD, "Wechsel!0x"]
            for n in range(1, 8):
                clock.advance(timedelta(days=2))
                assert (await gw.login(http, "anna", passwords[-1])).status == 200
                new = f"Wechsel!{n}x"
                status, _ = await _change(gw, http, passwords[-1], new)
                assert status == 200, n
                passwords.append(new)
            # minimum age: 2 days (the session is renewed by logging in again)
            clock.advance(timedelta(days=2) - timedelta(seconds=1))
            assert (await gw.login(http, "anna", passwords[-1])).status == 200
            status, text = await _change(gw, http, passwords[-1], "Frisch!999")
            assert status == 400
            assert "vor weniger als 2 Tagen" in text
            clock.advance(timedelta(seconds=1))
            # history of 8: the last 8 are refused, the 9th-newest is allowed again
            for old in passwords[1:]:
                status, text = await _change(gw, http, passwords[-1], old)
                assert status == 400, old
                assert "kürzlich" in text
            status, _ = await _change(gw, http, passwords[-1], PASSWORD)
            assert status == 200
            status, text = await _change(gw, http, "falsch", "Frisch!999")
            assert "aktuelle Passwort ist falsch" in text


async def test_lockout_after_five_failures_in_five_minutes_and_release_after_fifteen(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        await gw.create_account("anna")
        await gw.create_account("bert")
        async with gw.client() as http:
            for _ in range(5):
                assert (await gw.login(http, "anna", "falsch")).status == 401
                assert (await gw.login(http, "ghost", "falsch")).status == 401
                clock.advance(timedelta(seconds=50))
            # locked, even with the right password; an unknown name looks exactly the same
            locked = await gw.login(http, "anna@example.org")
            ghost = await gw.login(http, "ghost", "falsch")
            assert locked.status == ghost.status == 429
            assert "15 Minuten" in await locked.text()
            # another account from the same address is not locked by anna's failures
            assert (await gw.login(http, "bert")).status == 200
            clock.advance(timedelta(minutes=15) - timedelta(seconds=51))
            assert (await gw.login(http, "anna")).status == 429
            clock.advance(timedelta(seconds=1))
            assert (await gw.login(http, "anna")).status == 200


async def test_failures_spread_over_more_than_five_minutes_do_not_lock(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        await gw.create_account("anna")
        async with gw.client() as http:
            for _ in range(6):
                assert (await gw.login(http, "anna", "falsch")).status == 401
                clock.advance(timedelta(seconds=76))
            assert (await gw.login(http, "anna")).status == 200


async def test_many_failures_from_one_address_lock_the_address(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        await gw.create_account("anna")
        async with gw.client() as http:
            for n in range(20):
                assert (await gw.login(http, f"user{n}", "falsch")).status == 401
            assert (await gw.login(http, "anna")).status == 429
            clock.advance(timedelta(minutes=15))
            assert (await gw.login(http, "anna")).status == 200
