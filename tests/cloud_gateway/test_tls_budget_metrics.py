"""The TLS handshake budget's counters in the gateway's ``/metrics`` (ADR 0032).

A real gateway on port 0 with a tiny budget; silent TCP connections from loopback addresses
hold places, get refused, wait in the queue, expire or give up; then an HTTPS scrape reads
every counter back.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from cloud_gateway.config import GatewayConfig, HttpConfig, OperatorConfig
from tests.cloud_gateway.test_tls_budget import closed_at_once, until
from tests.support.gateway import gateway_harness
from tunnel.clock import ManualClock

TINY = HttpConfig(
    tls_handshakes_max=2,
    tls_handshake_queue=1,
    tls_handshake_queue_wait_s=0.5,
    tls_handshakes_per_source=2,
)
"""Two handshakes, one queue place for half a second, two places per address."""


async def test_the_budget_counters_are_in_metrics(
    tmp_path: Path, clock: ManualClock, db_url: str
) -> None:
    config = replace(GatewayConfig(), http=TINY, operator=OperatorConfig(metrics_token="scrape-me"))
    async with gateway_harness(tmp_path, db_url, clock, config) as gw:
        budget = gw.gateway.tls_budget
        port = gw.gateway.port
        opened: list[asyncio.StreamWriter] = []

        async def silent(source: str) -> asyncio.StreamReader:
            """A TCP connection that never sends its ClientHello."""
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", port, local_addr=(source, 0)
            )
            opened.append(writer)
            return reader

        try:
            await silent("127.0.0.1")
            await silent("127.0.0.1")  # both places, 127.0.0.1's whole share
            await until(lambda: budget.in_progress == 2)
            assert await closed_at_once(await silent("127.0.0.1"))  # over its share
            expiring = await silent("127.0.0.2")  # the one queue place
            await until(lambda: budget.waiting == 1)
            assert await closed_at_once(await silent("127.0.0.3"))  # queue full
            assert await closed_at_once(expiring)  # no place within 0.5 s
            await silent("127.0.0.2")
            await until(lambda: budget.waiting == 1)
            opened[-1].close()  # the device gives up while queued
            await until(lambda: budget.gave_up == 1)
            opened[1].close()  # a place for the scrape's own handshake
            await until(lambda: budget.in_progress == 1)

            async with (
                gw.client() as scraper,
                scraper.get("/metrics", headers={"Authorization": "Bearer scrape-me"}) as r,
            ):
                assert r.status == 200
                text = await r.text()
        finally:
            for writer in opened:
                writer.close()

    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        if family.name.startswith("cloudconnector_tls_")
        for s in family.samples
    }
    assert samples == {
        ("cloudconnector_tls_handshakes_started_total", ()): 3.0,  # two silent, the scrape
        ("cloudconnector_tls_handshakes_queued_total", ()): 2.0,
        ("cloudconnector_tls_handshakes_refused_total", (("reason", "full"),)): 1.0,
        ("cloudconnector_tls_handshakes_refused_total", (("reason", "source"),)): 1.0,
        ("cloudconnector_tls_handshakes_dropped_total", (("reason", "expired"),)): 1.0,
        ("cloudconnector_tls_handshakes_dropped_total", (("reason", "gave_up"),)): 1.0,
        ("cloudconnector_tls_handshakes_in_progress", ()): 1.0,  # the first silent one
        ("cloudconnector_tls_handshakes_waiting", ()): 0.0,
        ("cloudconnector_tls_handshakes_max", ()): 2.0,
    }
