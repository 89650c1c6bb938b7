"""``simulator inverters`` and ``simulator inverter-labels`` as separate processes."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from simulator.inverter.activation import activation_code
from simulator.inverter.rtu import encode_frame
from tests.simulator.test_inverter_rtu import raw_port


@asynccontextmanager
async def simulator(*args: str) -> AsyncIterator[tuple[asyncio.subprocess.Process, dict[str, Any]]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simulator.cli", *args, "--print-json", "--log-level", "WARNING",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        async with asyncio.timeout(20):
            line = await process.stdout.readline()
        assert line, (await process.stderr.read()).decode() if process.stderr else ""
        yield process, json.loads(line)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(20):
            await process.communicate()


async def test_tcp_print_json_and_serve() -> None:
    args = ("inverters", "--modbus-tcp", "127.0.0.1:0", "--count", "3", "--model", "113")
    async with simulator(*args, "--seed", "4") as (process, facts):
        assert facts["transport"] == "tcp"
        assert facts["model"] == 113
        assert [inv["unit_id"] for inv in facts["inverters"]] == [1, 2, 3]
        for inv in facts["inverters"]:
            assert inv["activation_code"] == activation_code(inv["serial"])
        client = AsyncModbusTcpClient("127.0.0.1", port=facts["port"], timeout=3, retries=0)
        assert await client.connect()
        try:
            reply = await client.read_holding_registers(40000, count=4, device_id=3)
        finally:
            client.close()
        assert reply.registers == [0x5375, 0x6E53, 1, 66]
    assert process.returncode == 0


async def test_rtu_pty_print_json_and_serve() -> None:
    args = ("inverters", "--rtu", "pty", "--baud", "38400", "--parity", "E", "--count", "2")
    async with simulator(*args, "--fault", "2:offline") as (process, facts):
        assert facts["transport"] == "rtu"
        assert (facts["baud"], facts["parity"]) == (38400, "E")
        with raw_port(facts["path"]) as port:
            port.send(encode_frame(2, bytes([3, 0x9C, 0x40, 0, 2])))  # offline: silent
            port.send(encode_frame(1, bytes([3, 0x9C, 0x40, 0, 2])))
            received = await port.read(9)
        assert received == encode_frame(1, bytes([3, 4, 0x53, 0x75, 0x6E, 0x53]))
    assert process.returncode == 0


async def test_inverter_labels() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simulator.cli", "inverter-labels", "--count", "2", "--seed", "4",
        "--json",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(20):
        out, _ = await process.communicate()
    assert process.returncode == 0
    labels = [json.loads(line) for line in out.decode().splitlines()]
    assert len(labels) == 2
    assert all(label["activation_code"] == activation_code(label["serial"]) for label in labels)


async def test_config_file_is_read_and_options_win(tmp_path: Path) -> None:
    config = tmp_path / "inverters.toml"
    config.write_text(
        'modbus_tcp = "127.0.0.1:0"\ncount = 4\nmodel = 113\nseed = 4\nfaults = ["2:offline"]\n'
    )
    async with simulator("inverters", "--config", str(config), "--count", "2") as (_, facts):
        assert facts["model"] == 113
        assert [inv["unit_id"] for inv in facts["inverters"]] == [1, 2]
        client = AsyncModbusTcpClient("127.0.0.1", port=facts["port"], timeout=1, retries=0)
        assert await client.connect()
        try:
            reply = await client.read_holding_registers(40000, count=2, device_id=1)
            assert reply.registers == [0x5375, 0x6E53]
            with pytest.raises(ModbusException):  # unit 2 is offline, as the file says
                await client.read_holding_registers(40000, count=2, device_id=2)
        finally:
            client.close()
