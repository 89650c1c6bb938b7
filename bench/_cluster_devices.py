"""Device processes of ``python -m bench cluster``: many device sessions in one process.

``python -m bench._cluster_devices FOLDER CA_FILE URL WEB_PORT RATE SLUG [SLUG...]``: one
:class:`TunnelConnector` per slug (its certificate ``FOLDER/SLUG.pem`` and key
``FOLDER/SLUG.key`` from the device CA), all to ``URL``, each stream spliced to the tiny web
page on ``127.0.0.1:WEB_PORT``, started at RATE connects a second. Commands on stdin, one
JSON line each:
``{"cmd": "url", "url": U}`` -> ``{"url": U}``: every later connect goes to ``U`` (the bench
first connects all devices to the node it will kill, then points them at HAProxy, as devices
that HAProxy had all sent to that node); ``{"cmd": "connected"}`` -> ``{"connected": n}``:
sessions up now. The process ends when stdin closes.

Like the ``tunnel-scale`` device processes it runs at ``nice`` +5 with the shared TLS read
buffer (real devices bring their own CPUs).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from pathlib import Path

from bench._nodes import emit
from bench._scale_nodes import DEVICE_NICE, raise_nofile
from tunnel.backoff import Backoff, BackoffPolicy
from tunnel.cliutil import prepare_tunnel_end
from tunnel.clock import SystemClock
from tunnel.connector import TunnelConnector, client_ssl_context
from tunnel.frames import PROTOCOL_VERSIONS, Hello
from tunnel.streams import Stream
from tunnel.tcp_splice import splice_tcp

__all__: list[str] = []

_HELLO = Hello(
    versions=PROTOCOL_VERSIONS, capabilities=("streams",), software="bench", device_kind="ccu"
)


async def _devices(  # noqa: PLR0917 - the command line's parts
    folder: Path, ca_file: Path, url: str, web_port: int, rate: float, slugs: list[str]
) -> None:
    raise_nofile(len(slugs) * 2 + 256)
    os.nice(DEVICE_NICE)
    prepare_tunnel_end()

    async def serve(stream: Stream) -> None:
        await splice_tcp(stream, "127.0.0.1", web_port)

    connectors = [
        TunnelConnector(
            url=url,
            ssl_context=client_ssl_context(ca_file, folder / f"{slug}.pem", folder / f"{slug}.key"),
            hello=_HELLO,
            clock=SystemClock(),
            on_open=serve,
            backoff=Backoff(BackoffPolicy(base=1.0, cap=10.0)),
            name=slug,
        )
        for slug in slugs
    ]
    runners = []
    for i, connector in enumerate(connectors):
        runners.append(asyncio.create_task(connector.run(), name=slugs[i]))
        if i % 10 == 9:  # a steady ramp: a node all of them go to completes it
            await asyncio.sleep(10 / rate)
    emit(started=len(connectors))
    while line := await asyncio.to_thread(sys.stdin.readline):
        command = json.loads(line)
        if command["cmd"] == "url":
            for connector in connectors:
                connector.url = command["url"]
            emit(url=command["url"])
        elif command["cmd"] == "connected":
            emit(connected=sum(1 for c in connectors if c.session is not None))
    await asyncio.gather(*(c.stop() for c in connectors))
    await asyncio.gather(*runners, return_exceptions=True)


def main(argv: list[str]) -> None:
    # Thousands of disconnects are the point here; the directory rows tell.
    logging.basicConfig(level=logging.CRITICAL)
    folder, ca_file, url, web_port, rate, *slugs = argv
    asyncio.run(_devices(Path(folder), Path(ca_file), url, int(web_port), float(rate), slugs))


if __name__ == "__main__":
    main(sys.argv[1:])
