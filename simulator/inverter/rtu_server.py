"""Modbus RTU server on a serial device or a pseudo-terminal, with the wire's timing.

A pty moves bytes instantly; a 9600 baud RS-485 line does not. This server keeps a model of
the line and never lets the client see a byte before the wire could have carried it:

* a request occupies the line for ``len(frame)`` character times from when its first byte
  arrived (or from when the line became free, if later);
* the inverter answers after the 3.5-character silence that ends the request
  (plus ``response_delay``, the inverter's own think time, 0 by default);
* the response bytes are written paced, each no earlier than its last bit left the wire;
* after the response the line stays silent for another 3.5 characters.

With ``burst`` set, the bytes arrive the way a USB-RS485 adapter hands them over: in chunks
of ``burst.chunk`` bytes, each ``burst.latency`` seconds after its last byte left the wire.

Unknown unit ids and offline inverters stay silent; damaged frames (bad CRC) are ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import termios
import tty
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from simulator.inverter.bus import InverterBus
from simulator.inverter.rtu import (
    UNKNOWN_LENGTH,
    CrcError,
    SerialLine,
    decode_frame,
    encode_frame,
    request_frame_length,
)

__all__ = ["PTY", "RtuInverterServer", "UsbBurst"]

_LOGGER = logging.getLogger(__name__)

#: the ``device`` value that asks for a fresh pseudo-terminal pair
PTY = "pty"
_PACE = 0.004  # write at least every 4 ms while a response is on the wire
_INCOMPLETE_WAIT = 0.1  # a pty has no silence to end a frame: how long to wait for the rest


@dataclass(frozen=True, slots=True, kw_only=True)
class UsbBurst:
    """How a USB serial adapter batches received bytes."""

    #: bytes per USB transfer
    chunk: int = 32
    #: seconds from a chunk's last byte on the wire to its delivery
    latency: float = 0.002


class RtuInverterServer:
    """Serves the bus on ``device``: a serial device path, or :data:`PTY` for a new pty."""

    def __init__(
        self,
        bus: InverterBus,
        device: str = PTY,
        line: SerialLine | None = None,
        *,
        burst: UsbBurst | None = None,
        response_delay: float = 0.0,
    ) -> None:
        self._bus = bus
        self._device = device
        self.line = line or SerialLine()
        self._burst = burst
        self._response_delay = response_delay
        self._fd = -1
        self._keep: list[int] = []
        self._serial: Any = None
        self._path = ""
        self._rx = bytearray()
        self._rx_times: list[float] = []
        self._rx_event = asyncio.Event()
        self._line_free_at = 0.0
        self._task: asyncio.Task[None] | None = None

    @property
    def path(self) -> str:
        """The device a client opens (the pty's slave side when serving on a pty)."""
        if not self._path:
            raise RuntimeError("server not started")
        return self._path

    def _open(self) -> None:
        if self._device == PTY:
            master, slave = os.openpty()
            tty.setraw(slave, termios.TCSANOW)
            self._fd, self._keep, self._path = master, [master, slave], os.ttyname(slave)
        else:
            import serial  # noqa: PLC0415 - only needed for real serial devices

            self._serial = serial.Serial(
                self._device,
                baudrate=self.line.baud,
                parity=self.line.parity,
                stopbits=self.line.stopbits,
                timeout=0,
            )
            self._fd, self._path = self._serial.fileno(), self._device
        os.set_blocking(self._fd, False)

    async def start(self) -> None:
        """Open the device and start answering."""
        self._open()
        loop = asyncio.get_running_loop()
        loop.add_reader(self._fd, self._on_readable)
        self._task = asyncio.create_task(self._run(), name=f"rtu-inverters {self._path}")
        _LOGGER.info("Modbus RTU inverters on %s (%s)", self._path, self.line)

    async def close(self) -> None:
        """Stop answering and close the device."""
        if self._task is None:
            return
        asyncio.get_running_loop().remove_reader(self._fd)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        if self._serial is not None:
            self._serial.close()
        for fd in self._keep:
            os.close(fd)
        self._keep, self._fd = [], -1

    async def __aenter__(self) -> RtuInverterServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _on_readable(self) -> None:
        try:
            data = os.read(self._fd, 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:  # EIO: nobody holds the other end
            _LOGGER.debug("serial read failed: %s", exc)
            return
        now = asyncio.get_running_loop().time()
        self._rx += data
        self._rx_times += [now] * len(data)
        self._rx_event.set()

    async def _more_bytes(self) -> bool:
        self._rx_event.clear()
        try:
            async with asyncio.timeout(max(_INCOMPLETE_WAIT, self.line.frame_gap)):
                await self._rx_event.wait()
        except TimeoutError:
            return False
        return True

    async def _next_frame(self) -> tuple[bytes, float]:
        while True:
            if not self._rx:
                self._rx_event.clear()
                await self._rx_event.wait()
                continue
            length = request_frame_length(bytes(self._rx[:7]))
            if length == UNKNOWN_LENGTH or length is None or len(self._rx) < length:
                if await self._more_bytes():
                    continue
                length = len(self._rx)  # silence: whatever arrived is the frame
            frame, first = bytes(self._rx[:length]), self._rx_times[0]
            del self._rx[:length], self._rx_times[:length]
            return frame, first

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        line = self.line
        while True:
            frame, first = await self._next_frame()
            request_end = max(first, self._line_free_at) + line.wire_time(len(frame))
            self._line_free_at = request_end + line.frame_gap
            response = self._answer(frame)
            if response is None:
                continue
            tx_start = request_end + line.frame_gap + self._response_delay
            await self._transmit(response, tx_start, loop)
            self._line_free_at = tx_start + line.wire_time(len(response)) + line.frame_gap

    def _answer(self, frame: bytes) -> bytes | None:
        try:
            unit, pdu = decode_frame(frame)
        except CrcError as exc:
            _LOGGER.debug("ignoring a damaged frame: %s", exc)
            return None
        if not pdu:
            return None
        response = self._bus.handle(unit, pdu, "rtu")
        return None if response is None else encode_frame(unit, response)

    async def _transmit(
        self, frame: bytes, tx_start: float, loop: asyncio.AbstractEventLoop
    ) -> None:
        char = self.line.char_time
        step = self._burst.chunk if self._burst else max(1, math.ceil(_PACE / char))
        latency = self._burst.latency if self._burst else 0.0
        sent = 0
        while sent < len(frame):
            upto = min(len(frame), sent + step)
            delay = tx_start + upto * char + latency - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            await self._write(frame[sent:upto], loop)
            sent = upto

    async def _write(self, data: bytes, loop: asyncio.AbstractEventLoop) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self._fd, view) :]
            except BlockingIOError:
                writable = loop.create_future()
                loop.add_writer(self._fd, writable.set_result, None)
                try:
                    await writable
                finally:
                    loop.remove_writer(self._fd)
