"""The floor of a relay in Python: ``python -m bench._floor upper|lower CERTS [LINK TARGET]``.

Two processes relay one TCP connection over one mutual-TLS link with nothing of the tunnel
in between: no WebSocket, no frames, no streams, no windows. Each end is as lean as asyncio
allows (a protocol callback writes what arrives straight to the other side), on the same
loop, with the same TLS stack and certificates as the tunnel's end in that place:

* ``upper`` (where the gateway is): asyncio's TLS server (``sslproto`` with the lean
  protocol of :mod:`tunnel.tls_buffers`) accepts the link, then a plain TCP listener takes
  clients, each relayed over the link (one client at a time). Prints ``{"link", "client"}``.
* ``lower`` (where the device is): asyncio's TLS client dials the link with the device's
  certificate, as the device's WebSocket client does, and a TCP connection to the target.

``bench tunnel`` times the 64-byte echo through it beside the tunnel and ``ssh -R``: what
the two Python processes cost before any protocol of ours (``rtt_p50_floor_vs_ssh``), and
what our protocol adds to that (``rtt_p50_vs_floor``). Both nodes end when stdin closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

from bench._certs import device_context, gateway_context
from bench._loop import run_end
from bench._nodes import emit, stdin_closed
from bench._proc import node
from tunnel.cliutil import prepare_tunnel_end
from tunnel.transport import stream_transport

__all__ = ["floor_path"]


class _Relay(asyncio.Protocol):
    """Writes whatever arrives to ``peer``'s transport."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.peer: _Relay | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = stream_transport(transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        peer = self.peer
        if peer is not None and peer.transport is not None:
            peer.transport.write(data)


async def upper(certs: Path) -> None:
    prepare_tunnel_end()
    loop = asyncio.get_running_loop()
    link: asyncio.Future[_Relay] = loop.create_future()

    def accept_link() -> _Relay:
        relay = _Relay()
        if not link.done():
            link.set_result(relay)
        return relay

    class Client(_Relay):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            other = link.result()
            self.peer, other.peer = other, self

    links = await loop.create_server(accept_link, "127.0.0.1", 0, ssl=gateway_context(certs))
    clients = await loop.create_server(Client, "127.0.0.1", 0)
    emit(link=links.sockets[0].getsockname()[1], client=clients.sockets[0].getsockname()[1])
    await link
    emit(linked=True)
    await stdin_closed()
    clients.close()
    links.close()


async def lower(certs: Path, link_port: int, target_port: int) -> None:
    prepare_tunnel_end()
    loop = asyncio.get_running_loop()
    _, link = await loop.create_connection(
        _Relay, "127.0.0.1", link_port, ssl=device_context(certs), server_hostname="127.0.0.1"
    )
    _, target = await loop.create_connection(_Relay, "127.0.0.1", target_port)
    link.peer, target.peer = target, link
    emit(linked=True)
    await stdin_closed()


@contextlib.contextmanager
def floor_path(certs: Path, target_port: int) -> Iterator[tuple[int, list[int]]]:
    """The client port of a floor relay to ``target_port``, and the two nodes' pids."""
    with node("bench._floor", "upper", str(certs)) as top:
        ports = top.event()
        with node(
            "bench._floor", "lower", str(certs), str(ports["link"]), str(target_port)
        ) as bottom:
            bottom.event()
            top.event()
            yield int(ports["client"]), [top.pid, bottom.pid]


def main(argv: list[str]) -> None:
    role, certs, *ports = argv
    if role == "upper":
        run_end(upper(Path(certs)), "gateway")
    elif role == "lower":
        run_end(lower(Path(certs), int(ports[0]), int(ports[1])), "device")
    else:
        raise SystemExit(f"unknown role {role!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
