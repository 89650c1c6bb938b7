"""One Modbus bus (TCP or RTU over RS485) through pymodbus: one request at a time, bounded.

pymodbus speaks Modbus; this module owns the policy around it:

* one request at a time per bus (an :class:`asyncio.Lock`), reads split into requests of at most
  125 registers;
* the connection is opened on first use and again on the next request after it broke (the TCP
  connection is kept open between polls; pymodbus' own background reconnect is switched off so
  that reconnects happen on our schedule);
* every request is bounded: pymodbus retries ``retries`` times after ``timeout_s``, and an outer
  :func:`asyncio.timeout` caps the whole attempt;
* every pymodbus error becomes the most specific :mod:`inverter_agent.errors` error, ``from exc``.
"""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType
from typing import Protocol, Self

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException

from inverter_agent.config import BusConfig, BusKind
from inverter_agent.errors import BusError, DeviceRejectedError, DeviceTimeoutError
from inverter_agent.wiretime import read_sizes

__all__ = ["ModbusBus", "RegisterReader"]

_LOGGER = logging.getLogger(__name__)

ModbusClient = AsyncModbusTcpClient | AsyncModbusSerialClient


class RegisterReader(Protocol):
    """What the SunSpec device code needs from a bus."""

    async def read_holding_registers(self, unit_id: int, address: int, count: int) -> list[int]:
        """``count`` holding registers from ``address`` of device ``unit_id``."""
        ...


class ModbusBus:
    """A Modbus TCP connection or an RS485 line with its devices."""

    def __init__(self, client: ModbusClient, *, name: str, timeout_s: float, retries: int) -> None:
        self._client = client
        self._name = name
        self._timeout_s = timeout_s
        self._retries = retries
        self._lock = asyncio.Lock()

    @classmethod
    def from_config(cls, config: BusConfig) -> ModbusBus:
        client: ModbusClient
        if config.kind is BusKind.TCP:
            name = f"tcp://{config.host}:{config.port}"
            client = AsyncModbusTcpClient(
                config.host,
                port=config.port,
                timeout=config.timeout_s,
                retries=config.retries,
                reconnect_delay=0,
                name=name,
            )
        else:
            name = f"rtu:{config.serial_port}@{config.baudrate}8{config.parity.value}1"
            client = AsyncModbusSerialClient(
                config.serial_port,
                baudrate=config.baudrate,
                bytesize=8,
                parity=config.parity.value,
                stopbits=1,
                timeout=config.timeout_s,
                retries=config.retries,
                reconnect_delay=0,
                name=name,
            )
        return cls(client, name=name, timeout_s=config.timeout_s, retries=config.retries)

    @property
    def name(self) -> str:
        return self._name

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        self._client.close()

    async def read_holding_registers(self, unit_id: int, address: int, count: int) -> list[int]:
        """Read ``count`` registers, in requests of at most 125, one request at a time."""
        registers: list[int] = []
        for size in read_sizes(count):
            registers += await self._read_once(unit_id, address + len(registers), size)
        return registers

    async def _read_once(self, unit_id: int, address: int, count: int) -> list[int]:
        what = f"{self._name} unit {unit_id}: read {count} at {address}"
        async with self._lock:
            await self._ensure_connected()
            try:
                async with asyncio.timeout(self._timeout_s * (self._retries + 2)):
                    response = await self._client.read_holding_registers(
                        address, count=count, device_id=unit_id
                    )
            except TimeoutError as exc:
                raise DeviceTimeoutError(f"{what}: no answer") from exc
            except ModbusIOException as exc:
                raise DeviceTimeoutError(f"{what}: no answer ({exc})") from exc
            except ConnectionException as exc:
                self._client.close()
                raise BusError(f"{what}: connection lost ({exc})") from exc
            except ModbusException as exc:
                raise BusError(f"{what}: {exc}") from exc
            _raise_if_cancelled()
        if response.isError():
            code = int(getattr(response, "exception_code", 0))
            raise DeviceRejectedError(f"{what}: Modbus exception {code}", exception_code=code)
        values = list(response.registers)
        if len(values) != count:
            raise BusError(f"{what}: got {len(values)} registers")
        return values

    async def _ensure_connected(self) -> None:
        try:
            await self._connect()
        finally:
            _raise_if_cancelled()

    async def _connect(self) -> None:
        if self._client.connected:
            return
        try:
            async with asyncio.timeout(self._timeout_s * 2):
                connected = await self._client.connect()
        except (TimeoutError, OSError, ModbusException) as exc:
            self._client.close()
            raise BusError(f"{self._name}: cannot connect ({exc})") from exc
        if not connected:
            self._client.close()
            raise BusError(f"{self._name}: cannot connect")
        _LOGGER.info("%s: connected", self._name)


def _raise_if_cancelled() -> None:
    """Raise the cancellation a pymodbus call returned through.

    pymodbus awaits its answer with ``asyncio.wait_for``, which on Python 3.11 returns the
    answer and drops a cancellation that arrives together with it (CPython gh-86296): the
    agent's stop then went unnoticed and a bus kept identifying inverters. The task still
    counts the request (``Task.cancelling()``), so it is raised here.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
