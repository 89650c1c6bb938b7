"""The whole agent against the shared simulated inverters and real tunnel sessions in memory."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from inverter_agent.agent import Agent
from inverter_agent.config import AgentConfig, BusConfig, GatewayLink
from inverter_agent.scheduler import InverterState
from simulator.inverter import InverterModel, PendingConfiguration
from tests.inverter_agent.gateway_pair import MemoryLink
from tests.inverter_agent.simulated import inverters, rtu_inverters, tcp_inverters
from tunnel.clock import ManualClock

TIMEOUT = 15.0


@contextlib.asynccontextmanager
async def running(agent: Agent) -> AsyncIterator[Agent]:
    stop = asyncio.Event()
    task = asyncio.create_task(agent.run(stop), name="agent")
    try:
        async with asyncio.timeout(TIMEOUT):
            await agent.started.wait()
        yield agent
    finally:
        stop.set()
        async with asyncio.timeout(TIMEOUT):
            await task


def agent_config(tmp_path: Path, *buses: BusConfig) -> AgentConfig:
    return AgentConfig(state_dir=tmp_path, buses=buses, gateway=GatewayLink(max_in_flight=4))


async def test_tcp_buses_with_103_and_113_inverters_reach_the_gateway(
    tmp_path: Path, clock: ManualClock
) -> None:
    int_sim, float_sim = inverters(1), inverters(1, model=InverterModel.FLOAT, seed=2)
    link = MemoryLink()
    async with (
        tcp_inverters(int_sim) as (_, int_bus),
        tcp_inverters(float_sim) as (_, float_bus),
    ):
        agent = Agent(agent_config(tmp_path, int_bus, float_bus), clock=clock, channels=link)
        async with running(agent):
            await link.connect()
            async with asyncio.timeout(TIMEOUT):
                for runner in agent.runners:
                    await runner.wait_cycles(1)
                    runner.wake()  # the second cycle now, not after the interval
                    await runner.wait_cycles(2)
                assert agent.outbox is not None
                assert agent.uplink is not None
                assert agent.sink is not None
                await agent.uplink.wait_acked(agent.sink.last_seq)
            assert (await agent.outbox.stats()).pending == 0
        await link.close()
    infos = {}
    readings = []
    for _, payload in link.received:
        for item in json.loads(payload):
            if item["k"] == "info":
                infos[item["sn"]] = item
            else:
                readings.append(item)
    for sim, model in ((int_sim, 103), (float_sim, 113)):
        device = sim[1]
        info = infos[device.identity.serial]
        assert info["models"] == [1, model, 120, 122, 160]
        assert info["mn"] == device.identity.manufacturer
        assert info["wrtg"] == device.design.rated_power
        mine = [r for r in readings if r["sn"] == device.identity.serial]
        assert len(mine) >= 2
        assert mine[-1]["w"] == pytest.approx(device.readings().ac_power, abs=1.0)
        assert mine[-1]["ts"] == int(clock.now().timestamp() * 1000)


async def test_rtu_bus_keeps_polling_while_one_inverter_is_offline(
    tmp_path: Path, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    sim = inverters(3)
    sim[2].set_offline()
    template = BusConfig(timeout_s=0.3, retries=0, turnaround_s=0.0, poll_interval_s=30.0)
    async with rtu_inverters(sim, template) as (_, bus_config):
        config = AgentConfig(
            state_dir=tmp_path, buses=(bus_config,), gateway=GatewayLink(enabled=False)
        )
        agent = Agent(config, clock=clock)
        with caplog.at_level(logging.WARNING, logger="inverter_agent.scheduler"):
            async with running(agent):
                (runner,) = agent.runners
                report = await runner.wait_cycles(1)
                assert agent.outbox is not None
                entries = await agent.outbox.batch(10)
    assert (report.polled, report.failed) == ((1, 3), (2,))
    health = {h.unit_id: h for h in agent.health()}
    assert health[2].state is InverterState.OFFLINE
    assert health[2].last_error is not None
    assert "DeviceTimeoutError" in health[2].last_error
    assert health[1].state is health[3].state is InverterState.OK
    assert "unit 2: offline" in caplog.text
    (entry,) = entries
    serials = {item["sn"] for item in json.loads(entry.payload) if item["k"] == "reading"}
    assert serials == {sim[1].identity.serial, sim[3].identity.serial}


async def test_unknown_type_reports_no_nominal_power(tmp_path: Path, clock: ManualClock) -> None:
    sim = inverters(2)
    sim[2].unknown_type = True
    async with tcp_inverters(sim) as (_, bus_config):
        agent = Agent(
            AgentConfig(
                state_dir=tmp_path, buses=(bus_config,), gateway=GatewayLink(enabled=False)
            ),
            clock=clock,
        )
        async with running(agent):
            await agent.runners[0].wait_cycles(1)
            assert agent.outbox is not None
            (entry,) = await agent.outbox.batch(10)
    infos = {i["unit"]: i for i in json.loads(entry.payload) if i["k"] == "info"}
    assert infos[1]["wrtg"] == sim[1].design.rated_power
    assert "wrtg" not in infos[2]  # unknown: the gateway counts it as 20,000 W
    assert 120 not in infos[2]["models"]


async def test_resend_configuration_sends_the_corrected_nameplate(
    tmp_path: Path, clock: ManualClock
) -> None:
    sim = inverters(1)
    device = sim[1]
    device.pending_configuration = PendingConfiguration.WRONG
    async with tcp_inverters(sim, BusConfig(timeout_s=2.0, poll_interval_s=3600.0)) as (_, bus):
        agent = Agent(agent_config(tmp_path, bus), clock=clock, channels=(link := MemoryLink()))
        link.on_control = agent.handle_control
        async with running(agent):
            connection = await link.connect()
            first = await link.next_payload("info")
            assert first["wrtg"] == 3000  # the factory nameplate
            device.reload_configuration()  # the vendor fix, on the inverter's side
            await connection.gateway.send_control({"type": "resend_configuration"})
            second = await link.next_payload("info")
            assert second["wrtg"] == device.design.rated_power
            assert second["sn"] == device.identity.serial
        await link.close()


async def test_config_update_changes_the_poll_interval(tmp_path: Path, clock: ManualClock) -> None:
    async with tcp_inverters(inverters(1), BusConfig(poll_interval_s=3600.0)) as (_, bus):
        agent = Agent(agent_config(tmp_path, bus), clock=clock, channels=MemoryLink())
        async with running(agent):
            (runner,) = agent.runners
            await runner.wait_cycles(1)
            await agent.handle_control({"type": "config_update", "poll_interval_s": 1.0})
            assert runner.interval_s == 1.0
            async with asyncio.timeout(TIMEOUT):
                await runner.wait_cycles(runner.cycles + 2)  # woken at once, then 1 s later
            await agent.handle_control({"type": "config_update", "poll_interval_s": 0.01})
            assert runner.interval_s == 1.0  # out of range: ignored
