"""Two gateway nodes on one PostgreSQL: directory, take-over, fleet-wide control, leases, drain.

Real gateways (HTTPS, TLS client certificates, the tunnel endpoint) in this process, one
database, real device sessions; the nodes talk only through PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest

from cloud_gateway.accounts.model import Role
from cloud_gateway.config import ClusterConfig, GatewayConfig
from cloud_gateway.devices.model import Device
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.entitlements.api import Decision, OperatorFlagPolicy
from cloud_gateway.fleet.control import ControlKind, ControlMessage
from cloud_gateway.fleet.repository import DirectoryEntry, FleetRepository
from cloud_gateway.http.keys import TUNNELS
from cloud_gateway.operator.repository import ConsoleAuditRepository
from cloud_gateway.plants.model import PlantFields
from cloud_gateway.plants.repository import PlantRepository
from cloud_gateway.plants.repository_inverters import InverterRepository
from tests.cloud_gateway.fleet.support import fleet_of, started_nodes
from tests.support.console import staff_login
from tests.support.databases import fresh_database_url
from tests.support.device_webui import browser
from tests.support.gateway import GatewayHarness, gateway_harness
from tests.support.tunnel_device import TestDevice, TunnelClient, enrol_device, open_tunnel
from tunnel.clock import ManualClock
from tunnel.frames import RefusalReason
from tunnel.session import DisconnectReason

pytestmark = pytest.mark.postgresql


def _config(node_id: str) -> GatewayConfig:
    return replace(
        GatewayConfig(),
        cluster=ClusterConfig(
            enabled=True, node_id=node_id, heartbeat_s=0.5, dead_after_s=300.0,
            loop_grace_s=300.0, lease_poll_s=0.2, drain_grace_s=0.1, drain_spread_s=4.0,
        ),
    )  # fmt: skip
    # dead_after_s: the manual clock jumps 30 s at every staff login (its second factor);
    # the nodes must not take each other for dead on it (reaping by time is for
    # tests/e2e/test_fleet_heartbeat.py, on the system clock)


_fleet = fleet_of


@pytest.fixture
async def nodes(tmp_path: Path, clock: ManualClock) -> AsyncIterator[list[GatewayHarness]]:
    async with started_nodes(tmp_path, clock, [_config("a"), _config("b")]) as started:
        yield started


@asynccontextmanager
async def _operator(
    gw: GatewayHarness, clock: ManualClock
) -> AsyncIterator[tuple[aiohttp.ClientSession, str]]:
    """olga, logged in on ``gw`` with her second factor, and her CSRF token."""
    await gw.create_account("olga", role=Role.OPERATOR)
    async with browser(gw.url, gw.ssl_context) as olga:
        yield olga, await staff_login(gw, olga, "olga", clock)


async def _until(predicate: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> float:
    """Ask ``predicate`` (database rows, other nodes: no event) until true; seconds taken."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    async with asyncio.timeout(timeout):
        while not await predicate():  # noqa: ASYNC110 - rows and other nodes, no event
            await asyncio.sleep(0.02)
    return loop.time() - start


async def _entry(gw: GatewayHarness, slug: str) -> DirectoryEntry | None:
    store = gw.gateway.store
    device = await store.repo(DeviceRepository).get_by_slug(slug)
    return await store.repo(FleetRepository).locate(device.id)


async def _enrolled(gw: GatewayHarness, tmp_path: Path, name: str) -> tuple[TestDevice, str]:
    device = TestDevice(tmp_path / name, gw.gateway.tls.ca_cert or Path())
    return device, await enrol_device(gw, device, "anna")


async def test_directory_follows_a_device_between_nodes(
    nodes: list[GatewayHarness], tmp_path: Path
) -> None:
    a, b = nodes
    await a.create_account("anna")
    device, slug = await _enrolled(a, tmp_path, "hub")
    on_a = await open_tunnel(a.url, device.client_ssl())
    on_b: TunnelClient | None = None
    try:

        async def claimed() -> bool:  # right after WELCOME
            return await _entry(a, slug) is not None

        await _until(claimed)
        entry = await _entry(a, slug)
        assert entry is not None
        assert entry.node_id == "a"
        assert entry.session_id == a.gateway.runner.app[TUNNELS].live()[0].session_id
        # the device turns up on b: a closes the older session, the row says b
        on_b = await open_tunnel(b.url, device.client_ssl())
        assert await on_a.closed() is DisconnectReason.CLEAN
        assert on_b.session.welcome is not None
        assert {"type": "replaced", "session_id": on_b.session.welcome.session_id} in (
            on_a.controls
        )
        entry = await _entry(b, slug)
        assert entry is not None
        assert entry.node_id == "b"

        async def none_on_a() -> bool:
            return a.gateway.runner.app[TUNNELS].live() == []

        await _until(none_on_a)
        # b's session ends: its row goes (a's late release did not take it before)
        await on_b.stop()

        async def gone() -> bool:
            return await _entry(a, slug) is None

        await _until(gone)
    finally:
        await on_a.stop()
        if on_b is not None:
            await on_b.stop()


async def test_revocation_and_disconnect_on_one_node_reach_the_other(
    nodes: list[GatewayHarness], tmp_path: Path, clock: ManualClock
) -> None:
    a, b = nodes
    await a.create_account("anna")
    device, slug = await _enrolled(a, tmp_path, "hub")
    client = await open_tunnel(b.url, device.client_ssl())
    try:
        async with _operator(a, clock) as (olga, token):
            # an operator disconnect on a closes the tunnel held by b
            async with olga.post(
                f"/api/v1/operator/devices/{slug}/disconnect",
                data={"csrf_token": token, "reason": "test"},
            ) as r:
                assert (await r.json()) == {"device": slug, "disconnected": True}
            assert await client.closed() is DisconnectReason.CLEAN
            # the operator's reason reaches the device on the other node
            assert {"type": "disconnect", "by": "operator", "reason": "test"} in client.controls
            await client.stop()
            # a revocation on a refuses the tunnel on b well within 5 s
            client = await open_tunnel(b.url, device.client_ssl())
            loop = asyncio.get_running_loop()
            start = loop.time()
            async with olga.post(
                f"/api/v1/operator/devices/{slug}/revoke",
                data={"csrf_token": token, "reason": "stolen"},
            ) as r:
                assert (await r.json()) == {"device": slug, "revoked": 1}
            assert await client.closed(timeout=5.0) is DisconnectReason.REFUSED
            assert loop.time() - start < 5.0
            assert client.session.refusal is not None
            assert client.session.refusal.reason == RefusalReason.REVOKED
        assert _fleet(b).received >= 2
    finally:
        await client.stop()


async def test_resend_configuration_on_one_node_reaches_the_agent_on_the_other(
    nodes: list[GatewayHarness], tmp_path: Path, clock: ManualClock
) -> None:
    a, b = nodes
    owner = await a.create_account("anna")
    store = a.gateway.store
    plant = await store.repo(PlantRepository).create(
        owner.id, PlantFields(name="Scheune"), clock.now()
    )
    for serial in ("SN-2", "SN-1"):
        await store.repo(InverterRepository).add(
            plant_id=plant.id, account_id=owner.id, serial=serial, name="", now=clock.now()
        )
    agent = TestDevice(tmp_path / "agent", a.gateway.tls.ca_cert or Path(), kind="inverter_agent")
    slug = await enrol_device(a, agent, "anna")
    page = f"/plants/{plant.id}/licence"
    async with browser(a.url, a.ssl_context) as anna:
        await a.login(anna, "anna")

        async def resend() -> tuple[int, str]:
            token = await a.form_token(anna, page)
            async with anna.post(page + "/resend", data={"csrf_token": token}) as r:
                return r.status, await r.text()

        status, text = await resend()  # the agent is not connected anywhere: said so
        assert status == 409
        assert "Ihr Datenlogger ist gerade nicht mit dem Portal verbunden" in text
        client = await open_tunnel(b.url, agent.client_ssl(), kind="inverter_agent")
        try:

            async def on_b() -> bool:
                entry = await _entry(a, slug)
                return entry is not None and entry.node_id == "b"

            await _until(on_b)
            assert a.gateway.runner.app[TUNNELS].live() == []
            wanted: dict[str, object] = {
                "type": "resend_configuration",
                "serials": ["SN-1", "SN-2"],
            }
            # messages for an earlier session, arriving late (as the one sent for the 409
            # above could, had it been sent): neither reaches nor closes the new session
            device = await store.repo(DeviceRepository).get_by_slug(slug)
            holder = b.gateway.runner.app[TUNNELS].get(device.id)
            assert holder is not None
            for late in (ControlKind.CONTROL, ControlKind.DISCONNECT):
                await _fleet(b).act(
                    ControlMessage(late, device.id, "a", "an-earlier-session", control=wanted)
                )
            assert b.gateway.runner.app[TUNNELS].get(device.id) is holder
            status, text = await resend()  # asked on a, the tunnel is on b
            assert status == 200
            assert "Die Anfrage wurde an Ihren Datenlogger gesendet" in text

            async def told() -> bool:
                return wanted in client.controls

            await _until(told)
            # once, by the holder only: not the late ones, not one for the 409 (nothing is
            # sent for a device connected nowhere)
            assert client.controls.count(wanted) == 1
        finally:
            await client.stop()


async def test_disable_on_one_node_refuses_on_the_other(
    nodes: list[GatewayHarness], tmp_path: Path, clock: ManualClock
) -> None:
    a, b = nodes
    await a.create_account("anna")
    device, slug = await _enrolled(a, tmp_path, "hub")
    client = await open_tunnel(b.url, device.client_ssl())
    try:
        async with (
            _operator(a, clock) as (olga, token),
            olga.post(
                f"/api/v1/operator/devices/{slug}/disable",
                data={"csrf_token": token, "reason": "test"},
            ) as r,
        ):
            assert r.status == 200
        assert await client.closed(timeout=5.0) is DisconnectReason.REFUSED
        assert client.session.refusal is not None
        assert client.session.refusal.reason == RefusalReason.FORBIDDEN
    finally:
        await client.stop()


async def test_each_singleton_runs_on_one_node_and_moves_when_it_stops(
    tmp_path: Path, clock: ManualClock
) -> None:
    names = {"entitlement-scheduler", "billing-scheduler", "alert-scheduler"}
    async with (
        fresh_database_url("postgresql", tmp_path) as url,
        gateway_harness(tmp_path, url, clock, _config("b")) as b,
    ):
        a_running = gateway_harness(tmp_path, url, clock, _config("a"))
        a = await a_running.__aenter__()
        try:

            async def all_placed() -> bool:
                return _fleet(a).singletons.held | _fleet(b).singletons.held == names

            await _until(all_placed, 10.0)
            assert not (_fleet(a).singletons.held & _fleet(b).singletons.held)
        finally:
            await a_running.__aexit__(None, None, None)  # its link closes: locks freed

        async def all_on_b() -> bool:
            return _fleet(b).singletons.held == names

        took = await _until(all_on_b, 10.0)
        assert took < 3.0

        async def only_b() -> bool:  # a's row left with it (or was reaped)
            nodes = await b.gateway.store.repo(FleetRepository).nodes()
            return [n.node_id for n in nodes] == ["b"]

        await _until(only_b, 5.0)


async def test_drain_turns_healthz_and_sends_devices_away_spread(
    nodes: list[GatewayHarness], tmp_path: Path
) -> None:
    a, _b = nodes
    await a.create_account("anna")
    clients = []
    try:
        for i in range(3):
            device, _slug = await _enrolled(a, tmp_path, f"hub{i}")
            clients.append(await open_tunnel(a.url, device.client_ssl()))
        async with browser(a.url, a.ssl_context) as http:
            async with http.get("/healthz") as r:
                assert r.status == 200
                assert (await r.json())["node"] == "a"
            drained = asyncio.create_task(a.gateway.drain())
            await asyncio.sleep(0)  # the drain flag is set at once, before the grace time
            async with http.get("/healthz") as r:
                assert r.status == 503
                assert (await r.json())["status"] == "draining"
            assert await drained == 3
        retry = []
        for client in clients:
            assert await client.closed() is DisconnectReason.REFUSED
            refusal = client.session.refusal
            assert refusal is not None
            assert refusal.reason == RefusalReason.OVERLOADED
            assert any(c.get("type") == "reconnect" for c in client.controls)
            retry.append(refusal.retry_after)
        assert sorted(retry) == [1.0, 3.0, 5.0]
        [row] = [n for n in await a.gateway.store.repo(FleetRepository).nodes() if n.node_id == "a"]
        assert row.draining is True
    finally:
        for client in clients:
            await client.stop()


async def test_a_node_taken_for_dead_joins_again_and_claims_its_tunnels(
    nodes: list[GatewayHarness], tmp_path: Path
) -> None:
    a, _b = nodes
    await a.create_account("anna")
    first, first_slug = await _enrolled(a, tmp_path, "hub1")
    second, second_slug = await _enrolled(a, tmp_path, "hub2")
    one = await open_tunnel(a.url, first.client_ssl())
    two = None
    try:
        # a stalled long enough for the others to reap it: its rows are gone; its heartbeat
        # thread finds the row missing (or the next tunnel's claim does, whichever is first):
        # a joins again and claims both
        await a.gateway.store.repo(FleetRepository).leave("a")
        two = await open_tunnel(a.url, second.client_ssl())

        async def both_on_a() -> bool:
            entries = [await _entry(a, s) for s in (first_slug, second_slug)]
            return all(e is not None and e.node_id == "a" for e in entries)

        await _until(both_on_a)
        assert _fleet(a).rejoins >= 1
        assert not one.task.done()
    finally:
        await one.stop()
        if two is not None:
            await two.stop()


class _HeldPolicy:
    """Entitled, but the first decision waits until the test lets it go (a handshake held
    between its certificate check and its registration)."""

    def __init__(self) -> None:
        self.deciding = asyncio.Event()
        self.go_on = asyncio.Event()
        self._first = True

    async def decide(self, device: Device, at: datetime) -> Decision:
        if self._first:
            self._first = False
            self.deciding.set()
            await self.go_on.wait()
        return await OperatorFlagPolicy().decide(device, at)


async def test_a_revocation_during_a_handshake_on_another_node_still_refuses(
    tmp_path: Path, clock: ManualClock
) -> None:
    held = _HeldPolicy()
    async with (
        fresh_database_url("postgresql", tmp_path) as url,
        gateway_harness(tmp_path, url, clock, _config("a")) as a,
        gateway_harness(tmp_path, url, clock, _config("b"), entitlements=held) as b,
    ):
        for gw in (a, b):
            await asyncio.wait_for(_fleet(gw).link.connected.wait(), 10)
        await a.create_account("anna")
        device, slug = await _enrolled(a, tmp_path, "hub")
        # b checked the certificate (not revoked yet) and is deciding entitlement ...
        handshake = asyncio.create_task(open_tunnel(b.url, device.client_ssl()))
        await asyncio.wait_for(held.deciding.wait(), 10)
        # ... when the device is revoked through a
        async with (
            _operator(a, clock) as (olga, token),
            olga.post(
                f"/api/v1/operator/devices/{slug}/revoke",
                data={"csrf_token": token, "reason": "stolen"},
            ) as r,
        ):
            assert r.status == 200

        async def heard() -> bool:
            return _fleet(b).received >= 1

        await _until(heard)
        held.go_on.set()  # b admits it, sees a change came in meanwhile, checks again
        client = await handshake
        try:
            assert await client.closed(timeout=5.0) is DisconnectReason.REFUSED
            assert client.session.refusal is not None
            assert client.session.refusal.reason == RefusalReason.REVOKED
        finally:
            await client.stop()


async def test_the_console_lists_the_fleets_tunnels_and_disconnects_across_nodes(
    nodes: list[GatewayHarness], tmp_path: Path, clock: ManualClock
) -> None:
    a, b = nodes
    await a.create_account("anna")
    far, far_slug = await _enrolled(a, tmp_path, "hub-far")
    near, near_slug = await _enrolled(a, tmp_path, "hub-near")
    on_b = await open_tunnel(b.url, far.client_ssl())
    on_a = await open_tunnel(a.url, near.client_ssl())
    try:

        async def both_claimed() -> bool:
            return await _entry(a, far_slug) is not None and await _entry(a, near_slug) is not None

        await _until(both_claimed)
        async with _operator(a, clock) as (olga, token):
            async with olga.get("/api/v1/operator/tunnels") as r:
                rows = {row["device"]: row for row in (await r.json())["tunnels"]}
            assert set(rows) == {far_slug, near_slug}
            # held by b: the directory's facts, no live details on a
            assert (rows[far_slug]["node_id"], rows[far_slug]["here"]) == ("b", False)
            assert rows[far_slug]["account"] == "anna"
            assert rows[far_slug]["software"] is None
            # held here: the live details too
            assert (rows[near_slug]["node_id"], rows[near_slug]["here"]) == ("a", True)
            assert rows[near_slug]["software"] == "test-device 1.0"

            async with olga.get("/console/tunnels") as r:
                page = await r.text()
            far_row = page[page.index(f'<tr data-device="{far_slug}" data-node="b">') :]
            assert 'class="muted elsewhere"' in far_row[: far_row.index("</tr>")]
            assert f'<tr data-device="{near_slug}" data-node="a">' in page
            async with olga.get(f"/console/devices/{far_slug}") as r:
                assert '<dd id="device-node">b</dd>' in await r.text()

            # the console's disconnect on a reaches the tunnel held by b (the fleet's control)
            form = {"csrf_token": token, "reason": "Wartung"}
            async with olga.post(f"/console/devices/{far_slug}/disconnect", data=form) as r:
                assert r.status == 200
                assert "Tunnel getrennt." in await r.text()
            assert await on_b.closed() is DisconnectReason.CLEAN
            assert {"type": "disconnect", "by": "operator", "reason": "Wartung"} in on_b.controls
            assert not on_a.task.done()
            [entry] = await a.gateway.store.repo(ConsoleAuditRepository).recent(limit=1)
            assert (entry.operator, entry.action, entry.target, entry.reason) == (
                "olga", "device.disconnect", far_slug, "Wartung",
            )  # fmt: skip

            async def far_gone() -> bool:
                return await _entry(a, far_slug) is None

            await _until(far_gone)
            async with olga.get("/api/v1/operator/tunnels") as r:
                assert [row["device"] for row in (await r.json())["tunnels"]] == [near_slug]
    finally:
        await on_a.stop()
        await on_b.stop()
