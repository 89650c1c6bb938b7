"""The gateway's TLS settings: no session tickets (ADR 0007), TLS >= 1.2."""

from __future__ import annotations

import contextlib
import ssl
from datetime import UTC, datetime
from pathlib import Path

from cloud_gateway.tls import ensure_server_tls, server_ssl_context


def _handshake(server: ssl.SSLContext, client: ssl.SSLContext) -> ssl.SSLObject:
    """A full handshake in memory; the client then reads what the server sent after it."""
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    server_out, client_out = ssl.MemoryBIO(), ssl.MemoryBIO()
    server_side = server.wrap_bio(to_server, server_out, server_side=True)
    client_side = client.wrap_bio(to_client, client_out, server_hostname="gateway.test")
    for _ in range(4):
        for side in (client_side, server_side):
            with contextlib.suppress(ssl.SSLWantReadError):
                side.do_handshake()
            to_server.write(client_out.read())
            to_client.write(server_out.read())
    with contextlib.suppress(ssl.SSLWantReadError):
        client_side.read(1)  # takes in NewSessionTicket messages, if any came
    return client_side


def test_the_gateway_sends_no_session_tickets(tmp_path: Path) -> None:
    # OpenSSL checks validity against the real clock, so the certificate is made for now
    tls = ensure_server_tls(tmp_path, "gateway.test", datetime.now(UTC))
    server = server_ssl_context(tls)
    assert server.num_tickets == 0
    assert server.minimum_version is ssl.TLSVersion.TLSv1_2
    client = ssl.create_default_context(cafile=str(tls.ca_cert))
    done = _handshake(server, client)
    assert done.version() == "TLSv1.3"
    session = done.session
    assert session is None or not session.has_ticket
    # the same handshake against a context with OpenSSL's default does get a ticket
    server.num_tickets = 2
    ticketed = _handshake(server, client).session
    assert ticketed is not None
    assert ticketed.has_ticket
