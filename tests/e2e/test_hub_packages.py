"""A CCU hub is told its packages through the tunnel: at WELCOME and whenever they change."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

from cloud_gateway.entitlements.windows import Booking
from cloud_gateway.http.keys import ENTITLEMENTS
from tests.support.gateway import gateway_harness
from tests.support.tunnel_device import TestDevice, enrol_device, open_tunnel
from tests.tunnel.sessions import until
from tunnel.clock import ManualClock
from tunnel.frames import RefusalReason


def packages(controls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in controls if c.get("type") == "packages"]


async def test_packages_at_welcome_after_booking_and_at_expiry(
    tmp_path: Path, clock: ManualClock
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db, clock) as gw:
        anna = await gw.create_account("anna")
        device = TestDevice(tmp_path / "device", gw.gateway.tls.ca_cert or Path())
        slug = await enrol_device(gw, device, "anna")
        client = await open_tunnel(gw.url, device.client_ssl())
        try:
            async with asyncio.timeout(5):
                await until(lambda: len(packages(client.controls)) >= 1)
            first = packages(client.controls)[0]
            assert first["account"] == {"id": anna.id, "username": "anna"}
            assert first["device"] == slug
            assert [p["state"] for p in first["packages"]] == ["trial"]

            service = gw.gateway.runner.app[ENTITLEMENTS]
            await service.book_package(
                account_id=anna.id,
                paid_at=clock.now(),
                days=30,
                booking=Booking.SINGLE,
                product="remote-1m",
                source="order:1",
                idempotency_key="order-1",
            )
            async with asyncio.timeout(5):
                await until(lambda: len(packages(client.controls)) >= 2)
            booked = packages(client.controls)[1]["packages"]
            assert [p["state"] for p in booked] == ["trial", "active"]
            assert booked[1]["starts_at"] == booked[0]["ends_at"]  # R-CCU-13

            clock.advance(timedelta(days=61))
            async with asyncio.timeout(5):
                await until(client.task.done)
            last = packages(client.controls)[-1]["packages"]
            assert [p["state"] for p in last] == ["expired", "expired"]
            assert client.session.refusal is not None
            assert client.session.refusal.reason is RefusalReason.EXPIRED
        finally:
            await client.stop()
