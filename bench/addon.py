"""Add-on footprint on the hub: idle RSS, idle CPU with an open tunnel, flash writes per hour.

The set-up is the real thing on loopback: a gateway (TLS, SQLite in a temporary folder,
in this process), a :class:`~simulator.ccu.SimulatedCcu` (in this process) and the add-on
as its own process, started as on the hub (``python -m ccu_addon.cli run --config FILE``).
The bench plays the owner: it logs in to the CCU (JSON-RPC ``Session.login``), reads the
pairing code off the add-on's dashboard page, enters it in the portal, and waits until the
gateway's registry holds the hub's tunnel. After a short settling time the idle window
starts (60 s; about 5 s in smoke mode), during which only heartbeats cross the tunnel.

Metrics (of the add-on process only):

* ``idle_rss_mb``: the largest ``VmRSS`` sampled over the idle window, MiB. It counts every
  resident page of the shared libraries (libpython, libcrypto, libssl, libc, ...) whole.
* ``idle_pss_mb``, ``idle_uss_mb``, ``idle_anon_mb``: the largest proportional set size
  (shared pages divided among the processes that map them), unique set size (private pages:
  what ending the add-on would free) and anonymous memory (Python heap, malloc) over the
  window, from ``/proc/<pid>/smaps_rollup``, MiB. On a hub the other Python processes (none,
  usually) would share libpython; the CCU's own daemons share libc and libcrypto.
* ``idle_cpu_pct``: ``utime + stime`` spent in the window / the window's length, percent of
  one core.
* ``bytes_written_per_hour``: bytes written to the add-on's state folder in the window
  (new or changed files count whole, see :class:`~bench._procfs.FolderWrites`), per hour;
  ``io_write_bytes_per_hour`` is ``/proc/<pid>/io`` ``write_bytes`` over the same window as
  a cross-check (it includes writes outside the state folder, e.g. logs on a real disk).
* ``bare_python_rss_mb`` (and ``bare_python_pss_mb``, ``bare_python_uss_mb``): a bare
  interpreter that imported asyncio, ssl, aiohttp (client and web) and ``cryptography.x509``
  and waits on an event loop: what an add-on written with these libraries used to start from.
  ``bare_aiohttp_rss_mb``: the same without ``cryptography`` (the floor of the add-on until
  it dropped aiohttp). ``bare_floor_rss_mb`` (and ``…_pss_mb``, ``…_uss_mb``): asyncio, ssl,
  h11 and wsproto, what the enrolled add-on is built on now: its floor.

The add-on enrols in the measured process; the CLI then restarts itself (``exec``, same pid)
so that the idle daemon runs without ``cryptography`` and ``aiohttp`` (the pairing client's),
as it does after every later start. ``cryptography_mapped`` and ``aiohttp_mapped`` say whether
the idle process maps any file of these packages (or of aiohttp's ``yarl``, ``multidict``);
they should not.

Ratios: ``rss_vs_bare_python``, ``rss_vs_floor``, ``idle_rss_vs_limit`` (limit 40 MB),
``idle_rss_vs_goal`` (goal 30 MB), ``idle_cpu_vs_limit`` (limit 1 %). The bench reports; it
asserts nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import ssl
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import aiohttp

from bench._procfs import (
    FolderWrites,
    MemoryRollup,
    cpu_seconds,
    io_write_bytes,
    mapped_files,
    memory_rollup,
    rss_kib,
)
from cloud_gateway.accounts.passwords import PasswordHasher
from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.config import EnrolmentConfig, GatewayConfig, HttpConfig, PlantsConfig
from cloud_gateway.http.keys import TUNNELS
from cloud_gateway.server import RunningGateway, start_gateway
from simulator.ccu import InterfaceName, SimulatedCcu
from simulator.fleet_portal import PortalOwner
from tunnel.clock import SystemClock

__all__ = [
    "CPU_LIMIT_PCT",
    "FULL",
    "RSS_GOAL_MB",
    "RSS_LIMIT_MB",
    "SMOKE",
    "Window",
    "addon_config",
    "claim",
    "free_port",
    "gateway_and_ccu",
    "pairing_code",
    "run",
    "tunnel_up",
]

RSS_LIMIT_MB: Final = 40.0
RSS_GOAL_MB: Final = 30.0
CPU_LIMIT_PCT: Final = 1.0
_OWNER: Final = ("bench-owner", "Sonnig!2026")
_AIOHTTP_PACKAGES: Final = ("aiohttp", "yarl", "multidict")
"""aiohttp and its compiled companions: mapped (their .so files) once imported."""
_PAIRING_CODE: Final = re.compile(r'id="pairing-code">([^<]+)<')
_BARE_PYTHON: Final = (
    "import asyncio, ssl, {imports}\n"
    "async def main():\n"
    "    print('ready', flush=True)\n"
    "    await asyncio.Event().wait()\n"
    "asyncio.run(main())\n"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    """How long the bench waits and watches."""

    idle_s: float
    """Length of the idle window."""
    settle_s: float
    """Pause after the tunnel is up, before the window starts (start-up work ends)."""
    sample_s: float
    """Interval of the RSS and state-folder samples."""
    setup_limit_s: float
    """Give up when enrolment and the first connect take longer than this."""


FULL = Window(idle_s=60.0, settle_s=5.0, sample_s=1.0, setup_limit_s=120.0)
SMOKE = Window(idle_s=5.0, settle_s=1.0, sample_s=0.5, setup_limit_s=60.0)


def run(*, smoke: bool, arch: str | None = None) -> dict[str, Any]:
    """Measure the idle add-on; ``smoke`` shortens the window. With ``arch``: the archive of
    that architecture on a bare hub root (:mod:`bench.addon_hub`)."""
    if arch is not None:
        from bench import addon_hub  # noqa: PLC0415 - builds runtimes; only when asked

        return addon_hub.run(smoke=smoke, arch=arch)
    return asyncio.run(_bench(SMOKE if smoke else FULL))


def free_port() -> int:
    """A loopback TCP port free just now (for a child process that cannot report its own)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _mib(kib: float) -> float:
    return round(kib / 1024, 2)


async def _bench(window: Window) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-addon-") as tmp:
        folder = Path(tmp)
        async with gateway_and_ccu(folder) as (gateway, ccu):
            bare = await _bare_python("aiohttp, aiohttp.web, cryptography.x509")
            bare_aiohttp = await _bare_python("aiohttp, aiohttp.web")
            floor = await _bare_python("h11, wsproto")
            port = free_port()
            config = _write_config(folder, gateway, ccu, port)
            async with _addon_process(config, folder / "addon.log") as pid:
                async with asyncio.timeout(window.setup_limit_s):
                    code = await pairing_code(ccu, port)
                    await claim(gateway, code)
                    await tunnel_up(gateway)
                await asyncio.sleep(window.settle_s)
                metrics = await _watch(pid, folder / "addon", window)
    metrics["bare_python_rss_mb"] = _mib(bare.rss)
    metrics["bare_python_pss_mb"] = _mib(bare.pss)
    metrics["bare_python_uss_mb"] = _mib(bare.uss)
    metrics["bare_aiohttp_rss_mb"] = _mib(bare_aiohttp.rss)
    metrics["bare_floor_rss_mb"] = _mib(floor.rss)
    metrics["bare_floor_pss_mb"] = _mib(floor.pss)
    metrics["bare_floor_uss_mb"] = _mib(floor.uss)
    ratios = {
        "rss_vs_bare_python": round(metrics["idle_rss_mb"] / metrics["bare_python_rss_mb"], 3),
        "rss_vs_floor": round(metrics["idle_rss_mb"] / metrics["bare_floor_rss_mb"], 3),
        "idle_rss_vs_limit": round(metrics["idle_rss_mb"] / RSS_LIMIT_MB, 3),
        "idle_rss_vs_goal": round(metrics["idle_rss_mb"] / RSS_GOAL_MB, 3),
        "idle_cpu_vs_limit": round(metrics["idle_cpu_pct"] / CPU_LIMIT_PCT, 3),
    }
    return {"metrics": metrics, "ratios": ratios}


@contextlib.asynccontextmanager
async def gateway_and_ccu(folder: Path) -> AsyncIterator[tuple[RunningGateway, SimulatedCcu]]:
    """The gateway with the owner's account, and the simulated CCU."""
    clock = SystemClock()
    config = GatewayConfig(
        state_dir=folder / "gateway",
        http=HttpConfig(port=0),
        enrolment=EnrolmentConfig(poll_interval_s=0.5),
        plants=PlantsConfig(demo_activation_key=True),  # the public demo key
    )
    gateway = await start_gateway(config, clock)
    try:
        login, password = _OWNER
        await gateway.store.repo(AccountRepository).create(
            username=login,
            email=f"{login}@example.org",
            password_hash=PasswordHasher().hash(password),
            created_at=clock.now(),
        )
        async with SimulatedCcu() as ccu:
            yield gateway, ccu
    finally:
        await gateway.stop()


def _write_config(folder: Path, gateway: RunningGateway, ccu: SimulatedCcu, port: int) -> Path:
    assert gateway.tls.ca_cert is not None  # the gateway made its own CA
    path = folder / "addon.toml"
    text = addon_config(
        state_dir=str(folder / "addon"),
        ca_file=str(gateway.tls.ca_cert),
        gateway=gateway,
        ccu=ccu,
        port=port,
    )
    path.write_text(text, encoding="utf-8")
    return path


def addon_config(
    *, state_dir: str, ca_file: str, gateway: RunningGateway, ccu: SimulatedCcu, port: int
) -> str:
    """The add-on's ``addon.toml`` for this gateway and simulated CCU (paths as the add-on
    sees them: a hub root's add-on sees its own root)."""
    xmlrpc = [ccu.xmlrpc_url(InterfaceName.HMIP_RF), ccu.xmlrpc_url(InterfaceName.BIDCOS_RF)]
    lines = [
        f"state_dir = {json.dumps(state_dir)}",
        'listen_host = "127.0.0.1"',
        f"listen_port = {port}",
        "[gateway]",
        f"url = {json.dumps(gateway.url)}",
        f"ca_file = {json.dumps(ca_file)}",
        "[ccu]",
        f"webui_url = {json.dumps(ccu.webui_url + '/')}",
        f"jsonrpc_url = {json.dumps(ccu.webui_url + '/api/homematic.cgi')}",
        f"xmlrpc_urls = {json.dumps(xmlrpc)}",
    ]
    return "\n".join(lines) + "\n"


@contextlib.asynccontextmanager
async def _addon_process(config: Path, log: Path) -> AsyncIterator[int]:
    """``python -m ccu_addon.cli run --config FILE``; SIGTERM at the end."""
    with log.open("wb") as sink:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "ccu_addon.cli",
            "run",
            "--config",
            str(config),
            "--log-level",
            "WARNING",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=sink,
            stderr=sink,
        )
        try:
            yield proc.pid
        finally:
            if proc.returncode is None:
                proc.terminate()
                try:
                    async with asyncio.timeout(15):
                        await proc.wait()
                except TimeoutError:
                    proc.kill()
                    await proc.wait()


async def _bare_python(imports: str) -> MemoryRollup:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _BARE_PYTHON.format(imports=imports),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        await proc.stdout.readline()
        return memory_rollup(proc.pid)
    finally:
        proc.kill()
        await proc.wait()


async def pairing_code(ccu: SimulatedCcu, port: int) -> str:
    """Log in to the CCU as its owner and read the code off the add-on's page."""
    async with aiohttp.ClientSession() as http:
        call = {"method": "Session.login", "params": {"username": "Admin", "password": "admin"}}
        async with http.post(f"{ccu.webui_url}/api/homematic.cgi", json=call) as resp:
            sid = (await resp.json(content_type=None))["result"]
        page = f"http://127.0.0.1:{port}/?sid=@{sid}@"
        while True:  # the add-on is starting, then asks the gateway for a code
            with contextlib.suppress(aiohttp.ClientConnectionError):
                async with http.get(page) as resp:
                    match = _PAIRING_CODE.search(await resp.text())
                if match is not None:
                    return match.group(1)
            await asyncio.sleep(0.1)


async def claim(gateway: RunningGateway, code: str) -> None:
    """Enter the pairing code in the portal as the owner."""
    assert gateway.tls.ca_cert is not None
    trust = ssl.create_default_context(cafile=str(gateway.tls.ca_cert))
    login, password = _OWNER
    async with PortalOwner(gateway.url, trust, login=login, password=password) as owner:
        await owner.claim(code)


async def tunnel_up(gateway: RunningGateway) -> None:
    """Return once the gateway's registry holds a live tunnel."""
    registry = gateway.runner.app[TUNNELS]
    # No event tells of a registered tunnel: poll the registry (the add-on polls too).
    while not registry.live():  # noqa: ASYNC110
        await asyncio.sleep(0.1)


async def _watch(pid: int, state_dir: Path, window: Window) -> dict[str, Any]:
    """Sample the idle add-on over the window."""
    loop = asyncio.get_running_loop()
    writes = FolderWrites(state_dir)
    io_before = io_write_bytes(pid)
    cpu_before, started = cpu_seconds(pid), loop.time()
    peak = rss_kib(pid)
    rollups = [memory_rollup(pid)]
    end = started + window.idle_s
    while (now := loop.time()) < end:
        await asyncio.sleep(min(window.sample_s, end - now))
        peak = max(peak, rss_kib(pid))
        rollups.append(memory_rollup(pid))
        writes.sample()
    elapsed = loop.time() - started
    cpu = cpu_seconds(pid) - cpu_before
    mapped = mapped_files(pid)
    io_after = io_write_bytes(pid)
    per_hour = 3600.0 / elapsed
    io_rate = None
    if io_before is not None and io_after is not None:
        io_rate = round((io_after - io_before) * per_hour)
    return {
        "idle_rss_mb": _mib(peak),
        "idle_pss_mb": _mib(max(r.pss for r in rollups)),
        "idle_uss_mb": _mib(max(r.uss for r in rollups)),
        "idle_anon_mb": _mib(max(r.anonymous for r in rollups)),
        "cryptography_mapped": any("/cryptography/" in path for path in mapped),
        "aiohttp_mapped": any(
            f"/{package}/" in path for path in mapped for package in _AIOHTTP_PACKAGES
        ),
        "idle_cpu_pct": round(100.0 * cpu / elapsed, 3),
        "bytes_written_per_hour": round(writes.written * per_hour),
        "io_write_bytes_per_hour": io_rate,
        "state_files_changed": writes.changes,
        "idle_window_s": round(elapsed, 2),
    }
