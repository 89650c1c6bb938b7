"""The gateway's lean TLS protocol: one shared read buffer, no read that can only fail.

A real asyncio TLS server with :func:`tunnel.tls_buffers.install` in force; the client
does TLS by hand over plain TCP (``ssl.MemoryBIO``), so the test decides how records
are cut into TCP writes: several in one write, one split across writes, a close_notify.
"""

from __future__ import annotations

import asyncio
import fcntl
import ssl
import struct
import termios
from asyncio import sslproto
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import trustme

from tests.tunnel.sessions import until
from tunnel.tls_buffers import SharedBufferSSLProtocol, install, installed

pytestmark = pytest.mark.asyncio_loop  # asyncio's sslproto, patched (uvloop has its own TLS)


def _unread(app: Recorder) -> int:
    """Bytes waiting in the kernel on the server's side of the connection."""
    sock = app.transport.get_extra_info("socket")
    return int(struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0" * 4))[0])


class Recorder(asyncio.Protocol):
    """The application protocol behind the TLS server: keeps what arrives."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.eof = False
        self.transport: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)

    def eof_received(self) -> bool:
        self.eof = True
        return False

    @property
    def received(self) -> bytes:
        return b"".join(self.chunks)


class CountingReads:
    """Stands in for the server's ``SSLObject``, counting ``read`` calls and failures."""

    def __init__(self, inner: ssl.SSLObject) -> None:
        self.inner = inner
        self.reads = 0
        self.want_read = 0

    def read(self, n: int) -> bytes:
        self.reads += 1
        try:
            return self.inner.read(n)
        except ssl.SSLWantReadError:
            self.want_read += 1
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@dataclass
class HandTls:
    """A TLS client over a plain TCP connection, records cut by the test."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    tls: ssl.SSLObject
    outgoing: ssl.MemoryBIO
    incoming: ssl.MemoryBIO = field(default_factory=ssl.MemoryBIO)

    async def handshake(self) -> None:
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self.writer.write(self.outgoing.read())
                self.incoming.write(await self.reader.read(65536))
        self.writer.write(self.outgoing.read())

    def records(self, *payloads: bytes) -> bytes:
        """The ciphertext of one TLS record per payload."""
        for payload in payloads:
            self.tls.write(payload)
        return self.outgoing.read()


@dataclass
class Rig:
    client: HandTls
    app: Recorder
    server_protocol: Any


@pytest.fixture
def lean_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sslproto, "SSLProtocol", sslproto.SSLProtocol)  # restored after
    assert install()
    assert installed()


@pytest.fixture
async def rig(ca: trustme.CA, lean_tls: None) -> AsyncIterator[Rig]:
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    apps: list[Recorder] = []

    def factory() -> Recorder:
        apps.append(Recorder())
        return apps[-1]

    server = await asyncio.get_running_loop().create_server(factory, "127.0.0.1", 0, ssl=server_ctx)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = client_ctx.wrap_bio(incoming, outgoing, server_hostname="127.0.0.1")
    client = HandTls(reader, writer, tls, outgoing, incoming)
    await client.handshake()
    await until(lambda: bool(apps) and apps[0].transport is not None)
    protocol = apps[0].transport._ssl_protocol
    assert isinstance(protocol, SharedBufferSSLProtocol)
    try:
        yield Rig(client, apps[0], protocol)
    finally:
        writer.close()
        server.close()
        await server.wait_closed()


async def test_a_lone_record_is_read_once_without_a_failing_read(rig: Rig) -> None:
    counting = CountingReads(rig.server_protocol._sslobj)
    rig.server_protocol._sslobj = counting
    rig.client.writer.write(rig.client.records(b"ping"))
    await until(lambda: rig.app.received == b"ping")
    assert (counting.reads, counting.want_read) == (1, 0)


async def test_records_in_one_write_and_split_across_writes_arrive_whole(rig: Rig) -> None:
    rig.client.writer.write(rig.client.records(b"one ", b"two ", b"three "))
    await until(lambda: rig.app.received == b"one two three ")
    wire = rig.client.records(b"x" * 20_000)  # two records, cut inside the first
    rig.client.writer.write(wire[:100])  # in the server's socket once write() returns
    await until(lambda: _unread(rig.app) == 0)  # the loop has read it: nothing to hand on
    assert rig.app.received == b"one two three "
    rig.client.writer.write(wire[100:])
    await until(lambda: len(rig.app.received) == 14 + 20_000)
    assert rig.app.received.endswith(b"x" * 20_000)


async def test_close_notify_after_data_is_the_end_of_the_stream(rig: Rig) -> None:
    rig.client.tls.write(b"last words")
    with pytest.raises(ssl.SSLWantReadError):
        rig.client.tls.unwrap()  # queues close_notify, then waits for the server's
    rig.client.writer.write(rig.client.outgoing.read())  # data and close_notify together
    await until(lambda: rig.app.eof)
    assert rig.app.received == b"last words"
