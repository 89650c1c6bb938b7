"""The fuzz targets: the fuzzer's bytes into one parser, only its own errors allowed out.

Each target is a plain function of ``bytes`` (no atheris in here, so that the regression
corpus replays without it). :func:`run_one` calls a target and lets the allowed errors pass;
anything else propagates, and that is a finding.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import csv
import hashlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from ccu_addon.xmlrpc_codec import Fault, XmlRpcError, loads
from cloud_gateway.plants.spreadsheet import SpreadsheetError, read_sheet
from cloud_gateway.telemetry.payload import PayloadError, parse_payload
from inverter_agent.errors import AgentError, DeviceRejectedError, DeviceTimeoutError, SunSpecError
from inverter_agent.inverter import discover, poll
from inverter_agent.sunspec import (
    COMMON_MODEL,
    INVERTER_MODELS,
    MARKER,
    MPPT_MODEL,
    NAMEPLATE_MODEL,
    STATUS_MODEL,
    decode_common,
    decode_inverter,
    decode_mppt,
    decode_nameplate,
    decode_status,
    model_data,
    parse_chain,
)
from tunnel import frames
from tunnel.errors import ProtocolError
from tunnel.ws_client import WebSocketClient

__all__ = ["TARGETS", "Target", "run_one"]

BASE = 40000
"""Where the register images start (the SunSpec base the simulator uses)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """One parser under fuzzing."""

    name: str
    """Its name (the corpus folder and the figure's name)."""
    call: Callable[[bytes], object]
    """Feeds the bytes to the parser."""
    allowed: tuple[type[BaseException], ...]
    """The component's own errors: these may come out, nothing else."""
    known: tuple[type[BaseException], ...] = ()
    """Foreign errors found and reported, in a part this suite does not fix: tolerated so the
    fuzzing goes on; their corpus inputs replay as expected failures (``corpus/KNOWN``)."""


def run_one(target: Target, data: bytes, *, strict: bool = False) -> None:
    """Feed ``data`` to ``target``; only its own errors (and, unless ``strict``, the known
    ones) are swallowed."""
    try:
        target.call(data)
    except target.allowed:
        pass
    except target.known:
        if strict:
            raise


def _registers(data: bytes) -> list[int]:
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data) - 1, 2)]


# --- tunnel frames -----------------------------------------------------------------------


def _tunnel_frame(data: bytes) -> None:
    frame = frames.decode(data)
    again = frames.decode(frames.encode(frame))  # what we read, we can write and read back
    if again != frame:
        raise AssertionError(f"{frame!r} read back as {again!r}")


# --- the device's WebSocket client: upgrade answer and framing ----------------------------

_WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class _Wire(asyncio.Transport):
    """The socket under the client: keeps what it writes, closes when told."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += data

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def abort(self) -> None:
        self.closing = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0


def _accept_answer(request: bytes) -> bytes:
    """A correct ``101`` answer to the client's upgrade request."""
    key = b""
    for line in request.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"sec-websocket-key":
            key = value.strip()
    accept = base64.b64encode(hashlib.sha1(key + _WS_GUID).digest())
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
    )


async def _ws_session(data: bytes) -> None:
    """Byte 0: bit 0 set → the gateway accepts, the rest is frames; else the rest is the
    answer to the upgrade. Byte 1 splits the rest into chunks of that size (0: one chunk)."""
    if len(data) < 2:
        return
    client = WebSocketClient("ws://gateway.test/tunnel/v1", max_message=4096)
    wire = _Wire()
    client.connection_made(wire)
    rest = data[2:]
    if data[0] & 1:
        client.data_received(_accept_answer(bytes(wire.written)))
    step = data[1] or len(rest) or 1
    for at in range(0, len(rest), step):
        client.data_received(rest[at : at + step])
    client.connection_lost(None)
    # the upgrade's outcome: success or one of the errors connect() documents
    with contextlib.suppress(ProtocolError, OSError):
        await client.wait_upgraded()


_LOOP = asyncio.new_event_loop()


def _ws_client(data: bytes) -> None:
    _LOOP.run_until_complete(_ws_session(data))


# --- SunSpec register images and the Modbus answers of a device ----------------------------

_DECODERS: dict[int, Callable[[Any], object]] = {
    COMMON_MODEL: decode_common,
    NAMEPLATE_MODEL: decode_nameplate,
    STATUS_MODEL: decode_status,
    MPPT_MODEL: decode_mppt,
}


def _sunspec_image(data: bytes) -> None:
    image = [*MARKER, *_registers(data)]
    layout = parse_chain(image, base=BASE)
    for block in layout.models:
        registers = model_data(image, block, image_start=BASE)
        if block.model_id in INVERTER_MODELS:
            decode_inverter(block.model_id, registers)
        elif (decoder := _DECODERS.get(block.model_id)) is not None:
            decoder(registers)


class _Device:
    """A Modbus device whose registers are the fuzzed image (exception 2 beyond it), one
    chosen read failing: byte 0's low nibble picks the read, bit 4 makes it a Modbus
    exception, bit 5 a timeout."""

    def __init__(self, data: bytes) -> None:
        self._fault = data[0] if data else 0
        self._image = _registers(data[1:])
        self._reads = 0

    async def read_holding_registers(self, unit_id: int, address: int, count: int) -> list[int]:
        self._reads += 1
        if self._reads == (self._fault & 0x0F) + 1:
            if self._fault & 0x10:
                raise DeviceRejectedError(f"unit {unit_id}: exception 4", exception_code=4)
            if self._fault & 0x20:
                raise DeviceTimeoutError(f"unit {unit_id}: no answer")
        start = address - BASE
        if start < 0 or start + count > len(self._image) or not 1 <= count <= 125 * 100:
            raise DeviceRejectedError(f"unit {unit_id}: exception 2", exception_code=2)
        return self._image[start : start + count]


def _complete(coro: Coroutine[Any, Any, object]) -> object:
    """Run a coroutine that never waits (the device answers at once) to its end."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()
    raise AssertionError("the coroutine waited for something")


def _modbus_answers(data: bytes) -> None:
    device = _Device(data)
    found = _complete(discover(device, 1, (BASE,)))
    _complete(poll(device, found))  # type: ignore[arg-type]


# --- the gateway's and the add-on's payload parsers --------------------------------------


def _spreadsheet(data: bytes) -> None:
    name = "upload.xlsx" if data[:1] == b"x" else "upload.csv"
    read_sheet(name, data[1:])


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target(
            name="tunnel_frames",
            call=_tunnel_frame,
            allowed=(ProtocolError,),
        ),
        Target(
            name="websocket_client",
            call=_ws_client,
            allowed=(),
        ),
        Target(
            name="sunspec_image",
            call=_sunspec_image,
            allowed=(SunSpecError,),
        ),
        Target(
            name="modbus_answers",
            call=_modbus_answers,
            allowed=(AgentError,),  # what the agent's scheduler handles per inverter
        ),
        Target(
            name="telemetry_payload",
            call=parse_payload,
            allowed=(PayloadError,),
        ),
        Target(
            name="ccu_xmlrpc",
            call=loads,
            allowed=(XmlRpcError, Fault),
        ),
        Target(
            name="spreadsheet_upload",
            call=_spreadsheet,
            allowed=(SpreadsheetError,),
            # reported, not fixed here: cloud_gateway/plants is another helper's (corpus/KNOWN)
            known=(csv.Error, IndexError),
        ),
    )
}
