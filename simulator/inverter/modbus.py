"""Modbus application layer (PDU) for a register device: requests in, responses out (pure).

Function codes 3 and 4 read (both see the same registers), 6 and 16 write. Errors become
exception responses: 1 illegal function, 2 illegal data address, 3 illegal data value.
The transport (TCP's MBAP header, RTU's address and CRC) is somebody else's job.
"""

from __future__ import annotations

import struct
from enum import IntEnum
from typing import Protocol

__all__ = [
    "ExceptionCode",
    "FunctionCode",
    "ModbusError",
    "RegisterDevice",
    "exception_response",
    "handle_request",
]

MAX_READ = 125
MAX_WRITE = 123


class FunctionCode(IntEnum):
    """The function codes this device answers."""

    READ_HOLDING_REGISTERS = 3
    READ_INPUT_REGISTERS = 4
    WRITE_SINGLE_REGISTER = 6
    WRITE_MULTIPLE_REGISTERS = 16


class ExceptionCode(IntEnum):
    """Modbus exception codes."""

    ILLEGAL_FUNCTION = 1
    ILLEGAL_DATA_ADDRESS = 2
    ILLEGAL_DATA_VALUE = 3
    SERVER_DEVICE_FAILURE = 4
    GATEWAY_TARGET_FAILED = 0x0B


class ModbusError(Exception):
    """A request the device refuses, with the exception code to answer."""

    def __init__(self, code: ExceptionCode, message: str = "") -> None:
        super().__init__(message or code.name)
        self.code = code


class RegisterDevice(Protocol):
    """What a Modbus server needs from a device."""

    def read_registers(self, address: int, count: int) -> list[int]:
        """``count`` registers from ``address``; :class:`ModbusError` if not mapped."""
        ...

    def write_registers(self, address: int, values: list[int]) -> None:
        """Store ``values`` from ``address``; :class:`ModbusError` if refused."""
        ...


def exception_response(function: int, code: ExceptionCode) -> bytes:
    """The exception PDU for ``function``."""
    return bytes([(function | 0x80) & 0xFF, int(code)])


def _read(device: RegisterDevice, function: int, body: bytes) -> bytes:
    if len(body) != 4:
        raise ModbusError(ExceptionCode.ILLEGAL_DATA_VALUE, "bad read request length")
    address, count = struct.unpack(">HH", body)
    if not 1 <= count <= MAX_READ:
        raise ModbusError(ExceptionCode.ILLEGAL_DATA_VALUE, f"bad count {count}")
    if address + count > 0x10000:
        raise ModbusError(ExceptionCode.ILLEGAL_DATA_ADDRESS, "beyond the address space")
    values = device.read_registers(address, count)
    return struct.pack(f">BB{count}H", function, 2 * count, *values)


def _write_single(device: RegisterDevice, body: bytes) -> bytes:
    if len(body) != 4:
        raise ModbusError(ExceptionCode.ILLEGAL_DATA_VALUE, "bad write request length")
    address, value = struct.unpack(">HH", body)
    device.write_registers(address, [value])
    return bytes([FunctionCode.WRITE_SINGLE_REGISTER]) + body


def _write_multiple(device: RegisterDevice, body: bytes) -> bytes:
    if len(body) < 5:
        raise ModbusError(ExceptionCode.ILLEGAL_DATA_VALUE, "bad write request length")
    address, count, byte_count = struct.unpack(">HHB", body[:5])
    if not 1 <= count <= MAX_WRITE or byte_count != 2 * count or len(body) != 5 + byte_count:
        raise ModbusError(ExceptionCode.ILLEGAL_DATA_VALUE, "bad write count")
    if address + count > 0x10000:
        raise ModbusError(ExceptionCode.ILLEGAL_DATA_ADDRESS, "beyond the address space")
    device.write_registers(address, list(struct.unpack(f">{count}H", body[5:])))
    return struct.pack(">BHH", FunctionCode.WRITE_MULTIPLE_REGISTERS, address, count)


def handle_request(device: RegisterDevice, pdu: bytes) -> bytes:
    """The response PDU (normal or exception) to the request ``pdu``."""
    if not pdu:
        raise ValueError("empty PDU")
    function, body = pdu[0], pdu[1:]
    try:
        if function in (FunctionCode.READ_HOLDING_REGISTERS, FunctionCode.READ_INPUT_REGISTERS):
            return _read(device, function, body)
        if function == FunctionCode.WRITE_SINGLE_REGISTER:
            return _write_single(device, body)
        if function == FunctionCode.WRITE_MULTIPLE_REGISTERS:
            return _write_multiple(device, body)
    except ModbusError as exc:
        return exception_response(function, exc.code)
    return exception_response(function, ExceptionCode.ILLEGAL_FUNCTION)
