"""Test 3, gateway crashes under load: the gateway SIGKILLed while agents and hubs are connected.

The gateway runs as ``cloud-gateway serve`` (TLS, SQLite file) behind a TCP proxy (its port
changes with every start; the devices keep one address); the devices are two ``simulator
fleet`` processes, real inverter agents and real CCU add-on daemons in process, enrolled
through the portal. Each round: once every device has its tunnel, the gateway is SIGKILLed at
a random moment, restarted on the same database, and the test measures (from the new process
serving) until every device has its tunnel again, polling the gateway's ``/metrics``. The
bound is the devices' backoff plus 5 s: after a healthy session a device's first delay is at
most the reconnect window the gateway names in WELCOME (2 s here); each attempt that meets
the dead gateway (connection reset, at once) raises the next delay's ceiling (full jitter from
1 s, doubling), and with full jitter a device can fail several times in a restart of a couple
of seconds. The bound takes the ceiling after five failed attempts (32 s); the figure reports
the actual times.

At the end the fleets stop and every agent's outbox is compared with the gateway's database:
each committed entry is stored at the gateway or still in the outbox, none dropped (0
acknowledged readings lost); the new gateway process holds no more file descriptors after the
last round than after the first.
"""

from __future__ import annotations

import asyncio
import random
import re
import sqlite3
import ssl
import time
from pathlib import Path

import aiohttp
import pytest
from cryptography import x509

from cloud_gateway.tunnels.device_ca import serial_hex
from inverter_agent.agent import OUTBOX_FILE
from tests.reliability.report import pick, record
from tests.support.gateway import gateway_harness
from tests.support.processes import ChildProcess
from tests.support.tcp_proxy import TcpProxy
from tests.support.telemetry_rig import PASSWORD, SERVING, START_TIMEOUT
from tunnel.backoff import BackoffPolicy
from tunnel.clock import SystemClock
from tunnel.enrolment import CERT_FILE

AGENTS = pick(5, 50)
HUBS = pick(5, 50)
KILLS = pick(1, 10)
HOLD_S = pick(0.0, BackoffPolicy().healthy_after)
"""How long the fleet stays connected before the next kill: a session up for the backoff's
``healthy_after`` resets the device's attempt counter, so each kill meets a healthy fleet
(a fresh fleet's counters are zero: the smoke run's single kill needs no hold). Kills faster
than that pile up backoff on purpose (a flapping gateway is left alone for longer)."""
WINDOW_S = 2.0
"""The reconnect window the gateway names in WELCOME."""
SLACK_S = 5.0
MAX_BACKOFF_S = BackoffPolicy().ceiling(5)
"""The backoff ceiling after five failed attempts (see the module docstring)."""
BOUND_S = max(MAX_BACKOFF_S, WINDOW_S) + SLACK_S
FD_SLACK = 24
TOKEN = "reliability-metrics"
"""A throwaway bearer token for this gateway's ``/metrics``."""
_OPEN = re.compile(r"^cloudconnector_tunnels_open (\S+)$", re.MULTILINE)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(pick(300, 1800))]


async def _tunnels_open(http: aiohttp.ClientSession, port: int) -> int:
    try:
        async with http.get(
            f"https://localhost:{port}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
        ) as resp:
            match = _OPEN.search(await resp.text())
    except aiohttp.ClientError:
        return -1
    return int(float(match.group(1))) if match else -1


async def _all_back(http: aiohttp.ClientSession, port: int, bound: float) -> float | None:
    """Seconds until every device has its tunnel (None: not within ``bound``)."""
    started = time.monotonic()
    while time.monotonic() - started < bound:
        if await _tunnels_open(http, port) >= AGENTS + HUBS:
            return time.monotonic() - started
        await asyncio.sleep(0.1)  # another process: polled, bounded
    return None


def _fds(pid: int) -> int:
    return sum(1 for _ in Path(f"/proc/{pid}/fd").iterdir())


def _lost(fleet_dir: Path, gateway_db: Path) -> tuple[int, int, int]:
    """(entries committed by the agents, of them neither stored nor held, dropped)."""
    committed = lost = dropped = 0
    with sqlite3.connect(gateway_db) as db:
        for folder in sorted(fleet_dir.glob("agent-*")):
            cert = x509.load_pem_x509_certificate((folder / CERT_FILE).read_bytes())
            (device_id,) = db.execute(
                "SELECT device_id FROM device_certificates WHERE serial = ?", (serial_hex(cert),)
            ).fetchone()
            stored = {
                s
                for (s,) in db.execute(
                    "SELECT seq FROM telemetry_batches WHERE device_id = ?", (device_id,)
                )
            }
            with sqlite3.connect(folder / OUTBOX_FILE) as outbox:
                held = {s for (s,) in outbox.execute("SELECT seq FROM readings")}
                counters = dict(outbox.execute("SELECT name, value FROM counters").fetchall())
            entries = set(range(1, counters["next_seq"]))
            committed += len(entries)
            lost += len(entries - stored - held)
            dropped += counters["dropped"]
    return committed, lost, dropped


async def test_gateway_sigkilled_under_load_loses_nothing(tmp_path: Path) -> None:
    gateway_db = tmp_path / "gateway.sqlite3"
    db_url = f"sqlite+aiosqlite:///{gateway_db}"
    async with gateway_harness(tmp_path, db_url, SystemClock()) as gw:
        await gw.create_account("anna", PASSWORD)
        ca_file = gw.gateway.tls.ca_cert
        assert ca_file is not None
    toml = tmp_path / "gateway.toml"
    toml.write_text(
        f'state_dir = "{tmp_path / "gateway"}"\n'
        f'[http]\nhost = "127.0.0.1"\nport = 0\n'
        f'[database]\nurl = "{db_url}"\n'
        f"[enrolment]\npoll_interval_s = 0.2\nmax_enrolments_per_source = 1000\n"
        f"[tunnel]\nreconnect_window_s = {WINDOW_S}\n"
        "[plants]\ndemo_activation_key = true\n"
        f'[operator]\nmetrics_token = "{TOKEN}"\n'
    )
    gateway = ChildProcess("gateway", "cloud_gateway.cli", "serve", "--config", str(toml))
    fleet_dir = tmp_path / "fleet"
    rng = random.Random()
    http = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=ssl.create_default_context(cafile=str(ca_file)))
    )

    async def start_gateway(proxy: TcpProxy) -> int:
        mark = gateway.mark()
        await gateway.start()
        match = await gateway.wait_for(SERVING.pattern, timeout=START_TIMEOUT, after=mark)
        port = int(match.group(1))
        proxy.target = ("127.0.0.1", port)
        proxy.forward()
        return port

    def fleet(kind: str, count: int, proxy: TcpProxy) -> ChildProcess:
        return ChildProcess(
            f"fleet {kind}",
            "simulator.cli",
            "fleet",
            f"--gateway=https://localhost:{proxy.port}/",
            f"--ca={ca_file}",
            f"--count={count}",
            f"--kind={kind}",
            "--account=anna",
            f"--password={PASSWORD}",
            f"--state-dir={fleet_dir}",
            "--ramp=2",
        )

    backs: list[float | None] = []
    downtimes: list[float] = []
    fds: list[int] = []
    async with TcpProxy() as proxy, http:
        agents, hubs = fleet("agent", AGENTS, proxy), fleet("ccu", HUBS, proxy)
        try:
            port = await start_gateway(proxy)
            await agents.start()
            await hubs.start()
            assert await _all_back(http, port, 240.0) is not None, "the fleet never connected"
            for _ in range(KILLS):
                await asyncio.sleep(HOLD_S + rng.uniform(0.5, 4.0))  # a random moment
                proxy.refuse()
                killed = time.monotonic()
                gateway.kill()
                assert await gateway.wait() == -9
                port = await start_gateway(proxy)
                downtimes.append(time.monotonic() - killed)
                backs.append(await _all_back(http, port, BOUND_S))
                fds.append(_fds(gateway.pid))
                if backs[-1] is None:
                    break
            # what the agents still hold stays in their durable outboxes: _lost counts it as held
            # SIGTERM (SIGKILL after 60 s: the outboxes are durable either way)
            await agents.terminate(timeout=60.0)
            await hubs.terminate(timeout=60.0)
            await gateway.terminate(timeout=60.0)
        except BaseException:
            print(gateway.output(80), agents.output(80), hubs.output(80), sep="\n")
            raise
        finally:
            await agents.close()
            await hubs.close()
            await gateway.close()

    committed, lost, dropped = _lost(fleet_dir, gateway_db)
    in_time = len(backs) == KILLS and all(b is not None for b in backs)
    flat = bool(fds) and fds[-1] <= fds[0] + FD_SLACK
    slowest = max((b for b in backs if b is not None), default=0.0)
    figure = (
        f"{AGENTS} agents + {HUBS} hubs, {len(backs)} gateway SIGKILLs, all back in time "
        f"{sum(b is not None for b in backs)}/{KILLS} (bound {BOUND_S:.0f} s, slowest "
        f"{slowest:.1f} s; downtime {max(downtimes, default=0):.1f} s at most), {committed} outbox "
        f"entries committed, {lost} lost, {dropped} dropped, gateway fds after each round "
        f"{fds}"
    )
    record("gateway_crashes", figure, passed=in_time and flat and lost == 0 and dropped == 0)
    assert in_time, backs
    assert lost == 0
    assert dropped == 0
    assert flat, fds
