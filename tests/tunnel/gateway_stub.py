"""A small real gateway for connector tests: aiohttp over TLS with client certificates.

It does the server side of the handshake with :class:`GatewaySession`, following a plan
of answers (accept, or refuse with a reason and retry-after). :class:`FreezableProxy`
sits between connector and gateway and can stop forwarding, like a dead NAT mapping.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from pathlib import Path

import trustme
from aiohttp import web

from tunnel.connector import client_ssl_context
from tunnel.frames import Hello, RefusalReason
from tunnel.gateway_end import GatewaySession
from tunnel.ws import AIOHTTP_MAX_MSG_SIZE, WebSocketTransport


def device_ssl_context(ca: trustme.CA, tmp_path: Path) -> ssl.SSLContext:
    """The device's context: trusts ``ca``, presents a certificate issued by it."""
    ca_file, cert_file = tmp_path / "ca.pem", tmp_path / "device.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    ca.issue_cert("device-1.devices.test").private_key_and_cert_chain_pem.write_to_path(
        str(cert_file)
    )
    return client_ssl_context(ca_file, cert_file, cert_file)


class StubGateway:
    """Serves ``/tunnel/v1`` on 127.0.0.1; restartable on the same port."""

    def __init__(self, ca: trustme.CA, *, heartbeat: float = 5.0) -> None:
        self.heartbeat = heartbeat
        self.plan: deque[tuple[RefusalReason, float] | None] = deque()
        """Answers for the next handshakes; None accepts. Empty plan: accept."""
        self.hellos: list[Hello] = []
        self.peer_names: list[str] = []
        self.sessions: asyncio.Queue[GatewaySession] = asyncio.Queue()
        self.port = 0
        self._live: set[GatewaySession] = set()
        self._runner: web.AppRunner | None = None
        self._ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(self._ssl)
        ca.configure_trust(self._ssl)
        self._ssl.verify_mode = ssl.CERT_REQUIRED

    @property
    def url(self) -> str:
        return f"wss://127.0.0.1:{self.port}/tunnel/v1"

    @property
    def ssl_context(self) -> ssl.SSLContext:
        """The gateway's server context (device certificates required)."""
        return self._ssl

    def app(self) -> web.Application:
        """The application serving ``/tunnel/v1`` (for a listener of the test's own)."""
        app = web.Application()
        app.router.add_get("/tunnel/v1", self._handle)
        return app

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app(), shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, ssl_context=self._ssl)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        for session in list(self._live):
            await session.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        peercert = request.transport.get_extra_info("peercert") if request.transport else None
        self.peer_names.append(str(peercert.get("subjectAltName")) if peercert else "")
        ws = web.WebSocketResponse(max_msg_size=AIOHTTP_MAX_MSG_SIZE)
        await ws.prepare(request)
        session = GatewaySession(WebSocketTransport(ws), heartbeat=self.heartbeat)
        self._live.add(session)
        try:
            self.hellos.append(await session.receive_hello())
            answer = self.plan.popleft() if self.plan else None
            if answer is not None:
                await session.refuse(*answer)
                return ws
            await session.accept(session_id=f"s{len(self.hellos)}", capabilities=("telemetry",))
            await self.sessions.put(session)
            await session.run()
        finally:
            self._live.discard(session)
            await session.close()
        return ws


class FreezableProxy:
    """A TCP relay on 127.0.0.1:0; :meth:`freeze` silently stalls current connections."""

    def __init__(self, target_port: int) -> None:
        self._target = target_port
        self._server: asyncio.Server | None = None
        self._frozen: set[asyncio.Event] = set()
        self._live: list[tuple[asyncio.Event, list[asyncio.StreamWriter]]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def freeze(self) -> None:
        for frozen, _ in self._live:
            frozen.set()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for _, writers in self._live:
            for writer in writers:
                writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._target)
        frozen = asyncio.Event()
        self._live.append((frozen, [writer, up_writer]))
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pump(src, dst, frozen))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _pump(
        src: asyncio.StreamReader, dst: asyncio.StreamWriter, frozen: asyncio.Event
    ) -> None:
        with contextlib.suppress(OSError):
            while data := await src.read(65536):
                if not frozen.is_set():  # frozen: swallow everything, close nothing
                    dst.write(data)
                    await dst.drain()
            dst.close()
