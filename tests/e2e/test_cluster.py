"""Three gateway nodes on PostgreSQL behind HAProxy on loopback (issue 18, ADR 0020).

Real ``cloud-gateway serve`` processes (:mod:`simulator.cluster`), Debian's HAProxy in TCP mode
passing TLS through, one PostgreSQL database; devices are tunnel connectors in this process
that come in through HAProxy, serve a web UI and send TELEMETRY batches (resent until ACKed, as
the add-on does). Checked in one run, to keep the CI budget: devices spread over the nodes;
remote access to every device from every node (page, 10 MiB download, WebSocket echo); a
revocation on node A closes a tunnel on another node within 5 s; the node holding the
entitlement scheduler's lease is SIGKILLed: its devices are back on the others within the
backoff window, its directory rows are gone, every batch is stored exactly once, the lease
moved and no reminder went out twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa

from cloud_gateway.accounts.model import Role
from cloud_gateway.accounts.passwords import PasswordHasher
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.config import EntitlementsConfig
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.entitlements.hub_rules import due_reminders
from cloud_gateway.entitlements.service import EntitlementService
from cloud_gateway.entitlements.windows import Booking
from cloud_gateway.fleet.link import lease_key
from cloud_gateway.fleet.repository import FleetRepository
from cloud_gateway.notify.schema import notification_outbox
from cloud_gateway.store import Store
from simulator.cluster import PORTAL, LoopbackCluster, loopback_cluster
from tests.support.console import staff_login
from tests.support.databases import fresh_database_url
from tests.support.device_webui import browser, pattern_sha256, start_webui
from tests.support.gateway import PortalAt
from tests.support.smtp import RecordingSmtp
from tests.support.tunnel_device import TestDevice, enrol_device
from tunnel.backoff import Backoff, BackoffPolicy
from tunnel.clock import SystemClock
from tunnel.connector import TunnelConnector
from tunnel.errors import TunnelError
from tunnel.frames import PROTOCOL_VERSIONS, Hello, RefusalReason
from tunnel.streams import Stream
from tunnel.tcp_splice import splice_tcp

pytestmark = [pytest.mark.postgresql, pytest.mark.slow, pytest.mark.timeout(240)]

DEVICES = 6
TEN_MIB = 10 * 1024 * 1024
PASSWORD = "Sonnig!2026"
PACKAGE_DAYS = 5
"""anna's package from now: its first reminder (five days before the end) is due today, from
09:00 Berlin (earlier in the day none is due, and none may be sent)."""


@dataclass
class _Hub:
    """One device: its connector through HAProxy and TELEMETRY resent until ACKed."""

    device: TestDevice
    connector: TunnelConnector
    acked: list[int] = field(default_factory=list)
    next_seq: int = 1
    sending: bool = True

    async def telemetry(self) -> None:
        """Batches one after the other; an unacknowledged one goes again on the next session."""
        while self.sending:
            session = await self.connector.wait_connected()
            seq = self.next_seq
            body = {
                "kind": "ccu_events",
                "events": [
                    {
                        "interface": "BidCos-RF",
                        "address": "OEQ0000001:1",
                        "key": "STATE",
                        "value": seq,
                        "at": datetime.now(UTC).isoformat(),
                    }
                ],
            }
            try:
                acked = await session.send_telemetry(seq, json.dumps(body).encode())
                async with asyncio.timeout(10):
                    await acked
            except (TunnelError, ConnectionError, TimeoutError):
                await asyncio.sleep(0.05)  # the connector is reconnecting
                continue
            self.acked.append(seq)
            self.next_seq += 1
            await asyncio.sleep(0.05)


async def _sql(store: Store, statement: str, **params: object) -> list[tuple[Any, ...]]:
    async with store.engine.connect() as conn:
        return [tuple(r) for r in await conn.execute(sa.text(statement), params)]


async def _lease_holder(store: Store, name: str) -> str | None:
    key = lease_key(name)
    rows = await _sql(
        store,
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted "
        "AND l.classid = :hi AND l.objid = :lo",
        hi=(key >> 32) & 0xFFFFFFFF,
        lo=key & 0xFFFFFFFF,
    )
    return str(rows[0][0]).rsplit(" ", 1)[1] if rows else None


async def _holders(store: Store) -> dict[int, str]:
    rows = await _sql(store, "SELECT device_id, node_id FROM tunnel_directory")
    return {int(r[0]): str(r[1]) for r in rows}


async def _until(what: str, check: object, timeout: float) -> float:
    """Ask ``check`` (an async callable) until it is true; the seconds it took."""
    start = time.monotonic()
    try:
        async with asyncio.timeout(timeout):
            while not await check():  # type: ignore[operator]  # noqa: ASYNC110 - other processes
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise AssertionError(f"timed out after {timeout} s waiting for {what}") from None
    return time.monotonic() - start


async def _remote_access(node: PortalAt, http: aiohttp.ClientSession, slug: str, port: int) -> None:
    """Page, 10 MiB download and a WebSocket echo of ``slug`` through ``node``."""
    device_url = f"https://{slug}.{PORTAL}:{port}"
    token = await node.form_token(http, f"/remote/{slug}/open")
    async with http.post(f"/remote/{slug}/open", data={"csrf_token": token}) as r:
        assert r.status == 200, (slug, node.url, await r.text())
        assert "CCU WebUI" in await r.text()
    async with http.get(f"{device_url}/download?size={TEN_MIB}&length=1") as r:
        assert r.status == 200
        digest = hashlib.sha256()
        async for chunk in r.content.iter_chunked(256 * 1024):
            digest.update(chunk)
    assert digest.hexdigest() == pattern_sha256(TEN_MIB)
    async with http.ws_connect(f"{device_url}/ws", origin=device_url) as ws:
        await ws.send_str(f"hallo {slug}")
        assert (await ws.receive(timeout=10)).data == f"echo: hallo {slug}"


@contextlib.asynccontextmanager
async def _fleet(tmp_path: Path, url: str, smtp: RecordingSmtp) -> AsyncIterator[LoopbackCluster]:
    extra = f'\n[smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\npoll_interval_s = 0.5\n'
    async with loopback_cluster(tmp_path / "state", url, 3, extra_toml=extra) as cluster:
        yield cluster


async def test_three_nodes_behind_haproxy(tmp_path: Path) -> None:
    smtp = RecordingSmtp()
    await smtp.start()
    webui, webui_port = await start_webui()

    async def serve(stream: Stream) -> None:
        await splice_tcp(stream, "127.0.0.1", webui_port)

    hubs: list[_Hub] = []
    tasks: list[asyncio.Task[None]] = []
    try:
        async with fresh_database_url("postgresql", tmp_path) as url:
            store = await Store.open(url)  # migrated before the nodes start
            try:
                now = datetime.now(UTC)
                long_ago = now - timedelta(days=60)  # anna's trial is over: she pays
                accounts = store.repo(AccountRepository)
                hashed = PasswordHasher().hash(PASSWORD)
                anna = await accounts.create(
                    username="anna",
                    email="anna@example.org",
                    password_hash=hashed,
                    created_at=long_ago,
                )
                await accounts.create(
                    username="olga",
                    email="olga@example.org",
                    password_hash=hashed,
                    created_at=now,
                    role=Role.OPERATOR,
                )
                entitlements = EntitlementService(store, SystemClock(), EntitlementsConfig())
                async with store.engine.begin() as conn:
                    await entitlements.grant_account_trial(conn, anna, long_ago)
                await entitlements.book_package(
                    account_id=anna.id,
                    paid_at=now,
                    days=PACKAGE_DAYS,
                    booking=Booking.SINGLE,
                    product="CloudMatic",
                    source="e2e",
                    idempotency_key="e2e-package",
                )
                windows = await entitlements.account_windows(anna.id)
                expected_reminders = len(due_reminders(windows, datetime.now(UTC), 5))

                async with _fleet(tmp_path, url, smtp) as cluster:
                    ctx = ssl.create_default_context(cafile=str(cluster.ca_file))
                    front = PortalAt(cluster.url, ctx)
                    nodes = {n.node_id: PortalAt(n.url, ctx) for n in cluster.nodes.values()}
                    # -- devices enrol and connect through HAProxy: spread over the nodes
                    for i in range(DEVICES):
                        device = TestDevice(tmp_path / f"hub{i}", cluster.ca_file)
                        await enrol_device(front, device, "anna")
                        connector = TunnelConnector(
                            url=f"wss://127.0.0.1:{cluster.port}/tunnel/v1",
                            ssl_context=device.client_ssl(),
                            hello=Hello(
                                versions=PROTOCOL_VERSIONS,
                                capabilities=("telemetry", "streams"),
                                software="cluster-e2e",
                                device_kind="ccu",
                            ),
                            clock=SystemClock(),
                            on_open=serve,
                            backoff=Backoff(BackoffPolicy(base=0.5, cap=2.0, reconnect_window=2.0)),
                            name=f"hub{i}",
                        )
                        hubs.append(_Hub(device, connector))
                        tasks += [
                            asyncio.create_task(connector.run()),
                            asyncio.create_task(hubs[-1].telemetry()),
                        ]
                    devices = {
                        d.slug: d.id
                        for d in await store.repo(DeviceRepository).list_for_account(anna.id)
                    }

                    async def all_held() -> bool:
                        return len(await _holders(store)) == DEVICES

                    await _until("every device in the directory", all_held, 30)
                    holders = await _holders(store)
                    by_node: dict[str, list[int]] = {}
                    for device_id, node_id in holders.items():
                        by_node.setdefault(node_id, []).append(device_id)
                    assert len(by_node) == 3, by_node  # leastconn spreads them
                    slug_of = {v: k for k, v in devices.items()}

                    # -- remote access: every device from every node (local or forwarded)
                    for node_id, portal in nodes.items():
                        port = cluster.nodes[node_id].port
                        async with browser(portal.url, ctx) as http:
                            await portal.login(http, "anna")
                            for device_id in holders:
                                await _remote_access(portal, http, slug_of[device_id], port)

                    # -- roles: B holds the entitlement scheduler, A revokes a device on C
                    async def scheduler_placed() -> bool:
                        return await _lease_holder(store, "entitlement-scheduler") is not None

                    await _until("the scheduler lease", scheduler_placed, 15)
                    b = await _lease_holder(store, "entitlement-scheduler")
                    assert b is not None
                    a, c = sorted(set(nodes) - {b})
                    victim_id = by_node[c][0]
                    victim = next(h for h in hubs if h.device.slug == slug_of[victim_id])
                    victim.sending = False
                    async with browser(nodes[a].url, ctx) as olga:
                        token = await staff_login(nodes[a], olga, "olga", None)
                        started = time.monotonic()
                        async with olga.post(
                            f"/api/v1/operator/devices/{slug_of[victim_id]}/revoke",
                            data={"csrf_token": token, "reason": "e2e"},
                        ) as r:
                            assert r.status == 200, await r.text()

                        async def refused() -> bool:
                            status = victim.connector.status()
                            return (
                                status.last_refusal is not None
                                and status.last_refusal.reason == RefusalReason.REVOKED.value
                            )

                        await _until("the revoked tunnel on C to close", refused, 5)
                    assert time.monotonic() - started < 5.0

                    # -- reminders of the first scheduler run are out
                    await smtp.wait_for(expected_reminders, timeout=20)

                    # -- B dies: its devices come back elsewhere, its rows go, the lease moves
                    on_b = set(by_node.get(b, []))
                    cluster.kill(b)
                    killed = time.monotonic()

                    async def back_elsewhere() -> bool:
                        now_held = await _holders(store)
                        nodes_left = {n.node_id for n in await store.repo(FleetRepository).nodes()}
                        return (
                            b not in nodes_left
                            and b not in now_held.values()
                            and on_b <= set(now_held)
                        )

                    await _until("B's devices on A/C and B's rows gone", back_elsewhere, 30)
                    back_s = time.monotonic() - killed

                    async def moved() -> bool:
                        return await _lease_holder(store, "entitlement-scheduler") in {a, c}

                    # polled every 0.5 s, by loops busy taking B's devices back; two CI runs at
                    # load 7-12 missed 10 and 30 s (not seen on a quiet machine: ~1 s). On a miss
                    # the message says who holds which advisory lock and the links' sessions.
                    try:
                        await _until("the scheduler lease on A or C", moved, 60)
                    except AssertionError as exc:
                        locks = await _sql(
                            store,
                            "SELECT a.application_name, a.state, l.classid, l.objid, l.granted "
                            "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                            "WHERE l.locktype = 'advisory'",
                        )
                        links = await _sql(
                            store,
                            "SELECT application_name, state, backend_start FROM "
                            "pg_stat_activity WHERE application_name LIKE 'cloudconnector fleet%'",
                        )
                        seen = f"b={b}; locks={locks}; links={links}"
                        raise AssertionError(f"{exc}; {seen}") from None
                    sent_before = {id(h): len(h.acked) for h in hubs if h.sending}

                    async def more_telemetry() -> bool:
                        return all(len(h.acked) > sent_before[id(h)] for h in hubs if h.sending)

                    await _until("telemetry acknowledged again after the move", more_telemetry, 20)

                    # -- telemetry: every batch stored exactly once, none lost (a batch still
                    # on its way when sending stops is at most the one after the last ACK)
                    for hub in hubs:
                        hub.sending = False
                    # what each hub knows *before* the stored rows are read: an ACK arriving
                    # while the query runs is for a row committed after its snapshot
                    acked = {id(h): set(h.acked) for h in hubs}
                    in_flight = {id(h): h.next_seq for h in hubs}
                    rows = await _sql(store, "SELECT device_id, seq FROM telemetry_batches")
                    stored: dict[int, list[int]] = {}
                    for device_id, seq in rows:
                        stored.setdefault(int(device_id), []).append(int(seq))
                    for hub in hubs:
                        device_id = devices[hub.device.slug or ""]
                        seqs = stored[device_id]
                        assert acked[id(hub)], hub.device.slug
                        assert len(seqs) == len(set(seqs))  # none twice
                        assert acked[id(hub)] <= set(seqs), hub.device.slug  # none lost
                        # nothing beyond: at most the one batch whose ACK was on its way
                        assert set(seqs) - acked[id(hub)] <= {in_flight[id(hub)]}

                    # -- no reminder twice: one mail per reminder row, after the move too
                    reminder_rows = await _sql(
                        store,
                        f"SELECT count(*) FROM {notification_outbox.name} "
                        "WHERE dedup_key LIKE 'reminder:%'",
                    )
                    assert reminder_rows[0][0] == expected_reminders
                    assert len(smtp.messages) == expected_reminders
                    assert back_s < 30
            finally:
                for hub in hubs:
                    hub.sending = False
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                await store.close()
    finally:
        await webui.cleanup()
        await smtp.stop()
