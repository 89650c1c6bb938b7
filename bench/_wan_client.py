"""The WAN bench's client side: upload, a browser-like page load, a backup alongside.

Blocking sockets and threads like :mod:`bench._client`; every path is a TCP port on
loopback, only what lies behind it differs.
"""

from __future__ import annotations

import contextlib
import http.client
import queue
import socket
import struct
import threading
import time
from collections.abc import Iterator, Sequence

__all__ = ["PAGE", "backup_running", "page_load", "upload"]

_SIZE = struct.Struct("!Q")

PAGE: tuple[str, ...] = tuple(
    [
        "/login.htm",
        "/webui/style.css",
        "/webui/webui.js",
        "/pages/img/ccu-logo.svg",
    ]
    + [f"/webui/big.bin?size={size}" for size in (2_000, 6_000, 12_000, 24_000, 48_000) * 5]
    + ["/webui/big.bin?size=3000"]
)
"""30 resources of a WebUI page (assets and generated files of 2-48 kB; 0.5 MB in all)."""


def upload(port: int, nbytes: int) -> float:
    """Send ``nbytes`` to the sink and wait for its count; seconds."""
    chunk = bytes(1024 * 1024)
    with socket.create_connection(("127.0.0.1", port)) as sock:
        begin = time.perf_counter()
        left = nbytes
        while left:
            take = min(left, len(chunk))
            sock.sendall(chunk[:take])
            left -= take
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while len(answer) < _SIZE.size:
            got = sock.recv(_SIZE.size - len(answer))
            if not got:
                raise ConnectionError("sink closed before answering")
            answer += got
        elapsed = time.perf_counter() - begin
    (count,) = _SIZE.unpack(answer)
    if count != nbytes:
        raise ConnectionError(f"sink counted {count} of {nbytes} bytes")
    return elapsed


def page_load(port: int, paths: Sequence[str] = PAGE, connections: int = 6) -> float:
    """GET every path over ``connections`` keep-alive HTTP/1.1 connections, as a browser
    does; seconds from the first request to the last byte of the last response."""
    todo: queue.SimpleQueue[str] = queue.SimpleQueue()
    for path in paths:
        todo.put(path)
    errors: list[BaseException] = []

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            while True:
                try:
                    path = todo.get_nowait()
                except queue.Empty:
                    return
                conn.request("GET", path, headers={"Host": "ccu"})
                response = conn.getresponse()
                body = response.read()
                if response.status != 200 or not body:
                    raise ConnectionError(f"GET {path}: {response.status}")
        except (OSError, http.client.HTTPException) as exc:
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    begin = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - begin
    if errors:
        raise errors[0]
    return elapsed


@contextlib.contextmanager
def backup_running(port: int, nbytes: int) -> Iterator[None]:
    """A large download from the source flows (its first MiB arrived) while inside."""
    flowing = threading.Event()
    stop = threading.Event()
    sock = socket.create_connection(("127.0.0.1", port))

    def receive() -> None:
        buffer = bytearray(256 * 1024)
        got = 0
        with contextlib.suppress(OSError):
            sock.sendall(_SIZE.pack(nbytes))
            while not stop.is_set() and got < nbytes:
                n = sock.recv_into(buffer)
                if n == 0:
                    break
                got += n
                if got >= 1024 * 1024:
                    flowing.set()
        flowing.set()

    thread = threading.Thread(target=receive, name="backup", daemon=True)
    thread.start()
    try:
        flowing.wait(60)
        yield
    finally:
        stop.set()
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        thread.join(10)
        sock.close()
