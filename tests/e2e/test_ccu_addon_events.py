"""The whole path: simulated CCU → add-on daemon → tunnel → real gateway over TLS."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from ccu_addon.app import run_addon
from ccu_addon.config import AddonConfig, CcuConfig, GatewayLink
from cloud_gateway.devices.model import Device
from cloud_gateway.http.keys import TUNNELS
from simulator.ccu.catalog import InterfaceName
from simulator.ccu.server import SimulatedCcu
from tests.support.gateway import gateway_harness
from tests.support.hubs import enrol_hub
from tests.tunnel.sessions import until
from tunnel.clock import ManualClock


async def test_ccu_events_arrive_at_the_gateway_through_the_tunnel(
    tmp_path: Path, clock: ManualClock
) -> None:
    received: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()

    async def record(device: Device, seq: int, payload: bytes) -> None:
        await received.put((device.slug, json.loads(payload)))

    db_url = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with (
        gateway_harness(tmp_path, db_url, clock) as harness,
        SimulatedCcu(clock=clock) as ccu,
    ):
        harness.gateway.runner.app[TUNNELS].telemetry_handler = record
        await harness.create_account("anna")
        hub = await enrol_hub(harness, tmp_path / "addon", "anna")
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
        stop = asyncio.Event()
        daemon = asyncio.create_task(run_addon(config, stop, clock=clock))
        try:
            # the CCU has no event for "a client registered": watch its registration table
            await until(lambda: bool(ccu.registrations(InterfaceName.HMIP_RF)))
            ccu.set_value("000A18A9A64DAD:1", "ACTUAL_TEMPERATURE", 19.5)
            async with asyncio.timeout(30):
                while True:
                    slug, body = await received.get()
                    events = [e for e in body["events"] if e["key"] == "ACTUAL_TEMPERATURE"]
                    if events:
                        break
            assert slug == hub.slug
            assert body["kind"] == "ccu_events"
            assert events[0]["address"] == "000A18A9A64DAD:1"
            assert events[0]["value"] == 19.5
        finally:
            stop.set()
            assert await daemon == 0
