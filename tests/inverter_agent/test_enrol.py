"""The agent without a certificate enrols through the gateway's API, then sends readings."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cloud_gateway.http.keys import ENROLMENT, TUNNELS
from inverter_agent.agent import Agent
from inverter_agent.config import AgentConfig, GatewayLink
from tests.inverter_agent.simulated import inverters, tcp_inverters
from tests.support.gateway import gateway_harness
from tunnel.clock import SystemClock
from tunnel.enrolment import CERT_FILE, KEY_FILE, load_identity


async def test_agent_shows_a_code_enrols_and_connects(tmp_path: Path) -> None:
    clock = SystemClock()
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    codes: asyncio.Queue[str] = asyncio.Queue()

    def shown(code: str | None) -> None:
        if code is not None:
            codes.put_nowait(code)

    async with (
        gateway_harness(tmp_path, db_url, clock) as gw,
        tcp_inverters(inverters(1)) as (_server, bus),
    ):
        owner = await gw.create_account("ines")
        connected = asyncio.Event()

        async def seen(_tunnel: object) -> None:
            connected.set()

        gw.gateway.runner.app[TUNNELS].state_hooks.append(seen)
        state = tmp_path / "agent"
        config = AgentConfig(
            state_dir=state,
            gateway=GatewayLink(
                url=gw.url, ca_file=gw.gateway.tls.ca_cert, device_name="Keller-Agent"
            ),
            buses=(bus,),
        )
        stop = asyncio.Event()
        agent = Agent(config, clock=clock, on_pairing_code=shown)
        running = asyncio.create_task(agent.run(stop))
        try:
            async with asyncio.timeout(20):
                code = await codes.get()
            assert (state / KEY_FILE).stat().st_mode & 0o777 == 0o600
            assert not (state / CERT_FILE).exists()
            claimed = await gw.gateway.runner.app[ENROLMENT].claim(
                code, account_id=owner.id, source_address="127.0.0.1"
            )
            assert claimed.kind == "inverter_agent"
            assert claimed.slug.startswith("keller-agent-")
            async with asyncio.timeout(20):
                await connected.wait()
            identity = await asyncio.to_thread(load_identity, state)
            assert identity.slug == claimed.slug
        finally:
            stop.set()
            async with asyncio.timeout(10):
                await running


async def test_agent_stops_cleanly_while_waiting_for_its_owner(tmp_path: Path) -> None:
    clock = SystemClock()
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    shown: asyncio.Queue[str | None] = asyncio.Queue()
    async with (
        gateway_harness(tmp_path, db_url, clock) as gw,
        tcp_inverters(inverters(1)) as (_server, bus),
    ):
        config = AgentConfig(
            state_dir=tmp_path / "agent",
            gateway=GatewayLink(url=gw.url, ca_file=gw.gateway.tls.ca_cert),
            buses=(bus,),
        )
        stop = asyncio.Event()
        agent = Agent(config, clock=clock, on_pairing_code=shown.put_nowait)
        running = asyncio.create_task(agent.run(stop))
        async with asyncio.timeout(20):
            assert await shown.get() is not None
        stop.set()
        async with asyncio.timeout(10):
            await running
