"""HTTP through the gateway's remote-access URL against the same request direct.

The real gateway (:func:`cloud_gateway.server.start_gateway` on SQLite, TLS, its device
CA) with a real device: enrolled through the pairing flow, tunnel to ``/tunnel/v1`` with
its client certificate, each stream spliced to a small local web UI. A browser logs in,
opens remote access (handover to ``https://<slug>.gateway.localhost:<port>/``), then times
sequential keep-alive ``GET /`` requests there and the same requests straight to the web UI.

The fakes (web UI, test device, browser) are the test suite's shared ones from
``tests/support``, so this leg runs from a source checkout, all in one process and one
event loop (browser, gateway and device share the GIL: the ratio is pessimistic).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp

from bench._client import percentile
from cloud_gateway.config import GatewayConfig, HttpConfig
from tunnel.clock import ManualClock
from tunnel.streams import Stream

__all__ = ["HttpResult", "measure"]

PORTAL = "gateway.localhost"


@dataclass
class HttpResult:
    """Metrics of the HTTP leg and ``http_rtt_p50_vs_direct`` (None if it could not run)."""

    metrics: dict[str, Any] = field(default_factory=dict)
    ratio: float | None = None


async def _timed(http: aiohttp.ClientSession, url: str, count: int) -> list[float]:
    samples = []
    for _ in range(count + 10):
        begin = time.perf_counter()
        async with http.get(url) as resp:
            await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"GET {url}: HTTP {resp.status}")
        samples.append(time.perf_counter() - begin)
    return samples[10:]  # the first ones open connections and streams


async def _measure(count: int, tmp: Path) -> HttpResult:
    # Imported here, not at the top: the fakes live in the test tree of a source checkout,
    # and without it only this leg is skipped.
    from tests.support.device_webui import browser, start_webui  # noqa: PLC0415
    from tests.support.gateway import gateway_harness  # noqa: PLC0415
    from tests.support.tunnel_device import (  # noqa: PLC0415
        TestDevice,
        enrol_device,
        open_tunnel,
        splice_to,
    )

    runner, port = await start_webui()

    async def serve(stream: Stream) -> None:
        await splice_to(stream, "127.0.0.1", port)

    config = replace(GatewayConfig(), remote_domain=PORTAL, http=HttpConfig(public_host=PORTAL))
    db = f"sqlite+aiosqlite:///{tmp / 'gw.sqlite3'}"
    try:
        async with gateway_harness(tmp, db, ManualClock(), config) as gw:
            await gw.create_account("bench")
            device = TestDevice(tmp / "device", gw.gateway.tls.ca_cert or Path())
            slug = await enrol_device(gw, device, "bench")
            client = await open_tunnel(gw.url, device.client_ssl(), on_open=serve)
            try:
                async with browser(gw.url, gw.ssl_context) as http:
                    await gw.login(http, "bench")
                    token = await gw.form_token(http, f"/remote/{slug}/open")
                    async with http.post(
                        f"/remote/{slug}/open", data={"csrf_token": token}
                    ) as landed:
                        await landed.read()
                    device_url = f"https://{slug}.{PORTAL}:{gw.gateway.port}/"
                    remote = await _timed(http, device_url, count)
                async with aiohttp.ClientSession() as direct_http:
                    direct = await _timed(direct_http, f"http://127.0.0.1:{port}/", count)
            finally:
                await client.stop()
    finally:
        await runner.cleanup()
    remote_p50, direct_p50 = percentile(remote, 50), percentile(direct, 50)
    return HttpResult(
        {
            "http_rtt_p50_ms_remote": remote_p50 * 1e3,
            "http_rtt_p99_ms_remote": percentile(remote, 99) * 1e3,
            "http_rtt_p50_ms_direct": direct_p50 * 1e3,
            "http_rtt_p99_ms_direct": percentile(direct, 99) * 1e3,
        },
        remote_p50 / direct_p50,
    )


def measure(requests: int, tmp: Path) -> HttpResult:
    """Run the HTTP leg; a missing test tree or gateway gives a null ratio and a note."""
    try:
        return asyncio.run(_measure(requests, tmp))
    except ImportError as exc:
        return HttpResult({"http": f"skipped: {exc}"}, None)
