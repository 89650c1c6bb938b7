"""The demo's devices: a simulated CCU with the real add-on, an RS485 bus with the real agent.

Ports and the pty path change with every run, so each run writes the device configurations
afresh into the state folder (``ccu-addon/addon.toml``, ``inverter-agent/agent.toml``) and
starts the daemons from those files; keys, certificates, the package cache and the outbox
beside them are kept between runs.

The inverters' clock starts at midsummer noon (11:00 UTC, the sun's highest point in Berlin)
of the current year and then runs with real time, so the sun curve gives power whenever the
demo runs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from ccu_addon.config import AddonConfig, load_addon_config
from inverter_agent.config import AgentConfig, load_agent_config
from simulator.ccu import CcuConfig, InterfaceName, SimulatedCcu
from simulator.inverter import (
    PTY,
    InverterBus,
    InverterModel,
    RtuInverterServer,
    SerialLine,
    ShiftedClock,
)

__all__ = [
    "ADDON_ID",
    "AGENT_NAME",
    "BAUD",
    "INVERTER_COUNT",
    "ccu_session",
    "demo_ccu",
    "inverter_bus",
    "midsummer_noon",
    "rtu_server",
    "write_addon_config",
    "write_agent_config",
]

ADDON_ID = "cloudconnector"
"""The add-on's id on the CCU: its pages live at ``/addons/cloudconnector/``."""
AGENT_NAME = "Demo-Wechselrichter-Agent"
INVERTER_COUNT = 3
INVERTER_SEED = 2026
BAUD = 19200
POLL_INTERVAL_S = 5.0


def _toml(value: Any) -> str:
    """A TOML value for strings, numbers, booleans and lists of those (JSON spells them alike)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, Path):
        value = str(value)
    return json.dumps(value)


def _table(name: str | None, values: dict[str, Any]) -> str:
    head = f"[{name}]\n" if name else ""
    return head + "".join(f"{key} = {_toml(value)}\n" for key, value in values.items())


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# written by `simulator demo` on every start\n" + text, encoding="utf-8")


def demo_ccu() -> SimulatedCcu:
    """The simulated CCU; its WebUI sessions last a day so a printed dashboard link keeps."""
    return SimulatedCcu(CcuConfig(session_timeout=86400.0))


def write_addon_config(
    state_dir: Path, *, gateway_url: str, ca_file: Path, ccu: SimulatedCcu
) -> AddonConfig:
    """``state_dir/addon.toml`` for this run, loaded back as the add-on loads it."""
    path = state_dir / "addon.toml"
    text = _table(None, {"state_dir": state_dir, "listen_host": "127.0.0.1", "listen_port": 0})
    text += _table("gateway", {"url": gateway_url, "ca_file": ca_file})
    text += _table(
        "ccu",
        {
            "webui_url": ccu.webui_url + "/",
            "jsonrpc_url": f"{ccu.webui_url}/api/homematic.cgi",
            "xmlrpc_urls": [ccu.xmlrpc_url(name) for name in InterfaceName],
        },
    )
    _write(path, text)
    return load_addon_config(path)


def write_agent_config(
    state_dir: Path, *, gateway_url: str, ca_file: Path, serial_port: str, unit_ids: Sequence[int]
) -> AgentConfig:
    """``state_dir/agent.toml`` for this run, loaded back as the agent loads it.

    The pty refuses even parity, so the agent opens it as 8N1 while the simulated bus keeps
    the timing of 8E1 (docs/simulator-inverters.md).
    """
    path = state_dir / "agent.toml"
    text = _table(None, {"state_dir": state_dir})
    text += _table("gateway", {"url": gateway_url, "ca_file": ca_file, "device_name": AGENT_NAME})
    text += "\n[[buses]]\n" + _table(
        None,
        {
            "kind": "rtu",
            "serial_port": serial_port,
            "baudrate": BAUD,
            "parity": "N",
            "unit_ids": list(unit_ids),
            "poll_interval_s": POLL_INTERVAL_S,
            "timeout_s": 1.0,
            "turnaround_s": 0.0,
        },
    )
    _write(path, text)
    return load_agent_config(path)


def midsummer_noon(now: datetime) -> datetime:
    """11:00 UTC on 21 June of ``now``'s year: the sun stands highest over Berlin."""
    return datetime(now.year, 6, 21, 11, 0, tzinfo=UTC)


def inverter_bus(start: datetime) -> InverterBus:
    """Three inverters (unit ids 1..3) on a clock from ``start``, running with real time."""
    clock = ShiftedClock(start)
    return InverterBus.generate(
        INVERTER_COUNT, seed=INVERTER_SEED, clock=clock, model=InverterModel.INTEGER
    )


def rtu_server(bus: InverterBus) -> RtuInverterServer:
    """The bus as Modbus RTU on a fresh pty, timed as 8E1."""
    return RtuInverterServer(bus, PTY, SerialLine(baud=BAUD, parity="E"))


async def ccu_session(ccu: SimulatedCcu) -> str:
    """Log in to the simulated CCU's JSON-RPC (``Session.login``): a WebUI ``sid``, bare."""
    body = {
        "version": "1.1",
        "id": 1,
        "method": "Session.login",
        "params": {"username": ccu.config.username, "password": ccu.config.password},
    }
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{ccu.webui_url}/api/homematic.cgi", json=body) as resp,
    ):
        answer = await resp.json(content_type=None)
    sid = answer.get("result") if isinstance(answer, dict) else None
    if not isinstance(sid, str):
        raise PermissionError(f"the simulated CCU refused Session.login: {answer!r}")
    return sid
