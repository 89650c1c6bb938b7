"""RFC 6455 framing for the device's WebSocket client: pure, no I/O, no asyncio.

wsproto does the opening handshake (:mod:`tunnel.ws_client`); after it, every tunnel
frame crosses this module twice per round trip, so it does only what a client talking
to our gateway needs, in few Python steps (wsproto's general parser costs several times
more per message, see ADR 0009)::

     0                   1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    +-+-+-+-+-------+-+-------------+-------------------------------+
    |F|R|R|R| opcode|M| payload len |    extended payload length    |
    |I|S|S|S|  (4)  |A|     (7)     |            (16/64)            |
    |N|V|V|V|       |S|             |   (if payload len == 126/127) |
    | |1|2|3|       |K|             |                               |
    +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
    |     masking key (client to server only, 4 bytes) | payload ...
    +---------------------------------------------------------------+

* :func:`encode` builds one final, masked client frame (RFC 6455 5.3: every client
  frame is masked with a fresh key from a strong random source).
* :class:`FrameParser` splits the server's bytes into messages: binary messages
  (fragments joined), and the control frames close, ping and pong. A well-formed frame
  we do not take (a text message, a message beyond the size limit) is skipped and
  reported in line as :data:`REFUSED` with the close code to send, so that the close
  handshake can still be read after it. Malformed frames (masked, reserved bits, bad
  control frames) raise :class:`FrameError` with the close code: nothing after them can
  be trusted.

Masking runs in C when the ``websockets`` package's ``speedups`` extension is installed
(:func:`native_mask`: ~1 µs per 32 KiB against ~100 µs in pure Python, which capped the
device's upload); the pure-Python :func:`mask` is the fallback and the reference.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import struct
from collections.abc import Callable
from enum import IntEnum
from typing import Final

__all__ = [
    "REFUSED",
    "FrameError",
    "FrameParser",
    "KeySource",
    "Opcode",
    "encode",
    "mask",
    "parse_close",
]

_HEADER16: Final = struct.Struct("!BBH")
_HEADER64: Final = struct.Struct("!BBQ")
_SMALL_MASK: Final = 512
"""Up to this many bytes the integer XOR is the faster mask; above, per-lane translate."""
_KEY_POOL: Final = 4096
"""Bytes drawn from ``os.urandom`` at once: 1,024 masking keys per system call."""
REFUSED: Final = -1
"""Pseudo-opcode of a skipped frame; its payload is a close payload (code, reason)."""


class Opcode(IntEnum):
    """Frame opcodes (RFC 6455 11.8)."""

    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA


class FrameError(ValueError):
    """The server sent something this client does not accept; close with ``code``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class _UnwantedFrameError(FrameError):
    """A well-formed frame we do not take: skipped, reported as :data:`REFUSED`."""


_XOR_TABLES: list[bytes | None] = [None] * 256


def _table(key: int) -> bytes:
    table = _XOR_TABLES[key]
    if table is None:
        table = _XOR_TABLES[key] = bytes(b ^ key for b in range(256))
    return table


Mask = Callable[[bytes | bytearray | memoryview, bytes], bytes | bytearray]


def native_mask() -> Mask | None:
    """``websockets.speedups.apply_mask`` (C), or None when it is not installed or built.

    Loaded from its file without running ``websockets/__init__.py``: the package's import
    pulls in ``importlib.metadata`` and most of ``email`` (~3.5 MB RSS), too much for the
    hub for one function. The extension itself imports nothing.
    """
    try:
        package = importlib.util.find_spec("websockets")  # finds; does not import
    except (ImportError, ValueError):
        return None
    folders = package.submodule_search_locations if package is not None else None
    for folder in folders or ():
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(folder, f"speedups{suffix}")  # noqa: PTH118 - no pathlib here
            if not os.path.isfile(path):  # noqa: PTH113
                continue
            loader = importlib.machinery.ExtensionFileLoader("websockets.speedups", path)
            spec = importlib.util.spec_from_loader("websockets.speedups", loader)
            if spec is None:
                return None
            try:
                module = importlib.util.module_from_spec(spec)
                loader.exec_module(module)
            except ImportError:
                return None
            apply: Mask = module.apply_mask
            return apply
    return None


def mask(payload: bytes | bytearray | memoryview, key: bytes) -> bytes | bytearray:
    """``payload`` XOR the repeated 4-byte ``key`` (masking and unmasking are the same)."""
    size = len(payload)
    if size <= _SMALL_MASK:
        keys = (key * (size // 4 + 1))[:size]
        masked = int.from_bytes(payload, "little") ^ int.from_bytes(keys, "little")
        return masked.to_bytes(size, "little")
    out = bytearray(payload)
    for lane in range(4):
        out[lane::4] = out[lane::4].translate(_table(key[lane]))
    return out


_mask: Final[Mask] = native_mask() or mask


class KeySource:
    """Masking keys from ``os.urandom``, drawn in blocks (one system call per 1,024)."""

    __slots__ = ("_pool", "_pos")

    def __init__(self) -> None:
        self._pool = b""
        self._pos = 0

    def next(self) -> bytes:
        if self._pos >= len(self._pool):
            self._pool = os.urandom(_KEY_POOL)
            self._pos = 0
        key = self._pool[self._pos : self._pos + 4]
        self._pos += 4
        return key


def encode(opcode: Opcode, payload: bytes | bytearray | memoryview, key: bytes) -> bytes:
    """One final client frame, masked with ``key`` (4 fresh random bytes)."""
    size = len(payload)
    first = 0x80 | opcode
    if size < 126:
        header = bytes((first, 0x80 | size))
    elif size < 0x10000:
        header = _HEADER16.pack(first, 0x80 | 126, size)
    else:
        header = _HEADER64.pack(first, 0x80 | 127, size)
    return b"".join((header, key, _mask(payload, key)))


def parse_close(payload: bytes) -> tuple[int, str]:
    """The code and reason of a close frame (1005 when it has no code)."""
    if not payload:
        return 1005, ""
    if len(payload) == 1:
        raise FrameError(1002, "close frame with a 1-byte payload")
    code = int.from_bytes(payload[:2], "big")
    if code < 1000 or code in {1004, 1005, 1006, 1015} or 1016 <= code < 3000 or code >= 5000:
        raise FrameError(1002, f"close frame with invalid code {code}")
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise FrameError(1007, "close reason is not UTF-8") from None
    return code, reason


class FrameParser:
    """The server's bytes in, complete messages and control frames out."""

    __slots__ = (
        "_discard",
        "_fin",
        "_need",
        "_opcode",
        "_parts",
        "_tail",
        "fragments",
        "max_message",
    )

    def __init__(self, max_message: int) -> None:
        self.max_message = max_message
        """Largest binary message accepted; a larger one is :class:`FrameError` 1009."""
        self._tail = b""  # the start of an incomplete header
        self._need = 0  # payload bytes of the current frame still to come
        self._parts: list[bytes] = []  # payload of the current frame so far
        self._opcode = 0
        self._fin = True
        self._discard = False  # the current frame's payload is skipped
        self.fragments: list[bytes] | None = None
        """Earlier fragments of a binary message in progress (None: no message open)."""

    @property
    def buffered(self) -> int:
        """Bytes held for a message not yet complete."""
        held = sum(map(len, self._parts)) + len(self._tail)
        return held + (sum(map(len, self.fragments)) if self.fragments else 0)

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        """Complete ``(opcode, payload)`` items in ``data``: BINARY, CLOSE, PING, PONG."""
        out: list[tuple[int, bytes]] = []
        pos = 0
        if self._need:
            take = min(self._need, len(data))
            if not self._discard:
                self._parts.append(data[:take])
            self._need -= take
            if self._need:
                return out
            pos = take
            payload = b"".join(self._parts)
            self._parts.clear()
            if self._discard:
                self._discard = False
            else:
                self._frame(self._opcode, self._fin, payload, out)
        elif self._tail:
            data = self._tail + data
            self._tail = b""
        end = len(data)
        while pos < end:
            if end - pos < 2:
                self._tail = data[pos:]
                break
            first, second = data[pos], data[pos + 1]
            size = second & 0x7F
            start = pos + 2
            if size >= 126:
                start += 2 if size == 126 else 8
                if start > end:
                    self._tail = data[pos:]
                    break
                size = int.from_bytes(data[pos + 2 : start], "big")
            stop = start + size
            try:
                opcode, fin = self._check(first, second, size)
            except _UnwantedFrameError as exc:
                out.append((REFUSED, exc.code.to_bytes(2, "big") + exc.reason.encode()))
                self._discard = stop > end
                opcode, fin = REFUSED, True
            if stop <= end:
                if opcode != REFUSED:
                    self._frame(opcode, fin, data[start:stop], out)
                pos = stop
            else:
                if not self._discard:
                    self._parts.append(data[start:])
                self._need = stop - end
                self._opcode, self._fin = opcode, fin
                break
        return out

    def _check(self, first: int, second: int, size: int) -> tuple[int, bool]:
        if second & 0x80:
            raise FrameError(1002, "the server sent a masked frame")
        if first & 0x70:
            raise FrameError(1002, "reserved bits set, but no extension was agreed")
        opcode = first & 0x0F
        fin = bool(first & 0x80)
        if opcode >= 0x8:
            if opcode not in (Opcode.CLOSE, Opcode.PING, Opcode.PONG):
                raise FrameError(1002, f"unknown opcode {opcode:#x}")
            if not fin or size > 125:
                raise FrameError(1002, "fragmented or oversized control frame")
        elif opcode == Opcode.TEXT:
            raise _UnwantedFrameError(1003, "binary frames only")
        elif opcode == Opcode.BINARY:
            if self.fragments is not None:
                raise FrameError(1002, "new message inside a fragmented one")
            if size > self.max_message:
                raise _UnwantedFrameError(1009, "message too big")
        elif opcode == Opcode.CONTINUATION:
            if self.fragments is None:
                raise FrameError(1002, "continuation frame without a message")
            if sum(map(len, self.fragments)) + size > self.max_message:
                self.fragments = None
                raise _UnwantedFrameError(1009, "message too big")
        else:
            raise FrameError(1002, f"unknown opcode {opcode:#x}")
        return opcode, fin

    def _frame(self, opcode: int, fin: bool, payload: bytes, out: list[tuple[int, bytes]]) -> None:
        if opcode == Opcode.BINARY:
            if fin:
                out.append((opcode, payload))
            else:
                self.fragments = [payload]
        elif opcode == Opcode.CONTINUATION:
            fragments = self.fragments
            if fragments is None:  # pragma: no cover - _check refused it already
                raise FrameError(1002, "continuation frame without a message")
            fragments.append(payload)
            if fin:
                self.fragments = None
                out.append((Opcode.BINARY, b"".join(fragments)))
        else:
            out.append((opcode, payload))
