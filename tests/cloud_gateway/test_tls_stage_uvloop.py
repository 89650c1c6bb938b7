"""The pre-TLS stage on uvloop's loop (ADR 0027, ADR 0032).

uvloop starts reading a new transport after ``connection_made`` whatever the protocol asked
there; a stage that paused its transport in ``connection_made`` to keep the ClientHello in
the socket lost it to that first read whenever the client's bytes were already there. The
stage now owns the bare socket until TLS. Here each client is a blocking TLS socket in a
thread: it connects and sends its ClientHello (behind HAProxy, after the PROXY header) before
the gateway's loop has even accepted it, and every handshake must succeed.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cloud_gateway.tls import ensure_server_tls
from cloud_gateway.tls_budget import TlsBudget, TlsBudgetLimits
from tests.cloud_gateway.test_proxy_site import proxy_v4
from tests.cloud_gateway.test_tls_budget import hello_site

CLIENTS = 20


def _get(port: int, ctx: ssl.SSLContext, header: bytes) -> str:
    """A blocking client: (header,) ClientHello at once, GET /, the body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(header)
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            response = b""
            while data := tls.recv(65536):
                response += data
    return response.partition(b"\r\n\r\n")[2].decode()


async def _answers(tmp_path: Path, *, proxy: bool) -> list[str]:
    tls = ensure_server_tls(tmp_path, "localhost", datetime.now(UTC))
    assert tls.ca_cert is not None
    client_ctx = ssl.create_default_context(cafile=str(tls.ca_cert))
    budget = TlsBudget(TlsBudgetLimits(handshakes=CLIENTS, per_source=CLIENTS))
    runner, port = await hello_site(tls, budget, proxy=proxy)
    try:
        async with asyncio.timeout(30):
            return await asyncio.gather(
                *(
                    asyncio.to_thread(
                        _get,
                        port,
                        client_ctx,
                        proxy_v4(f"198.51.100.{n + 1}", 40000 + n) if proxy else b"",
                    )
                    for n in range(CLIENTS)
                )
            )
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("proxy", [False, True], ids=["direct", "behind-haproxy"])
def test_every_early_client_hello_reaches_tls_on_uvloop(tmp_path: Path, proxy: bool) -> None:
    uvloop = pytest.importorskip("uvloop")
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        answers = runner.run(_answers(tmp_path, proxy=proxy))
    expected = [f"198.51.100.{n + 1}" for n in range(CLIENTS)] if proxy else ["127.0.0.1"] * CLIENTS
    assert answers == expected
