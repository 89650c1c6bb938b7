"""Live details from the simulator's SunSpec registers through the agent and the ingest to the
inverter's live JSON: DC voltage and current, per-MPPT values, temperatures, SunSpec events."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from cloud_gateway.plants.access import TrialPolicy
from cloud_gateway.telemetry.ingest import TelemetryIngest
from inverter_agent.inverter import SunSpecInverter
from inverter_agent.readings import Reading, build_reading, encode_payload
from simulator.inverter.device import SimulatedInverter
from simulator.inverter.physics import ArrayDesign
from simulator.inverter.readings import Identity
from simulator.inverter.sun import Site as SimSite
from tests.cloud_gateway.monitoring.helpers import AZIMUTH, LAT, LON, RATED_W, TILT, local
from tests.cloud_gateway.monitoring.test_service import DAY
from tests.cloud_gateway.plants.helpers import agent
from tests.cloud_gateway.plants.test_api import code, logged_in
from tests.support.gateway import gateway_harness
from tunnel.clock import ManualClock

SERIAL = "SW240000001"
OVER_TEMPERATURE = 7


class SimulatorBus:
    """The agent's register reader over simulated inverters (no Modbus transport)."""

    def __init__(self, *inverters: SimulatedInverter) -> None:
        self._units = {i.unit_id: i for i in inverters}

    async def read_holding_registers(self, unit_id: int, address: int, count: int) -> list[int]:
        return self._units[unit_id].read_registers(address, count)


async def agent_poll(polled: SunSpecInverter, at: datetime) -> Reading:
    """What the agent sends for one poll of unit 1: its own decoding of the registers."""
    snapshot = await polled.poll()
    assert snapshot.discovery.common is not None
    return build_reading(
        unit=1,
        common=snapshot.discovery.common,
        inverter=snapshot.inverter,
        at=at,
        status=snapshot.status,
        mppt=snapshot.mppt,
    )


async def test_sunspec_details_reach_the_live_json(tmp_path: Path, db_url: str) -> None:
    clock = ManualClock(local(DAY, 12))
    device = SimulatedInverter(
        unit_id=1,
        identity=Identity(
            manufacturer="Sonnwerk", model="SW 5K", options="", version="1", serial=SERIAL
        ),
        design=ArrayDesign(rated_power=RATED_W),
        site=SimSite(latitude=LAT, longitude=LON, tilt=TILT, azimuth=AZIMUTH),
        clock=clock,
        lifetime_wh=1_000_000,
    )
    polled = SunSpecInverter(SimulatorBus(device), 1)

    async def poll_once(seq: int) -> None:
        reading = await agent_poll(polled, clock.now())
        await ingest.ingest(owner_agent, seq, encode_payload(reading))

    async with gateway_harness(tmp_path, db_url, clock) as gw:
        store = gw.gateway.store
        anna = await gw.create_account("anna")
        async with logged_in(gw, "anna") as api:
            _, plant = await api.call("POST", "/api/v1/plants", {"name": "Scheune"})
            body = {"serial": SERIAL, "activation_code": code(SERIAL), "name": "Dach"}
            _, inv = await api.call("POST", f"/api/v1/plants/{plant['id']}/inverters", body)
            owner_agent = await agent(store, clock, anna)
            ingest = TelemetryIngest(store, clock, access=TrialPolicy(), topic_prefix=None)
            url = f"/plants/{plant['id']}/inverters/{inv['id']}/live.json"

            await poll_once(1)
            _, first = await api.call("GET", url)
            expected = device.readings()
            assert first["details_at"] == clock.now().isoformat()
            assert first["dc_voltage_v"] is not None
            assert first["dc_voltage_v"] > 0
            assert first["dc_current_a"] is not None
            assert first["dc_current_a"] > 0
            assert abs(first["temperature_cabinet_c"] - expected.cabinet_temperature) < 0.11
            assert abs(first["temperature_heat_sink_c"] - expected.heatsink_temperature) < 0.11
            assert [m["id"] for m in first["mppt"]] == [1, 2]
            for served, simulated in zip(first["mppt"], expected.mppts, strict=True):
                assert abs(served["dc_voltage_v"] - simulated.voltage) < 0.11
                assert abs(served["dc_power_w"] - simulated.power) < 1.01
            assert first["events"] == []

            # the inverter overheats: the event is stored with its time, then cleared
            clock.advance(timedelta(minutes=1))
            device.set_event(OVER_TEMPERATURE)
            raised_at = clock.now()
            await poll_once(2)
            clock.advance(timedelta(minutes=1))
            await poll_once(3)  # still raised: no second event
            clock.advance(timedelta(minutes=1))
            device.set_event(OVER_TEMPERATURE, active=False)
            await poll_once(4)
            _, last = await api.call("GET", url)
            assert last["events"] == [
                {"at": clock.now().isoformat(), "code": OVER_TEMPERATURE, "active": False},
                {"at": raised_at.isoformat(), "code": OVER_TEMPERATURE, "active": True},
            ]
            assert last["details_at"] == clock.now().isoformat()
