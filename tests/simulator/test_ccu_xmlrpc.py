"""The XML-RPC interfaces of the simulated CCU, through real sockets on loopback."""

from __future__ import annotations

import asyncio
import xmlrpc.client
from collections.abc import AsyncIterator

import aiohttp
import pytest

from simulator.ccu import CcuConfig, InterfaceName, SimulatedCcu
from tests.simulator.ccu_support import CallbackServer, call
from tunnel.clock import ManualClock

SWITCH = "LEQ1234501"
METER = "MEQ0123402"
PLUG = "0001D3C98DD4B6"
TRV = "000A18A9A64DAD"
WINDOW = "0000D3C99C3C93"


@pytest.fixture
async def ccu(clock: ManualClock) -> AsyncIterator[SimulatedCcu]:
    async with SimulatedCcu(CcuConfig(seed=3), clock=clock) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackServer]:
    server = CallbackServer()
    await server.start()
    yield server
    await server.stop()


def bidcos(ccu: SimulatedCcu) -> str:
    return ccu.xmlrpc_url(InterfaceName.BIDCOS_RF)


def hmip(ccu: SimulatedCcu) -> str:
    return ccu.xmlrpc_url(InterfaceName.HMIP_RF)


async def test_each_interface_has_its_own_port(ccu: SimulatedCcu) -> None:
    ports = {ccu.webui_port, ccu.bidcos_port, ccu.hmip_port}
    assert len(ports) == 3
    assert 0 not in ports
    assert ccu.ports == {
        "webui": ccu.webui_port,
        "BidCos-RF": ccu.bidcos_port,
        "HmIP-RF": ccu.hmip_port,
    }


async def test_system_list_methods(ccu: SimulatedCcu, http: aiohttp.ClientSession) -> None:
    methods = await call(http, hmip(ccu), "system.listMethods")
    for name in ("init", "ping", "listDevices", "getParamset", "getParamsetDescription",
                 "getValue", "setValue", "system.multicall"):  # fmt: skip
        assert name in methods


async def test_list_devices_per_interface(ccu: SimulatedCcu, http: aiohttp.ClientSession) -> None:
    bidcos_devices = await call(http, bidcos(ccu), "listDevices")
    hmip_devices = await call(http, hmip(ccu), "listDevices", "client-HmIP-RF")
    assert {d["ADDRESS"] for d in bidcos_devices if not d["PARENT"]} == {SWITCH, METER}
    assert {d["ADDRESS"] for d in hmip_devices if not d["PARENT"]} == {PLUG, TRV, WINDOW}
    device = next(d for d in hmip_devices if d["ADDRESS"] == TRV)
    assert device["TYPE"] == "HmIP-eTRV"
    assert device["CHILDREN"] == [f"{TRV}:0", f"{TRV}:1"]
    assert device["PARAMSETS"] == ["MASTER"]
    for key in ("FLAGS", "VERSION", "FIRMWARE", "RX_MODE", "INTERFACE", "UPDATABLE"):
        assert key in device
    channel = next(d for d in hmip_devices if d["ADDRESS"] == f"{TRV}:1")
    assert channel["PARENT"] == TRV
    assert channel["PARENT_TYPE"] == "HmIP-eTRV"
    assert channel["TYPE"] == "HEATING_CLIMATECONTROL_TRANSCEIVER"
    assert channel["INDEX"] == 1
    assert "VALUES" in channel["PARAMSETS"]


async def test_device_description(ccu: SimulatedCcu, http: aiohttp.ClientSession) -> None:
    description = await call(http, bidcos(ccu), "getDeviceDescription", f"{METER}:2")
    assert description["TYPE"] == "POWERMETER"
    with pytest.raises(xmlrpc.client.Fault) as info:
        await call(http, bidcos(ccu), "getDeviceDescription", TRV)  # an HmIP device
    assert info.value.faultCode == -2


async def test_paramset_description(ccu: SimulatedCcu, http: aiohttp.ClientSession) -> None:
    values = await call(http, hmip(ccu), "getParamsetDescription", f"{TRV}:1", "VALUES")
    setpoint = values["SET_POINT_TEMPERATURE"]
    assert setpoint["TYPE"] == "FLOAT"
    assert setpoint["OPERATIONS"] == 7
    assert (setpoint["MIN"], setpoint["MAX"], setpoint["UNIT"]) == (4.5, 30.5, "°C")
    assert values["VALVE_STATE"]["VALUE_LIST"][4] == "ADAPTION_DONE"
    master = await call(http, bidcos(ccu), "getParamsetDescription", f"{SWITCH}:1", "MASTER")
    assert master["POWERUP_ACTION"]["TYPE"] == "ENUM"
    with pytest.raises(xmlrpc.client.Fault) as info:
        await call(http, hmip(ccu), "getParamsetDescription", f"{TRV}:1", "LINKS")
    assert info.value.faultCode == -3


async def test_get_paramset(ccu: SimulatedCcu, http: aiohttp.ClientSession) -> None:
    values = await call(http, bidcos(ccu), "getParamset", f"{METER}:2", "VALUES")
    assert set(values) >= {"POWER", "ENERGY_COUNTER", "CURRENT", "VOLTAGE", "FREQUENCY"}
    assert values["POWER"] > 0
    master = await call(http, bidcos(ccu), "getParamset", f"{SWITCH}:1", "MASTER")
    assert master == {"POWERUP_ACTION": 0}


async def test_get_and_set_value(ccu: SimulatedCcu, http: aiohttp.ClientSession) -> None:
    url = hmip(ccu)
    assert await call(http, url, "setValue", f"{TRV}:1", "SET_POINT_TEMPERATURE", 23) == ""
    assert await call(http, url, "getValue", f"{TRV}:1", "SET_POINT_TEMPERATURE") == 23.0
    await call(http, url, "setValue", f"{TRV}:1", "SET_POINT_TEMPERATURE", 99.0)
    assert await call(http, url, "getValue", f"{TRV}:1", "SET_POINT_TEMPERATURE") == 30.5
    await call(http, url, "setValue", f"{PLUG}:3", "STATE", True)
    assert await call(http, url, "getValue", f"{PLUG}:1", "STATE") is True


@pytest.mark.parametrize(
    ("address", "key", "code"),
    [("NOPE000000:1", "STATE", -2), (f"{TRV}:1", "NOPE", -5), (f"{TRV}:1", "LEVEL", -5)],
)
async def test_set_value_faults(
    ccu: SimulatedCcu, http: aiohttp.ClientSession, address: str, key: str, code: int
) -> None:
    with pytest.raises(xmlrpc.client.Fault) as info:
        await call(http, hmip(ccu), "setValue", address, key, 1.0)
    assert info.value.faultCode == code


async def test_put_paramset(ccu: SimulatedCcu, http: aiohttp.ClientSession) -> None:
    url = bidcos(ccu)
    await call(http, url, "putParamset", f"{SWITCH}:1", "MASTER", {"POWERUP_ACTION": 1})
    await call(http, url, "putParamset", f"{SWITCH}:1", "VALUES", {"STATE": True})
    assert await call(http, url, "getParamset", f"{SWITCH}:1", "MASTER") == {"POWERUP_ACTION": 1}
    assert ccu.get_value(f"{SWITCH}:1", "STATE") is True


async def test_system_multicall(ccu: SimulatedCcu, http: aiohttp.ClientSession) -> None:
    results = await call(
        http,
        bidcos(ccu),
        "system.multicall",
        [
            {"methodName": "getValue", "params": [f"{METER}:1", "STATE"]},
            {"methodName": "getValue", "params": [f"{METER}:1", "NOPE"]},
            {"methodName": "ping", "params": ["x"]},
        ],
    )
    assert results[0] == [True]
    assert results[1]["faultCode"] == -5
    assert results[2] == [True]


async def test_unknown_method_is_a_fault(ccu: SimulatedCcu, http: aiohttp.ClientSession) -> None:
    with pytest.raises(xmlrpc.client.Fault) as info:
        await call(http, bidcos(ccu), "reboot")
    assert info.value.faultCode == -1


async def test_init_sends_new_devices_then_events(
    ccu: SimulatedCcu, http: aiohttp.ClientSession, receiver: CallbackServer
) -> None:
    assert await call(http, hmip(ccu), "init", receiver.url, "cc-HmIP-RF") == ""
    interface_id, descriptions = await receiver.next_call("newDevices")
    assert interface_id == "cc-HmIP-RF"
    assert {d["ADDRESS"] for d in descriptions} >= {TRV, f"{TRV}:1", PLUG, WINDOW}
    assert all(not d["ADDRESS"].startswith("LEQ") for d in descriptions)
    assert ccu.registrations(InterfaceName.HMIP_RF) == {"cc-HmIP-RF": receiver.url}

    await call(http, hmip(ccu), "setValue", f"{TRV}:1", "SET_POINT_TEMPERATURE", 22.5)
    event = await receiver.next_event(f"{TRV}:1", "SET_POINT_TEMPERATURE")
    assert event == ["cc-HmIP-RF", f"{TRV}:1", "SET_POINT_TEMPERATURE", 22.5]

    ccu.set_value(f"{WINDOW}:1", "STATE", 1)
    assert await receiver.next_event(f"{WINDOW}:1", "STATE") == [
        "cc-HmIP-RF",
        f"{WINDOW}:1",
        "STATE",
        1,
    ]
    assert "system.multicall" in receiver.methods_seen
    assert "listDevices" in receiver.methods_seen


async def test_known_devices_are_not_announced_again(
    ccu: SimulatedCcu, http: aiohttp.ClientSession
) -> None:
    receiver = CallbackServer(known=(SWITCH, f"{SWITCH}:0", f"{SWITCH}:1"))
    await receiver.start()
    try:
        await call(http, bidcos(ccu), "init", receiver.url, "cc-BidCos-RF")
        _, descriptions = await receiver.next_call("newDevices")
        assert {d["ADDRESS"].split(":")[0] for d in descriptions} == {METER}
    finally:
        await receiver.stop()


async def test_plain_event_receiver(ccu: SimulatedCcu, http: aiohttp.ClientSession) -> None:
    receiver = CallbackServer(multicall=False)
    await receiver.start()
    try:
        await call(http, bidcos(ccu), "init", receiver.url, "plain")
        await receiver.next_call("newDevices")
        ccu.set_value(f"{SWITCH}:1", "STATE", True)
        assert await receiver.next_event(f"{SWITCH}:1", "STATE") == [
            "plain",
            f"{SWITCH}:1",
            "STATE",
            True,
        ]
    finally:
        await receiver.stop()


async def test_ping_sends_pong(
    ccu: SimulatedCcu, http: aiohttp.ClientSession, receiver: CallbackServer
) -> None:
    await call(http, bidcos(ccu), "init", receiver.url, "cc-BidCos-RF")
    assert await call(http, bidcos(ccu), "ping", "cc-BidCos-RF") is True
    event = await receiver.next_event("CENTRAL", "PONG")
    assert event == ["cc-BidCos-RF", "CENTRAL", "PONG", "cc-BidCos-RF"]


async def test_init_without_interface_id_unregisters(
    ccu: SimulatedCcu, http: aiohttp.ClientSession, receiver: CallbackServer
) -> None:
    await call(http, bidcos(ccu), "init", receiver.url, "cc-BidCos-RF")
    await receiver.next_call("newDevices")
    await call(http, bidcos(ccu), "init", receiver.url, "")
    assert ccu.registrations(InterfaceName.BIDCOS_RF) == {}
    await call(http, bidcos(ccu), "init", receiver.url)
    assert ccu.registrations(InterfaceName.BIDCOS_RF) == {}


async def test_tick_sends_live_values(
    ccu: SimulatedCcu, clock: ManualClock, http: aiohttp.ClientSession, receiver: CallbackServer
) -> None:
    await call(http, bidcos(ccu), "init", receiver.url, "cc")
    await receiver.next_call("newDevices")
    before = ccu.get_value(f"{METER}:2", "ENERGY_COUNTER")
    clock.advance(60)
    changes = ccu.tick()
    assert any(change.key == "ENERGY_COUNTER" for change in changes)
    event = await receiver.next_event(f"{METER}:2", "ENERGY_COUNTER")
    assert event[3] > before


async def test_pairing_announces_new_device(
    ccu: SimulatedCcu, http: aiohttp.ClientSession, receiver: CallbackServer
) -> None:
    await call(http, hmip(ccu), "init", receiver.url, "cc")
    await receiver.next_call("newDevices")
    ccu.pair("0001D3C98DD4FF", "HmIP-PS")
    _, descriptions = await receiver.next_call("newDevices")
    assert descriptions[0]["ADDRESS"] == "0001D3C98DD4FF"


async def test_restart_keeps_ports_and_drops_registrations(
    ccu: SimulatedCcu, http: aiohttp.ClientSession, receiver: CallbackServer
) -> None:
    ports = ccu.ports
    await call(http, hmip(ccu), "init", receiver.url, "cc")
    await receiver.next_call("newDevices")
    await ccu.restart()
    assert ccu.ports == ports
    assert ccu.registrations(InterfaceName.HMIP_RF) == {}
    assert await call(http, hmip(ccu), "ping", "cc") is True
    # the client registers again and gets the devices again
    await call(http, hmip(ccu), "init", receiver.url, "cc")
    await receiver.next_call("newDevices")
    ccu.set_value(f"{TRV}:1", "ACTUAL_TEMPERATURE", 19.0)
    assert (await receiver.next_event(f"{TRV}:1", "ACTUAL_TEMPERATURE"))[3] == 19.0


async def test_stopped_ccu_refuses_connections(
    ccu: SimulatedCcu, http: aiohttp.ClientSession
) -> None:
    await ccu.stop()
    with pytest.raises(aiohttp.ClientConnectionError):
        await call(http, hmip(ccu), "ping", "cc")
    await ccu.start()


async def test_unreachable_callback_is_dropped(
    clock: ManualClock, http: aiohttp.ClientSession
) -> None:
    receiver = CallbackServer()
    await receiver.start()
    url = receiver.url
    await receiver.stop()  # nobody listens there any more
    async with SimulatedCcu(CcuConfig(callback_failure_limit=2), clock=clock) as ccu:
        await call(http, bidcos(ccu), "init", url, "gone")
        ccu.set_value(f"{SWITCH}:1", "STATE", True)
        ccu.set_value(f"{SWITCH}:1", "STATE", False)
        # white box: wait for the delivery task to give up
        task = ccu._hubs[InterfaceName.BIDCOS_RF]._receivers["gone"].task
        async with asyncio.timeout(5):
            await task
        assert ccu.registrations(InterfaceName.BIDCOS_RF) == {}
