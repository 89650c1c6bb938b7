"""'Konfiguration neu anfordern' reaches a real inverter agent through its tunnel (R-MON-10).

Everything is real: the gateway on loopback with TLS, the inverter agent (enrolled through the
gateway's API, polling the shared Modbus TCP simulator), the CONTROL frame through the tunnel.
The simulated inverter first shows no nameplate (unknown type: 20,000 W); after its
configuration is loaded again, the button makes the agent send the true nameplate, and the
plant's power is correct.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from cloud_gateway.http.keys import ENROLMENT, TELEMETRY_INGEST
from cloud_gateway.plants.model import PlantFields
from cloud_gateway.plants.repository import PlantRepository
from cloud_gateway.plants.repository_inverters import InverterRepository
from inverter_agent.agent import Agent
from inverter_agent.config import AgentConfig, BusConfig, GatewayLink
from simulator.inverter.device import PendingConfiguration
from tests.inverter_agent.simulated import inverters, tcp_inverters
from tests.support.gateway import gateway_harness
from tunnel.clock import SystemClock

TIMEOUT = 30.0
_POWER = re.compile(r'id="plant-power" data-watts="(\d+)"')


async def test_resend_configuration_reaches_the_agent_and_corrects_the_power(
    tmp_path: Path,
) -> None:
    clock = SystemClock()
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    sim = inverters(1)
    device = sim[1]
    device.pending_configuration = PendingConfiguration.ABSENT
    codes: asyncio.Queue[str] = asyncio.Queue()
    nameplates: asyncio.Queue[list[str]] = asyncio.Queue()

    def shown(code: str | None) -> None:
        if code is not None:
            codes.put_nowait(code)

    async def reported(_account: int, serials: list[str]) -> None:
        nameplates.put_nowait(serials)

    async with (
        gateway_harness(tmp_path, db_url, clock) as gw,
        tcp_inverters(sim, BusConfig(timeout_s=2.0, poll_interval_s=3600.0)) as (_, bus),
        gw.client() as browser,
    ):
        app = gw.gateway.runner.app
        app[TELEMETRY_INGEST].nameplate_listeners.append(reported)
        store = gw.gateway.store
        owner = await gw.create_account("ines")
        plant = await store.repo(PlantRepository).create(
            owner.id, PlantFields(name="Scheune"), clock.now()
        )
        await store.repo(InverterRepository).add(
            plant_id=plant.id, account_id=owner.id, serial=device.identity.serial, name="",
            now=clock.now(),
        )  # fmt: skip
        await gw.login(browser, "ines")
        page = f"/plants/{plant.id}/licence"

        async def resend() -> tuple[int, str]:
            token = await gw.form_token(browser, page)
            async with browser.post(page + "/resend", data={"csrf_token": token}) as resp:
                return resp.status, await resp.text()

        status, text = await resend()  # no agent yet: a clear message, nothing sent
        assert status == 409
        assert "Ihr Datenlogger ist gerade nicht mit dem Portal verbunden" in text

        config = AgentConfig(
            state_dir=tmp_path / "agent",
            gateway=GatewayLink(url=gw.url, ca_file=gw.gateway.tls.ca_cert),
            buses=(bus,),
        )
        stop = asyncio.Event()
        agent = Agent(config, clock=clock, on_pairing_code=shown)
        running = asyncio.create_task(agent.run(stop))
        try:
            async with asyncio.timeout(TIMEOUT):
                code = await codes.get()
            await app[ENROLMENT].claim(code, account_id=owner.id, source_address="127.0.0.1")
            async with asyncio.timeout(TIMEOUT):
                assert await nameplates.get() == [device.identity.serial]
            async with browser.get(page) as resp:
                first = await resp.text()
            power = _POWER.search(first)
            assert power is not None
            assert power.group(1) == "20000"  # unknown type
            assert 'id="unknown-note"' in first

            device.reload_configuration()  # the configuration is loaded on the inverter
            status, text = await resend()
            assert status == 200
            assert "Die Anfrage wurde an Ihren Datenlogger gesendet" in text
            async with asyncio.timeout(TIMEOUT):
                assert await nameplates.get() == [device.identity.serial]
            async with browser.get(page) as resp:
                second = await resp.text()
            rated = device.design.rated_power
            assert f'data-watts="{rated}"' in second
            assert 'id="unknown-note"' not in second
            assert device.reload_count == 1
        finally:
            stop.set()
            async with asyncio.timeout(10):
                await running
