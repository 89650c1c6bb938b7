"""``simulator fleet``: real add-on daemons enrol through the portal, connect, ride out a
gateway restart, and come back with the same identities on a second run."""

from __future__ import annotations

import asyncio
import io
import json
import ssl
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from cloud_gateway.accounts.passwords import PasswordHasher
from cloud_gateway.config import (
    DatabaseConfig,
    EnrolmentConfig,
    GatewayConfig,
    HttpConfig,
    PlantsConfig,
    TunnelEndpointConfig,
)
from cloud_gateway.http.keys import TUNNELS
from cloud_gateway.server import RunningGateway, start_gateway
from simulator.cli import build_parser
from simulator.fleet import DeviceKind, Fleet, FleetCounts, FleetOptions, run_fleet
from simulator.fleet_progress import Progress
from tests.support.gateway import GatewayHarness
from tests.tunnel.sessions import until
from tunnel.clock import ManualClock

COUNT = 5
PASSWORD = "Sonnig!2026"


def live_slugs(gateway: RunningGateway) -> set[str]:
    return {tunnel.device.slug for tunnel in gateway.runner.app[TUNNELS].live()}


def options(gateway: RunningGateway, state_dir: Path) -> FleetOptions:
    return FleetOptions(
        gateway_url=gateway.url,
        ca_file=gateway.tls.ca_cert,
        count=COUNT,
        kind=DeviceKind.CCU,
        state_dir=state_dir,
        account="anna",
        password=PASSWORD,
    )


async def create_owner(gateway: RunningGateway, clock: ManualClock) -> None:
    assert gateway.tls.ca_cert is not None
    trust = ssl.create_default_context(cafile=str(gateway.tls.ca_cert))
    await GatewayHarness(gateway, clock, trust, PasswordHasher()).create_account("anna", PASSWORD)


async def wait_counts(fleet: Fleet, predicate: Callable[[FleetCounts], bool]) -> FleetCounts:
    async with asyncio.timeout(60):
        return await fleet.wait_for(predicate)


async def test_fleet_enrols_connects_survives_a_restart_and_keeps_identities(
    tmp_path: Path, clock: ManualClock
) -> None:
    config = GatewayConfig(
        state_dir=tmp_path / "gateway",
        http=HttpConfig(port=0),
        plants=PlantsConfig(demo_activation_key=True),  # the public demo key
        database=DatabaseConfig(url=f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"),
        enrolment=EnrolmentConfig(poll_interval_s=0.05),
        tunnel=TunnelEndpointConfig(reconnect_window_s=2.0),  # five hubs: back within 2 s
    )
    gateway = await start_gateway(config, clock)
    try:
        await create_owner(gateway, clock)
        state_dir = tmp_path / "fleet"

        # First run: five fresh hubs, every pairing code entered in the portal.
        stop = asyncio.Event()
        fleet = Fleet(options(gateway, state_dir))
        running = asyncio.create_task(fleet.run(stop))
        counts = await wait_counts(fleet, lambda c: c.connected == COUNT)
        assert counts.claimed == COUNT
        assert counts.enrolled == COUNT
        async with asyncio.timeout(10):
            await until(lambda: len(live_slugs(gateway)) == COUNT)
        slugs = live_slugs(gateway)
        keys = {p: p.read_bytes() for p in sorted(state_dir.glob("*/device.key"))}
        assert len(keys) == COUNT

        # The gateway goes away and comes back on the same port and state: all reconnect.
        port = gateway.port
        await gateway.stop()
        gateway = await start_gateway(replace(config, http=HttpConfig(port=port)), clock)
        counts = await wait_counts(fleet, lambda c: c.reconnects >= COUNT and c.connected == COUNT)
        async with asyncio.timeout(10):
            await until(lambda: live_slugs(gateway) == slugs)
        stop.set()
        async with asyncio.timeout(30):
            await running
        assert fleet.counts.started == 0

        # Second run on the same folders: no enrolment, the same devices connect.
        stop = asyncio.Event()
        fleet = Fleet(options(gateway, state_dir))
        running = asyncio.create_task(fleet.run(stop))
        counts = await wait_counts(fleet, lambda c: c.connected == COUNT)
        assert counts.claimed == 0
        assert counts.pending == 0
        async with asyncio.timeout(10):
            await until(lambda: live_slugs(gateway) == slugs)
        assert {p: p.read_bytes() for p in sorted(state_dir.glob("*/device.key"))} == keys
        stop.set()
        async with asyncio.timeout(30):
            await running
    finally:
        await gateway.stop()


async def test_run_fleet_prints_one_json_line_with_the_slugs(
    tmp_path: Path, clock: ManualClock
) -> None:
    config = GatewayConfig(
        state_dir=tmp_path / "gateway",
        http=HttpConfig(port=0),
        plants=PlantsConfig(demo_activation_key=True),  # the public demo key
        database=DatabaseConfig(url=f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"),
        enrolment=EnrolmentConfig(poll_interval_s=0.05),
    )
    gateway = await start_gateway(config, clock)
    try:
        await create_owner(gateway, clock)
        out = io.StringIO()
        stop = asyncio.Event()
        running = asyncio.create_task(
            run_fleet(
                replace(options(gateway, tmp_path / "fleet"), count=1),
                stop,
                print_json=True,
                stream=out,
            )
        )
        async with asyncio.timeout(60):
            await until(lambda: len(live_slugs(gateway)) == 1)
        slugs = live_slugs(gateway)
        stop.set()
        async with asyncio.timeout(30):
            assert await running == 0
        report = json.loads(out.getvalue().splitlines()[-1])
        assert report["kind"] == "ccu"
        assert {d["slug"] for d in report["devices"]} == slugs
        assert report["claimed"] == 1
    finally:
        await gateway.stop()


def test_progress_redraws_one_line_on_a_terminal_and_prints_lines_otherwise() -> None:
    counts = FleetCounts(
        started=3,
        pending=1,
        enrolled=2,
        connected=2,
        refused=0,
        reconnecting=0,
        connects=2,
        reconnects=0,
        claimed=2,
        connects_per_s=1.5,
    )
    tty = io.StringIO()
    progress = Progress(tty, "ccu", 3, interval=5.0, tty=True)
    progress.update(counts, 0.0)
    progress.update(counts, 0.1)  # too soon: not drawn again
    progress.update(counts, 0.5)
    progress.finish(counts)
    assert tty.getvalue().count("\r\x1b[2K") == 3
    assert tty.getvalue().endswith("connects in all\n")
    assert "2 connected" in tty.getvalue()
    assert "1.5 connects/s" in tty.getvalue()

    plain = io.StringIO()
    progress = Progress(plain, "ccu", 3, interval=5.0, tty=False)
    progress.update(counts, 0.0)
    progress.update(counts, 1.0)
    progress.update(counts, 5.0)
    assert len(plain.getvalue().splitlines()) == 2
    assert "\r" not in plain.getvalue()


def test_fleet_is_a_simulator_subcommand_with_its_options() -> None:
    argv = ["fleet", "--gateway", "https://gw:8443/", "--count", "7", "--kind", "agent"]
    args = build_parser().parse_args([*argv, "--claim-none", "--ramp", "2"])
    assert (args.count, args.kind, args.claim_none, args.ramp) == (7, "agent", True, 2.0)
    assert args.log_level == "WARNING"
