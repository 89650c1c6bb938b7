"""Operator API and metrics against a real gateway with a real tunnel (R-OPS-1, R-OPS-3)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from cloud_gateway.accounts.model import Role
from cloud_gateway.config import GatewayConfig, OperatorConfig
from tests.support.console import staff_login
from tests.support.device_webui import browser
from tests.support.gateway import gateway_harness
from tests.support.tunnel_device import TestDevice, enrol_device, open_tunnel
from tunnel.clock import ManualClock
from tunnel.frames import RefusalReason
from tunnel.session import DisconnectReason


def _db(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"


async def test_operator_lists_tunnels_and_acts_on_devices(
    tmp_path: Path, clock: ManualClock
) -> None:
    config = replace(GatewayConfig(), operator=OperatorConfig(metrics_token="scrape-me"))
    async with gateway_harness(tmp_path, _db(tmp_path), clock, config) as gw:
        await gw.create_account("anna")
        await gw.create_account("olga", role=Role.OPERATOR)
        device = TestDevice(tmp_path / "device", gw.gateway.tls.ca_cert or Path())
        slug = await enrol_device(gw, device, "anna")
        client = await open_tunnel(gw.url, device.client_ssl())
        try:
            async with browser(gw.url, gw.ssl_context) as anon:
                async with anon.get("/api/v1/operator/tunnels") as r:
                    assert r.status == 401
                async with anon.get("/metrics") as r:
                    assert r.status == 401
                await gw.login(anon, "anna")
                async with anon.get("/api/v1/operator/tunnels") as r:
                    assert r.status == 403
                    assert (await r.json())["error"] == "operator_role_required"

            async with browser(gw.url, gw.ssl_context) as olga:
                await gw.login(olga, "olga")
                async with olga.get("/api/v1/operator/tunnels") as r:
                    assert r.status == 403  # the password alone is not enough
                    assert (await r.json())["error"] == "second_factor_required"
                csrf = await staff_login(gw, olga, "olga", clock)
                json_headers = {"X-CSRF-Token": csrf}
                async with olga.get("/api/v1/operator/tunnels") as r:
                    assert r.status == 200
                    [row] = (await r.json())["tunnels"]
                assert row["device"] == slug
                assert row["account"] == "anna"
                assert row["software"] == "test-device 1.0"
                assert row["device_kind"] == "ccu"
                assert row["protocol_version"] == 1
                assert row["peer"] == "127.0.0.1"
                assert row["bytes_in"] > 0
                assert row["bytes_out"] > 0
                assert row["open_streams"] == 0
                assert row["since"] == (clock.now() - timedelta(seconds=30)).isoformat()

                # a form post or a JSON post without its CSRF token is refused
                disconnect = f"/api/v1/operator/devices/{slug}/disconnect"
                async with olga.post(disconnect) as r:
                    assert r.status == 403
                async with olga.post(disconnect, json={"reason": "test"}) as r:
                    assert r.status == 403
                    assert (await r.json())["error"] == "csrf_token_invalid"
                async with olga.post(disconnect, json={}, headers=json_headers) as r:
                    assert r.status == 400  # the reason is required
                async with olga.post(
                    disconnect, json={"reason": "Wartung am Knoten"}, headers=json_headers
                ) as r:
                    assert (await r.json()) == {"device": slug, "disconnected": True}
                assert await client.closed() is DisconnectReason.CLEAN
                assert client.controls[-1]["type"] == "disconnect"
                assert client.controls[-1]["reason"] == "Wartung am Knoten"
                await client.stop()

                client = await open_tunnel(gw.url, device.client_ssl())
                async with olga.post(
                    f"/api/v1/operator/devices/{slug}/disable",
                    json={"disabled": True, "reason": "Missbrauch"},
                    headers=json_headers,
                ) as r:
                    assert (await r.json())["disabled"] is True
                assert await client.closed() is DisconnectReason.REFUSED
                assert client.session.refusal is not None
                assert "Missbrauch" in client.session.refusal.detail
                await client.stop()
                async with olga.post(
                    f"/api/v1/operator/devices/{slug}/disable",
                    json={"disabled": False, "reason": "geklärt"},
                    headers=json_headers,
                ) as r:
                    assert (await r.json())["disabled"] is False

                client = await open_tunnel(gw.url, device.client_ssl())
                token = await gw.form_token(olga, "/console/devices/" + slug)
                async with olga.post(
                    f"/api/v1/operator/devices/{slug}/revoke",
                    data={"csrf_token": token, "reason": "stolen"},
                ) as r:
                    assert (await r.json()) == {"device": slug, "revoked": 1}
                assert await client.closed() is DisconnectReason.REFUSED
                assert client.session.refusal is not None
                assert client.session.refusal.reason == RefusalReason.REVOKED
                async with olga.post(
                    "/api/v1/operator/devices/nope/revoke",
                    json={"reason": "x"},
                    headers=json_headers,
                ) as r:
                    assert r.status == 404

                # refusals by reason: since the start and the current hour's bar of the last 24
                async with olga.get("/console/tunnels") as r:
                    assert r.status == 200
                    page = await r.text()
                for reason in ("forbidden", "revoked"):
                    row = page[page.index(f'<tr data-reason="{reason}">') :]
                    row = row[: row.index("</tr>")]
                    assert '<td class="since-start">1</td><td class="day">1</td>' in row
                    assert row.count("<rect ") == 24
                    assert row.count('data-count="1"') == 1  # the current hour, drawn last
                    assert row.rindex('data-count="1"') > row.rindex('data-count="0"')

                async with olga.get("/metrics") as r:
                    assert r.status == 200
                    text = await r.text()
            async with (
                browser(gw.url, gw.ssl_context) as scraper,
                scraper.get("/metrics", headers={"Authorization": "Bearer scrape-me"}) as r,
            ):
                assert r.status == 200
                assert r.headers["Content-Type"].startswith("text/plain")
        finally:
            await client.stop()

    assert "cloudconnector_tunnel_connects_total 3.0" in text
    assert "cloudconnector_tunnels_open " in text
    assert 'cloudconnector_tunnel_refusals_total{reason="forbidden"} 1.0' in text
    assert 'cloudconnector_tunnel_refusals_total{reason="revoked"} 1.0' in text
    assert 'cloudconnector_tunnel_refusals_24h{reason="forbidden"} 1.0' in text
    assert 'cloudconnector_tunnel_disconnects_total{reason="clean"}' in text
    assert 'cloudconnector_tunnel_bytes_total{direction="to_device"}' in text
    assert "cloudconnector_tunnel_credit_stalls_total" in text
    assert "cloudconnector_tunnel_streams_total" in text
    assert "cloudconnector_tunnel_heartbeat_rtt_seconds_bucket" in text
