"""A TLS client over memory BIOs on an asyncio stream: every byte on the wire under control.

The gateway's listener tests need what no ordinary client does: a PROXY header written in
the same segment as the ClientHello, or a client that reads the gateway's close_notify and
never answers it (:func:`closed_after_silence`), or one that connects and never starts TLS
(:func:`dropped_before_hello`).
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass

__all__ = ["RawTls", "closed_after_silence", "dropped_before_hello"]


@dataclass
class RawTls:
    """One TLS connection whose records this test writes and reads itself."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    tls: ssl.SSLObject
    incoming: ssl.MemoryBIO
    outgoing: ssl.MemoryBIO

    @classmethod
    async def connect(cls, port: int, ctx: ssl.SSLContext, header: bytes = b"") -> RawTls:
        """TCP to ``port`` on loopback, ``header`` + ClientHello in one write, handshake."""
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
        first = True
        while True:
            try:
                tls.do_handshake()
                return cls(reader, writer, tls, incoming, outgoing)
            except ssl.SSLWantReadError:
                writer.write((header if first else b"") + outgoing.read())
                first = False
                chunk = await reader.read(65536)
                if not chunk:
                    writer.close()
                    raise ConnectionResetError("closed during the handshake") from None
                incoming.write(chunk)

    def send(self, data: bytes) -> None:
        """Encrypt ``data`` and write it."""
        self.tls.write(data)
        self.writer.write(self.outgoing.read())

    async def receive(self) -> bytes | None:
        """The next plaintext (may be empty); None at the end of the TCP stream."""
        chunk = await self.reader.read(65536)
        if not chunk:
            return None
        self.incoming.write(chunk)
        data = bytearray()
        try:
            while piece := self.tls.read(65536):
                data += piece
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLZeroReturnError:  # the peer's close_notify: read, deliberately unanswered
            pass
        return bytes(data)


async def closed_after_silence(port: int, ctx: ssl.SSLContext, header: bytes = b"") -> float:
    """Seconds from a ``Connection: close`` request until the server drops the TCP connection,
    while this client takes the answer and the close_notify and never sends its own."""
    raw = await RawTls.connect(port, ctx, header)
    try:
        raw.send(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        loop = asyncio.get_running_loop()
        sent = loop.time()
        while await raw.receive() is not None:
            pass
        return loop.time() - sent
    finally:
        raw.writer.close()


async def dropped_before_hello(port: int, header: bytes = b"") -> float:
    """Seconds until the server drops a TCP connection (after ``header``, if any) that never
    sends a TLS ClientHello."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(header)
        loop = asyncio.get_running_loop()
        opened = loop.time()
        while await reader.read(65536):
            pass
        return loop.time() - opened
    finally:
        writer.close()
