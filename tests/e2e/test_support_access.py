"""Operators open a customer's hub only under the owner's support grant (R-OPS-4, ADR 0021).

Browser ──TLS──► gateway (device host) ──tunnel stream──► test device ──TCP──► web UI.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import aiohttp

from cloud_gateway.accounts.model import Role
from cloud_gateway.operator.repository import ConsoleAuditRepository
from cloud_gateway.remote.repository import RemoteAccessRepository
from cloud_gateway.remote.repository_support import SupportGrantRepository
from tests.e2e.test_tunnel_remote import Remote, remote_env
from tests.support.console import staff_login
from tunnel.clock import ManualClock

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def _open_as(env: Remote, http: aiohttp.ClientSession) -> aiohttp.ClientResponse:
    """Press "Fernzugriff öffnen" in an already logged-in browser."""
    token = await env.gw.form_token(http, f"/remote/{env.slug}/open")
    async with http.post(f"/remote/{env.slug}/open", data={"csrf_token": token}) as resp:
        await resp.read()
        return resp


async def _post(
    http: aiohttp.ClientSession, path: str, token: str, **fields: str
) -> tuple[int, str]:
    async with http.post(path, data={"csrf_token": token, **fields}) as resp:
        return resp.status, await resp.text()


async def test_operator_needs_the_owners_grant_and_is_in_the_owners_audit(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with remote_env(tmp_path, clock) as env:
        await env.gw.create_account("olga", role=Role.OPERATOR)
        device = await env.device()
        async with env.browser() as olga, env.browser() as anna:
            await env.gw.login(olga, "olga")
            async with olga.get(f"/remote/{env.slug}/open", allow_redirects=False) as r:
                assert r.status == 303  # an operator passes the second factor first
                assert r.headers["Location"].startswith("/console/2fa")
            portal_token = await staff_login(env.gw, olga, "olga", clock)
            async with olga.get(f"/remote/{env.slug}/open") as r:
                assert r.status == 404  # without the owner's grant the hub looks like none
            status, _ = await _post(olga, f"/remote/{env.slug}/open", portal_token)
            assert status == 404

            # the owner grants support access on the device page (default 24 h)
            await env.gw.login(anna, "anna")
            page = f"/remote/{env.slug}/open"
            anna_token = await env.gw.form_token(anna, page)
            status, _ = await _post(olga, f"/remote/{env.slug}/support", portal_token)
            assert status == 404  # only the owner grants
            status, text = await _post(anna, f"/remote/{env.slug}/support", anna_token, hours="x")
            assert status == 422
            assert "ganze Zahl von 1 bis 168" in text
            assert 'value="x"' in text  # the input is kept
            status, text = await _post(anna, f"/remote/{env.slug}/support", anna_token)
            assert status == 200
            assert 'id="support-state" class="notice"' in text
            grant = await env.gw.gateway.store.repo(SupportGrantRepository).live(
                device.id, clock.now()
            )
            assert grant is not None
            assert grant.expires_at - grant.granted_at == timedelta(hours=24)

            landed = await _open_as(env, olga)
            assert landed.status == 200
            assert "CCU WebUI" in await landed.text()

            # the owner sees the operator's session in the device's audit
            async with anna.get(page) as r:
                audit = await r.text()
            assert re.search(r"<td>olga <span class=\"muted\">\(Support\)</span></td>", audit)

            # revoked: refused at the operator's next request
            status, _ = await _post(anna, f"/remote/{env.slug}/support/revoke", anna_token)
            assert status == 200
            async with olga.get(f"{env.device_url}/") as r:
                assert r.status == 403
                assert 'data-reason="not_yours"' in await r.text()
            async with olga.get(page) as r:
                assert r.status == 404
    records = await env.gw.gateway.store.repo(RemoteAccessRepository).list_sessions(
        device_id=device.id
    )
    assert [r.username for r in records] == ["olga"]
    assert records[0].ended_at is not None
    [opened] = await env.gw.gateway.store.repo(ConsoleAuditRepository).recent(target=env.slug)
    assert (opened.operator, opened.action) == ("olga", "remote.open")
    assert opened.detail.startswith("grant until ")


async def test_support_access_ends_when_the_grant_runs_out(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with remote_env(tmp_path, clock) as env:
        await env.gw.create_account("olga", role=Role.OPERATOR)
        async with env.browser() as olga, env.browser() as anna:
            await env.gw.login(anna, "anna")
            anna_token = await env.gw.form_token(anna, f"/remote/{env.slug}/open")
            status, _ = await _post(anna, f"/remote/{env.slug}/support", anna_token, hours="1")
            assert status == 200
            await staff_login(env.gw, olga, "olga", clock)  # the clock moves 30 s
            landed = await _open_as(env, olga)
            assert landed.status == 200
            clock.advance(timedelta(minutes=29))
            async with olga.get(f"{env.device_url}/") as r:
                assert r.status == 200
            clock.advance(timedelta(minutes=30, seconds=31))  # 1 h and 1 s after the grant
            async with olga.get(f"{env.device_url}/") as r:
                assert r.status == 403
                assert 'data-reason="not_yours"' in await r.text()
