"""The daemon against a real gateway: clean shutdown of the tunnel, restart after enrolment."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import aiohttp
import pytest

from ccu_addon import cli
from ccu_addon.app import EXIT_RESTART, run_addon
from ccu_addon.config import AddonConfig, CcuConfig, GatewayLink
from ccu_addon.identity import load_hub_identity
from ccu_addon.packages import PackageCache
from ccu_addon.status import AddonState
from cloud_gateway.config import EnrolmentConfig, GatewayConfig
from cloud_gateway.http.keys import TUNNELS
from cloud_gateway.tunnels.registry import TunnelRegistry
from simulator.ccu.catalog import InterfaceName
from simulator.ccu.server import SimulatedCcu
from tests.support.gateway import GatewayHarness, gateway_harness
from tests.support.hubs import enrol_hub
from tests.tunnel.sessions import until
from tunnel.clock import ManualClock


@dataclass
class World:
    harness: GatewayHarness
    ccu: SimulatedCcu
    config: AddonConfig

    @property
    def registry(self) -> TunnelRegistry:
        return self.harness.gateway.runner.app[TUNNELS]

    def disconnects(self, reason: str) -> float:
        """The gateway's count of ended sessions with ``reason`` (its operator metric)."""
        value = self.registry.metrics.registry.get_sample_value(
            "cloudconnector_tunnel_disconnects_total", {"reason": reason}
        )
        return value or 0.0


@pytest.fixture
async def world(tmp_path: Path, clock: ManualClock) -> AsyncIterator[World]:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    gateway = GatewayConfig(enrolment=EnrolmentConfig(poll_interval_s=0.05))
    async with (
        gateway_harness(tmp_path, db_url, clock, gateway) as harness,
        SimulatedCcu(clock=clock) as ccu,
    ):
        await harness.create_account("anna")
        assert harness.gateway.tls.ca_cert is not None
        config = AddonConfig(
            state_dir=tmp_path / "addon",
            listen_port=0,
            gateway=GatewayLink(url=harness.url, ca_file=harness.gateway.tls.ca_cert),
            ccu=replace(
                CcuConfig(),
                webui_url=ccu.webui_url + "/",
                jsonrpc_url=f"{ccu.webui_url}/api/homematic.cgi",
                xmlrpc_urls=(ccu.xmlrpc_url(InterfaceName.HMIP_RF),),
            ),
        )
        yield World(harness, ccu, config)


async def test_stopping_the_daemon_closes_the_tunnel_cleanly(
    world: World, clock: ManualClock
) -> None:
    await enrol_hub(world.harness, world.config.state_dir, "anna")
    stop = asyncio.Event()
    daemon = asyncio.create_task(run_addon(world.config, stop, clock=clock))
    async with asyncio.timeout(30):
        await until(lambda: bool(world.registry.live()))
        stop.set()
        assert await daemon == 0
        await until(lambda: not world.registry.live())
    assert world.disconnects("clean") == 1
    assert world.disconnects("network") == 0  # an unclean close (WebSocket 1006) counts here
    assert not world.ccu.registrations(InterfaceName.HMIP_RF)  # unregistered as well


async def test_first_enrolment_ends_with_a_restart_that_keeps_the_pid_file(
    world: World, clock: ManualClock, tmp_path: Path
) -> None:
    state = AddonState(PackageCache(world.config.state_dir))
    pid_file = tmp_path / "addon.pid"
    stop = asyncio.Event()
    daemon = asyncio.create_task(
        run_addon(
            world.config,
            stop,
            clock=clock,
            state=state,
            pid_file=pid_file,
            restart_after_enrolment=True,
        )
    )
    async with asyncio.timeout(30):
        await until(lambda: state.pairing_code is not None)
        assert state.pairing_code is not None
        async with world.harness.client() as owner:
            await world.harness.login(owner, "anna")
            token = await world.harness.form_token(owner, "/portal/devices/pair")
            async with owner.post(
                "/portal/devices/pair", data={"csrf_token": token, "code": state.pairing_code}
            ) as resp:
                assert resp.status == 200
        assert await daemon == EXIT_RESTART
    assert pid_file.exists()  # the same pid goes on running after exec
    assert not world.registry.live()  # the restarted daemon opens the tunnel, not this one
    identity = load_hub_identity(world.config.state_dir)
    assert identity is not None
    assert identity.slug is not None
    assert identity.slug.startswith("ccu-")


def test_the_cli_knows_the_restart_status() -> None:
    assert cli.EXIT_RESTART == EXIT_RESTART


# Runs ``ccu-addon run`` as on the hub and writes the module names the process imported, at
# its exit after SIGTERM, to the file named by the first argument.
_MODULES_AT_EXIT = """
import atexit, runpy, sys
out, config = sys.argv[1:3]
def dump():
    with open(out, "w", encoding="utf-8") as handle:
        handle.write("\\n".join(sorted(sys.modules)))
atexit.register(dump)
sys.argv = ["ccu-addon", "run", "--config", config, "--log-level", "INFO"]
runpy.run_module("ccu_addon.cli", run_name="__main__", alter_sys=True)
"""


def write_config(world: World, path: Path) -> None:
    config, ccu = world.config, world.config.ccu
    lines = [
        f"state_dir = {json.dumps(str(config.state_dir))}",
        'listen_host = "127.0.0.1"',
        "listen_port = 0",
        "[gateway]",
        f"url = {json.dumps(config.gateway.url)}",
        f"ca_file = {json.dumps(str(config.gateway.ca_file))}",
        "[ccu]",
        f"webui_url = {json.dumps(ccu.webui_url)}",
        f"jsonrpc_url = {json.dumps(ccu.jsonrpc_url)}",
        f"xmlrpc_urls = {json.dumps(list(ccu.xmlrpc_urls))}",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


async def read_log(stream: asyncio.StreamReader, dashboard: asyncio.Future[int]) -> None:
    """Drain the daemon's log (so it never blocks on a full pipe); tell the dashboard's port."""
    while line := await stream.readline():
        found = re.search(rb"dashboard on 127\.0\.0\.1:(\d+)", line)
        if found and not dashboard.done():
            dashboard.set_result(int(found.group(1)))


@pytest.mark.slow
async def test_the_running_daemon_imports_neither_aiohttp_nor_cryptography(
    world: World, tmp_path: Path
) -> None:
    """The footprint rule of issue #6, checked on the real process (tunnel up, page served)."""
    await enrol_hub(world.harness, world.config.state_dir, "anna")
    config, modules = tmp_path / "addon.toml", tmp_path / "modules.txt"
    write_config(world, config)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _MODULES_AT_EXIT,
        str(modules),
        str(config),
        stdin=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    dashboard: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    log = asyncio.create_task(read_log(proc.stderr, dashboard))
    try:
        async with asyncio.timeout(60):
            port = await dashboard
            await until(lambda: bool(world.registry.live()))
            await until(lambda: bool(world.ccu.registrations(InterfaceName.HMIP_RF)))
            async with aiohttp.ClientSession() as browser:
                call = {
                    "method": "Session.login",
                    "params": {"username": "Admin", "password": "admin"},
                }
                async with browser.post(
                    f"{world.ccu.webui_url}/api/homematic.cgi", json=call
                ) as resp:
                    sid = (await resp.json(content_type=None))["result"]
                async with browser.get(
                    f"http://127.0.0.1:{port}/", params={"sid": f"@{sid}@"}
                ) as resp:
                    assert resp.status == 200
                    assert 'id="selftest"' in await resp.text()
            proc.terminate()
            assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await log
    imported = {name.split(".")[0] for name in modules.read_text(encoding="utf-8").split()}
    assert "ccu_addon" in imported
    assert "wsproto" in imported  # the tunnel was up
    assert not imported & {"aiohttp", "cryptography", "yarl", "multidict", "cffi"}
