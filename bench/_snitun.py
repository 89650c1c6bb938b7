"""NabuCasa's snitun (PyPI ``snitun``), the peer of the tunnel benchmarks (issue 19).

snitun is the tunnel behind Home Assistant's remote UI: the device (its ``ClientPeer``)
dials the server's peer port with a Fernet token and an AES key, and the server's SNI
proxy hands every public TLS connection, by the server name in its ClientHello, to the
device's multiplexer; the device's ``Connector`` opens one TCP connection per channel to
its end point (Home Assistant's own TLS server). snitun never terminates TLS, so its path
needs TLS from end to end. The bench gives it that with two extra nodes of its own::

    client -> originate (TLS, SNI <name>.ccu.snitun.test) -> snitun server (SNI port)
           -> multiplexer, which the device dialled (through the link) -> snitun client
           -> terminate (TLS, routes by SNI) -> target

``python -m bench._snitun ROLE [args]``:

* ``server FERNET_KEY``: snitun's ``PeerManager``, ``SNIProxy`` and ``PeerListener``, as
  its ``SniTunServer`` composes them (listening on port 0: the class would take 0 for
  "default"); prints ``{"sni": port, "peer": port}``, then ``{"peer_connected": name}``.
* ``client PEER_PORT TOKEN KEY IV END_PORT``: snitun's ``ClientPeer`` with a
  ``Connector`` to ``END_PORT``; prints ``{"connected": true}``.
* ``terminate DIR NAME=PORT ...``: a TLS server (certificate from :func:`write_certs`)
  that splices each connection to the target its SNI names; prints ``{"port": port}``.
* ``originate DIR SNI_PORT NAME ...``: per NAME a plain TCP listener whose connections
  go on over TLS (SNI ``NAME.ccu.snitun.test``, verified against the CA) to ``SNI_PORT``;
  prints ``{NAME: port, ...}``.

snitun's channels have no half-close (a CLOSE ends both directions), so the sink's
protocol (read to EOF, answer the count) cannot run over it: the upload leg is not
measured on this path.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import ssl
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import trustme

from bench._nodes import emit, stdin_closed
from bench._proc import node
from bench._splice import READ_SIZE, nodelay

__all__ = ["DOMAIN", "snitun_path", "write_certs"]

DOMAIN = "ccu.snitun.test"
_NAMES = ("echo", "source", "sink", "webui")


def write_certs(directory: Path) -> Path:
    """A CA (``snitun-ca.pem``) and the end point's certificate (``snitun-end.pem``)."""
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(directory / "snitun-ca.pem"))
    end = ca.issue_cert(*(f"{name}.{DOMAIN}" for name in _NAMES))
    end.private_key_and_cert_chain_pem.write_to_path(str(directory / "snitun-end.pem"))
    return directory


# -- byte pump of the TLS ends ---------------------------------------------------------


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, ssl.SSLError):
        while data := await reader.read(READ_SIZE):
            writer.write(data)
            await writer.drain()
    writer.close()


_Ends = tuple[asyncio.StreamReader, asyncio.StreamWriter]
_open: dict[asyncio.Task[Any], tuple[asyncio.StreamWriter, ...]] = {}


async def _splice(a: _Ends, b: _Ends) -> None:
    nodelay(a[1])
    nodelay(b[1])
    task = asyncio.current_task()
    assert task is not None
    _open[task] = (a[1], b[1])
    try:
        await asyncio.gather(_pump(a[0], b[1]), _pump(b[0], a[1]))
    finally:
        del _open[task]


async def _close_all() -> None:
    """End every splice by closing its sockets (a cancelled connection handler would be
    logged as an error by asyncio's streams)."""
    tasks = list(_open)
    for writers in _open.values():
        for writer in writers:
            writer.transport.abort()
    await asyncio.gather(*tasks, return_exceptions=True)


# -- roles ---------------------------------------------------------------------------------


async def server(fernet_key: str) -> None:
    from snitun.server.listener_peer import PeerListener  # noqa: PLC0415 - node only
    from snitun.server.listener_sni import SNIProxy  # noqa: PLC0415
    from snitun.server.peer import Peer  # noqa: PLC0415
    from snitun.server.peer_manager import PeerManager, PeerManagerEvent  # noqa: PLC0415

    def event(peer: Peer, kind: PeerManagerEvent) -> None:
        if kind == PeerManagerEvent.CONNECTED:
            emit(peer_connected=peer.hostname)

    peers = PeerManager([fernet_key], event_callback=event)
    sni = await asyncio.start_server(SNIProxy(peers).handle_connection, "127.0.0.1", 0)
    listener = await asyncio.start_server(PeerListener(peers).handle_connection, "127.0.0.1", 0)
    emit(sni=sni.sockets[0].getsockname()[1], peer=listener.sockets[0].getsockname()[1])
    await stdin_closed()
    await peers.close_connections(timeout=2)


async def client(peer_port: int, token: bytes, key: bytes, iv: bytes, end_port: int) -> None:
    from snitun.client.client_peer import ClientPeer  # noqa: PLC0415 - node only
    from snitun.client.connector import Connector  # noqa: PLC0415

    peer = ClientPeer("127.0.0.1", peer_port)
    await peer.start(Connector("127.0.0.1", end_port), token, key, iv)
    emit(connected=True)
    await stdin_closed()
    with contextlib.suppress(RuntimeError):  # already gone
        await peer.stop()


async def terminate(directory: Path, targets: dict[str, int]) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(directory / "snitun-end.pem")
    names: dict[int, str] = {}

    def remember(obj: Any, name: str | None, _ctx: ssl.SSLContext) -> None:
        names[id(obj)] = name or ""

    context.sni_callback = remember

    async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        name = names.pop(id(writer.get_extra_info("ssl_object")), "")
        port = targets.get(name.removesuffix(f".{DOMAIN}"))
        if port is None:
            writer.close()
            return
        try:
            upstream = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            writer.close()
            return
        await _splice((reader, writer), upstream)

    listener = await asyncio.start_server(accepted, "127.0.0.1", 0, ssl=context)
    emit(port=listener.sockets[0].getsockname()[1])
    await stdin_closed()
    listener.close()
    await _close_all()


async def originate(directory: Path, sni_port: int, names: list[str]) -> None:
    context = ssl.create_default_context(cafile=str(directory / "snitun-ca.pem"))
    ports: dict[str, int] = {}
    listeners = []
    for name in names:

        async def accepted(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, name: str = name
        ) -> None:
            try:
                upstream = await asyncio.open_connection(
                    "127.0.0.1", sni_port, ssl=context, server_hostname=f"{name}.{DOMAIN}"
                )
            except (OSError, ssl.SSLError):
                writer.close()
                return
            await _splice((reader, writer), upstream)

        listener = await asyncio.start_server(accepted, "127.0.0.1", 0)
        listeners.append(listener)
        ports[name] = listener.sockets[0].getsockname()[1]
    emit(**ports)
    await stdin_closed()
    for listener in listeners:
        listener.close()
    await _close_all()


# -- the path, for the benches ---------------------------------------------------------------


def _token(fernet_key: bytes, key: bytes, iv: bytes) -> bytes:
    """What the session master (NabuCasa's cloud) hands the device: a Fernet token with
    its host names (one per target, as aliases of the first) and AES key."""
    from cryptography.fernet import Fernet  # noqa: PLC0415

    names = [f"{name}.{DOMAIN}" for name in _NAMES]
    config = {
        "valid": 4102444800,  # 2100-01-01: the bench's token never expires
        "hostname": names[0],
        "alias": names[1:],
        "aes_key": key.hex(),
        "aes_iv": iv.hex(),
    }
    return Fernet(fernet_key).encrypt(json.dumps(config).encode())


@contextlib.contextmanager
def snitun_path(
    directory: Path,
    targets: dict[str, int],
    relay: Callable[[int], contextlib.AbstractContextManager[int]] | None = None,
) -> Iterator[tuple[dict[str, int], list[int]]]:
    """Per target name the port of the snitun path to it, and the path's pids (server,
    client and both TLS ends). ``relay`` puts a link between the device and the server's
    peer port."""
    from cryptography.fernet import Fernet  # noqa: PLC0415

    write_certs(directory)
    fernet_key = Fernet.generate_key()
    key, iv = os.urandom(32), os.urandom(16)
    forwards = [f"{name}={targets[name]}" for name in _NAMES if name in targets]
    names = [name for name in _NAMES if name in targets]
    with (
        node("bench._snitun", "server", fernet_key.decode()) as srv,
        node("bench._snitun", "terminate", str(directory), *forwards) as end,
    ):
        ports = srv.event()
        end_port = int(end.event()["port"])
        with contextlib.ExitStack() as stack:
            peer_port = int(ports["peer"])
            if relay is not None:
                peer_port = stack.enter_context(relay(peer_port))
            dev = stack.enter_context(
                node(
                    "bench._snitun",
                    "client",
                    str(peer_port),
                    _token(fernet_key, key, iv).decode(),
                    key.hex(),
                    iv.hex(),
                    str(end_port),
                )
            )
            dev.event()
            srv.event()  # the server registered the peer: its names route
            front = stack.enter_context(
                node("bench._snitun", "originate", str(directory), str(ports["sni"]), *names)
            )
            yield (
                {k: int(v) for k, v in front.event().items()},
                [srv.pid, dev.pid, end.pid, front.pid],
            )


def main(argv: list[str]) -> None:
    import logging  # noqa: PLC0415

    logging.basicConfig(level=logging.ERROR)
    role, *args = argv
    if role == "server":
        asyncio.run(server(args[0]))
    elif role == "client":
        token, key, iv = args[1].encode(), bytes.fromhex(args[2]), bytes.fromhex(args[3])
        asyncio.run(client(int(args[0]), token, key, iv, int(args[4])))
    elif role == "terminate":
        targets = {k: int(v) for k, v in (arg.split("=", 1) for arg in args[1:])}
        asyncio.run(terminate(Path(args[0]), targets))
    elif role == "originate":
        asyncio.run(originate(Path(args[0]), int(args[1]), args[2:]))
    else:
        raise SystemExit(f"unknown role {role!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
