"""The JSON-RPC API (``/api/homematic.cgi``) of the simulated CCU, over real sockets."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from simulator.ccu import CcuConfig, SimulatedCcu
from tests.simulator.ccu_support import CallbackServer, call, jsonrpc
from tunnel.clock import ManualClock

TRV = "000A18A9A64DAD"
METER = "MEQ0123402"


@pytest.fixture
async def ccu(clock: ManualClock) -> AsyncIterator[SimulatedCcu]:
    async with SimulatedCcu(CcuConfig(session_timeout=600), clock=clock) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def login(http: aiohttp.ClientSession, ccu: SimulatedCcu) -> str:
    answer = await jsonrpc(http, ccu.webui_url, "Session.login", username="Admin", password="admin")
    sid = answer["result"]
    assert isinstance(sid, str)
    return sid


def error_of(answer: dict[str, Any]) -> tuple[int, str]:
    assert answer["result"] is None
    assert answer["error"]["name"] == "JSONRPCError"
    return answer["error"]["code"], answer["error"]["message"]


async def test_login_returns_a_session_id(ccu: SimulatedCcu, http: aiohttp.ClientSession) -> None:
    answer = await jsonrpc(
        http, ccu.webui_url, "Session.login", 7, username="Admin", password="admin"
    )
    assert set(answer) == {"id", "version", "result", "error"}
    assert answer["id"] == 7
    assert answer["version"] == "1.1"
    assert answer["error"] is None
    assert re.fullmatch(r"[A-Za-z0-9]{10}", answer["result"])


async def test_wrong_password(ccu: SimulatedCcu, http: aiohttp.ClientSession) -> None:
    answer = await jsonrpc(http, ccu.webui_url, "Session.login", username="Admin", password="x")
    assert error_of(answer) == (501, "invalid credentials or too many sessions")


async def test_methods_need_a_session(ccu: SimulatedCcu, http: aiohttp.ClientSession) -> None:
    answer = await jsonrpc(http, ccu.webui_url, "CCU.getSerial")
    assert error_of(answer) == (400, 'access denied ("GUEST" needed 0)')
    answer = await jsonrpc(http, ccu.webui_url, "CCU.getSerial", _session_id_="nonsense00")
    assert error_of(answer)[0] == 400


async def test_ccu_serial_and_version(ccu: SimulatedCcu, http: aiohttp.ClientSession) -> None:
    sid = await login(http, ccu)
    serial = await jsonrpc(http, ccu.webui_url, "CCU.getSerial", _session_id_=sid)
    version = await jsonrpc(http, ccu.webui_url, "CCU.getVersion", _session_id_=sid)
    assert serial["result"] == "OEQ1234567"
    assert version["result"] == ccu.config.version


async def test_list_devices_in_json_names(ccu: SimulatedCcu, http: aiohttp.ClientSession) -> None:
    sid = await login(http, ccu)
    answer = await jsonrpc(
        http, ccu.webui_url, "Interface.listDevices", _session_id_=sid, interface="HmIP-RF"
    )
    devices = {d["address"]: d for d in answer["result"]}
    assert devices[TRV]["type"] == "HmIP-eTRV"
    assert devices[TRV]["children"] == [f"{TRV}:0", f"{TRV}:1"]
    assert devices[f"{TRV}:1"]["parentType"] == "HmIP-eTRV"
    assert METER not in devices


async def test_get_and_set_value(ccu: SimulatedCcu, http: aiohttp.ClientSession) -> None:
    sid = await login(http, ccu)
    base = {"_session_id_": sid, "interface": "HmIP-RF", "address": f"{TRV}:1"}
    answer = await jsonrpc(
        http, ccu.webui_url, "Interface.setValue", **base, valueKey="SET_POINT_TEMPERATURE",
        type="double", value="19.5",
    )  # fmt: skip
    assert answer["result"] is True
    answer = await jsonrpc(
        http, ccu.webui_url, "Interface.getValue", **base, valueKey="SET_POINT_TEMPERATURE"
    )
    assert answer["result"] == 19.5
    answer = await jsonrpc(http, ccu.webui_url, "Interface.getValue", **base, valueKey="NOPE")
    assert error_of(answer)[0] == 501


async def test_set_value_sends_xmlrpc_events(
    ccu: SimulatedCcu, http: aiohttp.ClientSession
) -> None:
    receiver = CallbackServer()
    await receiver.start()
    try:
        await call(http, ccu.xmlrpc_url(ccu.store.interface_of(TRV)), "init", receiver.url, "cc")
        sid = await login(http, ccu)
        await jsonrpc(
            http, ccu.webui_url, "Interface.setValue", _session_id_=sid, interface="HmIP-RF",
            address=f"{TRV}:1", valueKey="BOOST_MODE", type="boolean", value="true",
        )  # fmt: skip
        assert (await receiver.next_event(f"{TRV}:1", "BOOST_MODE"))[3] is True
    finally:
        await receiver.stop()


async def test_sysvars(ccu: SimulatedCcu, http: aiohttp.ClientSession) -> None:
    sid = await login(http, ccu)
    answer = await jsonrpc(http, ccu.webui_url, "SysVar.getAll", _session_id_=sid)
    names = {sysvar["name"]: sysvar for sysvar in answer["result"]}
    assert names["Anwesenheit"]["type"] == "LOGIC"
    assert names["Anwesenheit"]["value"] == "true"
    for sysvar in answer["result"]:
        assert {"id", "name", "type", "value", "unit", "isInternal"} <= set(sysvar)


async def test_renew_and_logout(ccu: SimulatedCcu, http: aiohttp.ClientSession) -> None:
    sid = await login(http, ccu)
    assert (await jsonrpc(http, ccu.webui_url, "Session.renew", _session_id_=sid))["result"] is True
    assert (await jsonrpc(http, ccu.webui_url, "Session.logout", _session_id_=sid))[
        "result"
    ] is True
    assert (await jsonrpc(http, ccu.webui_url, "Session.renew", _session_id_=sid))[
        "result"
    ] is False
    answer = await jsonrpc(http, ccu.webui_url, "CCU.getSerial", _session_id_=sid)
    assert error_of(answer)[0] == 400


async def test_session_expires_on_the_clock(
    ccu: SimulatedCcu, clock: ManualClock, http: aiohttp.ClientSession
) -> None:
    sid = await login(http, ccu)
    clock.advance(599)
    assert (await jsonrpc(http, ccu.webui_url, "Session.renew", _session_id_=sid))["result"] is True
    clock.advance(599)  # renewed above: still alive
    assert (await jsonrpc(http, ccu.webui_url, "CCU.getSerial", _session_id_=sid))["error"] is None
    clock.advance(600)
    assert (await jsonrpc(http, ccu.webui_url, "Session.renew", _session_id_=sid))[
        "result"
    ] is False


async def test_restart_ends_sessions(ccu: SimulatedCcu, http: aiohttp.ClientSession) -> None:
    sid = await login(http, ccu)
    await ccu.restart()
    assert (await jsonrpc(http, ccu.webui_url, "Session.renew", _session_id_=sid))[
        "result"
    ] is False


async def test_request_without_id_gets_answer_without_id(
    ccu: SimulatedCcu, http: aiohttp.ClientSession
) -> None:
    answer = await jsonrpc(http, ccu.webui_url, "CCU.getAuthEnabled", None)
    assert answer == {"version": "1.1", "result": True, "error": None}


async def test_malformed_requests(ccu: SimulatedCcu, http: aiohttp.ClientSession) -> None:
    url = f"{ccu.webui_url}/api/homematic.cgi"
    async with http.post(url, data=b"{nope") as response:
        assert error_of(await response.json())[0] == 100
    async with http.post(url, json={"id": 1, "params": {}}) as response:
        assert error_of(await response.json())[0] == 102
    answer = await jsonrpc(http, ccu.webui_url, "Nope.nothing")
    assert error_of(answer) == (401, "method 'Nope.nothing' not found")


async def test_list_interfaces_reports_the_ports(
    ccu: SimulatedCcu, http: aiohttp.ClientSession
) -> None:
    sid = await login(http, ccu)
    answer = await jsonrpc(http, ccu.webui_url, "Interface.listInterfaces", _session_id_=sid)
    ports = {entry["name"]: entry["port"] for entry in answer["result"]}
    assert ports == {"BidCos-RF": ccu.bidcos_port, "HmIP-RF": ccu.hmip_port}
