"""The dashboard in the simulated CCU's WebUI: session check, packages, actions."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from ccu_addon.ccu import CcuJsonRpc
from ccu_addon.dashboard import MAX_FORM_BODY, Dashboard, dashboard_routes
from ccu_addon.httpserver import HttpServer
from ccu_addon.identity import HubIdentity
from ccu_addon.packages import PackageCache
from ccu_addon.selftest import Check, CheckResult
from ccu_addon.status import AddonState, Refusal, TunnelState, TunnelStatus
from simulator.ccu.server import SimulatedCcu
from tests.ccu_addon.support import FakeTunnel, enrolled_identity
from tunnel.clock import ManualClock

ADDON = "/addons/cloudconnector/"
BERLIN = ZoneInfo("Europe/Berlin")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def packages_message(clock: ManualClock, *states: str) -> dict[str, Any]:
    now = clock.now()
    return {
        "type": "packages",
        "account": {"id": 42, "username": "anna"},
        "device": "ccu-ferienhaus",
        "packages": [
            {
                "code": f"pkg-{state}",
                "name": f"Fernzugriff {state}",
                "state": state,
                "starts_at": (now - timedelta(days=20)).isoformat(),
                "ends_at": (now + timedelta(days=10, hours=1)).isoformat(),
                "runtime_days": 30,
            }
            for state in states
        ],
    }


@dataclass
class Rig:
    ccu: SimulatedCcu
    http: aiohttp.ClientSession
    state: AddonState
    tunnel: FakeTunnel
    clock: ManualClock
    identity: HubIdentity

    async def login(self) -> str:
        async with self.http.post(
            f"{self.ccu.webui_url}/api/homematic.cgi",
            json={"method": "Session.login", "params": {"username": "Admin", "password": "admin"}},
        ) as resp:
            return f"@{(await resp.json())['result']}@"

    def url(self, path: str = "") -> str:
        return f"{self.ccu.webui_url}{ADDON}{path}"

    async def page(self, sid: str | None, **query: str) -> tuple[int, str]:
        params = {"sid": sid, **query} if sid is not None else query
        async with self.http.get(self.url(), params=params) as resp:
            return resp.status, await resp.text()

    async def post(
        self, action: str, sid: str, *, csrf: str | None = None
    ) -> aiohttp.ClientResponse:
        if csrf is None:
            _, page = await self.page(sid)
            match = _CSRF.search(page)
            assert match
            csrf = match.group(1)
        async with self.http.post(
            self.url(action), params={"sid": sid}, data={"csrf_token": csrf}, allow_redirects=False
        ) as resp:
            await resp.read()
            return resp


@pytest.fixture
async def rig(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Rig]:
    ccu = SimulatedCcu(clock=clock)
    await ccu.start()
    http = aiohttp.ClientSession()
    state = AddonState(PackageCache(tmp_path / "state"))
    tunnel = FakeTunnel()
    state.tunnel = tunnel
    identity = enrolled_identity(tmp_path / "state", "ccu-ferienhaus", clock.now())

    async def selftest() -> list[CheckResult]:
        return [CheckResult(check=Check.DNS, ok=False, de="DNS kaputt", en="DNS broken")]

    deps = Dashboard(
        state=state,
        sessions=CcuJsonRpc(f"{ccu.webui_url}/api/homematic.cgi"),
        clock=clock,
        gateway_url="https://gw.example:8443/",
        identity=lambda: identity,
        selftest=selftest,
        version="0.1.0",
        zone=BERLIN,
    )
    server = HttpServer(dashboard_routes(deps), max_body=MAX_FORM_BODY)
    port = await server.start("127.0.0.1", 0)
    ccu.mount_addon("cloudconnector", f"http://127.0.0.1:{port}/")
    try:
        yield Rig(ccu, http, state, tunnel, clock, identity)
    finally:
        await server.close()
        await http.close()
        await ccu.stop()


@pytest.mark.parametrize("sid", [None, "", "@nonsense@", "@AAAAAAAAAA@", "<script>"])
async def test_dashboard_refuses_without_a_valid_ccu_session(rig: Rig, sid: str | None) -> None:
    status, page = await rig.page(sid)
    assert status == 403
    assert 'data-key="session_required"' in page
    assert "anna" not in page


async def test_dashboard_refuses_after_logout(rig: Rig) -> None:
    sid = await rig.login()
    assert (await rig.page(sid))[0] == 200
    rig.ccu.sessions.logout(sid)
    assert (await rig.page(sid))[0] == 403


async def test_dashboard_shows_package_states_from_gateway_data(rig: Rig) -> None:
    await rig.state.handle_control(
        packages_message(rig.clock, "trial", "active", "grace", "expired")
    )
    status, page = await rig.page(await rig.login())
    assert status == 200
    assert 'id="account-name">anna<' in page
    assert 'id="hub-id">ccu-ferienhaus<' in page
    for state, label in [
        ("trial", "Testzeitraum"),
        ("active", "Aktiv"),
        ("grace", "Kulanzzeit"),
        ("expired", "Abgelaufen"),
    ]:
        row = re.search(rf'<tr data-package="pkg-{state}" data-state="{state}">(.*?)</tr>', page)
        assert row, state
        assert f"<td>{label}</td><td>30 Tage</td>" in row.group(1)
        # ends 10 d 1 h after 15 Jan 09:00 UTC: 10:00 UTC, 11:00 in the hub's time zone
        assert "<td>25.01.2026 11:00 CET</td>" in row.group(1)
        assert row.group(1).endswith("<td>11</td>")
    assert 'id="book"' in page
    assert 'id="reactivate"' not in page  # something usable is left


async def test_expired_hub_offers_the_local_reactivation(rig: Rig) -> None:
    await rig.state.handle_control(packages_message(rig.clock, "expired"))
    rig.tunnel.current = TunnelStatus(
        state=TunnelState.STOPPED_EXPIRED,
        last_refusal=Refusal(reason="expired", detail="", at=rig.clock.now(), retry_after=3600),
    )
    sid = await rig.login()
    status, page = await rig.page(sid)
    assert status == 200
    assert 'data-state="stopped_expired"' in page
    assert 'id="last-refusal" data-reason="expired">Kein aktives Paket' in page
    assert 'id="reactivate"' in page
    assert (await rig.post("reactivate", sid, csrf="forged")).status == 403
    assert rig.tunnel.reenabled == 0
    done = await rig.post("reactivate", sid)
    assert done.status == 303
    assert rig.tunnel.reenabled == 1


async def test_reactivation_needs_a_session(rig: Rig) -> None:
    await rig.state.handle_control(packages_message(rig.clock, "expired"))
    sid = await rig.login()
    _, page = await rig.page(sid)
    csrf = _CSRF.search(page)
    assert csrf
    rig.ccu.sessions.logout(sid)
    assert (await rig.post("reactivate", sid, csrf=csrf.group(1))).status == 403
    assert rig.tunnel.reenabled == 0


async def test_book_sends_a_signed_link_for_the_linked_account(rig: Rig) -> None:
    await rig.state.handle_control(packages_message(rig.clock, "active"))
    resp = await rig.post("book", await rig.login())
    assert resp.status == 303
    location = urlsplit(resp.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == (
        "https",
        "gw.example:8443",
        "/shop/hub",
    )
    query = dict(parse_qsl(location.query))
    assert (query["device"], query["account"], query["package"]) == (
        "ccu-ferienhaus",
        "42",
        "pkg-active",
    )


async def test_english_and_selftest(rig: Rig) -> None:
    await rig.state.handle_control(packages_message(rig.clock, "grace"))
    sid = await rig.login()
    status, page = await rig.page(sid, lang="en")
    assert status == 200
    assert "Grace period" in page
    assert 'id="book">Book access<' in page
    resp = await rig.post("selftest", sid)
    assert resp.status == 200


async def test_selftest_results_explained(rig: Rig) -> None:
    sid = await rig.login()
    _, page = await rig.page(sid)
    csrf = _CSRF.search(page)
    assert csrf
    async with rig.http.post(
        rig.url("selftest"), params={"sid": sid}, data={"csrf_token": csrf.group(1)}
    ) as resp:
        text = await resp.text()
    assert '<li data-check="dns" data-ok="false"><strong>Fehler</strong> DNS kaputt</li>' in text


async def test_ccu_down_is_said_plainly(rig: Rig) -> None:
    sid = await rig.login()
    rig.ccu.webui.api.methods.pop("Session.renew")
    status, page = await rig.page(sid)
    assert status == 503
    assert 'data-key="ccu_down"' in page


async def test_update_check_needs_no_session(rig: Rig) -> None:
    async with rig.http.get(rig.url("update-check")) as resp:
        assert await resp.text() == "0.1.0\n"
