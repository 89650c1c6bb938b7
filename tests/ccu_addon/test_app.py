"""The daemon against a real gateway: clean shutdown of the tunnel, restart after enrolment."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from ccu_addon import cli
from ccu_addon.app import EXIT_RESTART, run_addon
from ccu_addon.config import AddonConfig, CcuConfig, GatewayLink
from ccu_addon.identity import load_hub_identity
from ccu_addon.packages import PackageCache
from ccu_addon.status import AddonState
from cloud_gateway.config import EnrolmentConfig, GatewayConfig
from cloud_gateway.tunnels.keys import TUNNELS
from cloud_gateway.tunnels.registry import TunnelRegistry
from simulator.ccu.catalog import InterfaceName
from simulator.ccu.server import SimulatedCcu
from tests.cloud_gateway.shop.test_hub_link import enrol_hub
from tests.support.gateway import GatewayHarness, gateway_harness
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
