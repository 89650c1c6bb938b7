"""Remote access: audit written in batches (and at shutdown), delegated installers,
changes of entitlement enforced at once when announced (R-DEV-7, R-DEV-11, R-MON-20).

Browser ──TLS──► gateway (device host) ──tunnel stream──► test device ──TCP──► web UI.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import aiohttp

from cloud_gateway.accounts.model import Role
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.http.keys import CONFIG, TUNNELS
from cloud_gateway.remote.repository import RemoteAccessRepository, RemoteSession
from cloud_gateway.store import Store
from tests.e2e.test_tunnel_remote import Remote, remote_env
from tunnel.clock import ManualClock


async def _audit(store: Store, env: Remote) -> RemoteSession:
    [record] = await store.repo(RemoteAccessRepository).list_sessions(
        device_id=(await env.device()).id
    )
    return record


async def _get(http: aiohttp.ClientSession, url: str, count: int = 1) -> int:
    status = 0
    for _ in range(count):
        async with http.get(url) as r:
            await r.read()
            status = r.status
    return status


async def _api(
    env: Remote, http: aiohttp.ClientSession, method: str, path: str, body: object = None
) -> aiohttp.ClientResponse:
    csrf = await env.gw.form_token(http, "/portal")
    async with http.request(method, path, json=body, headers={"X-CSRF-Token": csrf}) as resp:
        await resp.read()
        return resp


async def test_traffic_reaches_the_audit_by_interval_and_at_shutdown(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with remote_env(tmp_path, clock) as env:
        store = env.gw.gateway.store
        config = env.gw.gateway.runner.app[CONFIG].remote
        async with env.browser() as http:
            landed = await env.open(http)  # the landing page is the first proxied request
            assert landed.status == 200
            assert await _get(http, f"{env.device_url}/headers", 10) == 200
            record = await _audit(store, env)
            assert (record.requests, record.bytes_to_device) == (0, 0)  # not per request

            clock.advance(config.audit_flush_s)
            async with asyncio.timeout(5):
                while (record := await _audit(store, env)).requests == 0:  # noqa: ASYNC110 - a row
                    await asyncio.sleep(0.02)
            assert record.requests == 11
            assert record.bytes_to_device > 0
            assert record.bytes_from_device > 0
            assert record.last_seen_at == clock.now() - timedelta(seconds=config.audit_flush_s)
            flushed = record

            assert await _get(http, f"{env.device_url}/headers", 5) == 200
            await env.client.stop()
            await env.gw.gateway.stop()  # shutdown writes what is still counted
        reopened = await Store.open(str(store.engine.url))
        try:
            final = await _audit(reopened, env)
        finally:
            await reopened.close()
    assert final.requests == 16
    assert final.bytes_from_device > flushed.bytes_from_device
    assert final.bytes_to_device > flushed.bytes_to_device


async def test_installer_opens_the_device_only_while_delegated(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with remote_env(tmp_path, clock) as env:
        await env.gw.create_account("ivo", role=Role.INSTALLER)
        device = await env.device()
        async with env.browser() as ivo:
            await env.gw.login(ivo, "ivo")
            async with ivo.get(f"/remote/{env.slug}/open") as r:
                assert r.status == 404  # without a delegation the device looks like none

            async with env.browser() as anna:
                await env.gw.login(anna, "anna")
                plant_only = await _api(
                    env, anna, "POST", "/api/v1/delegations", {"installer": "ivo"}
                )
                assert plant_only.status == 201
                async with ivo.get(f"/remote/{env.slug}/open") as r:
                    assert r.status == 404  # monitoring plants is not opening the hub
                created = await _api(
                    env,
                    anna,
                    "POST",
                    "/api/v1/delegations",
                    {"installer": "ivo", "device_id": device.id},
                )
                assert created.status == 201
                delegation = await _api(env, anna, "GET", "/api/v1/delegations")
                assert delegation.status == 200

                landed = await env.open(ivo, login="ivo")
                assert landed.status == 200
                assert "CCU WebUI" in await landed.text()
                assert await _get(ivo, f"{env.device_url}/headers") == 200

                async with anna.get("/api/v1/delegations") as r:
                    given = (await r.json())["given"]
                [device_delegation] = [d for d in given if d["device_id"] == device.id]
                revoked = await _api(
                    env, anna, "DELETE", f"/api/v1/delegations/{device_delegation['id']}"
                )
                assert revoked.status == 200

            clock.advance(5)  # revocation is enforced within 5 s
            async with ivo.get(f"{env.device_url}/") as r:
                assert r.status == 403
                assert 'data-reason="not_yours"' in await r.text()
    records = await env.gw.gateway.store.repo(RemoteAccessRepository).list_sessions(
        device_id=device.id
    )
    assert [r.username for r in records] == ["ivo"]
    assert records[0].ended_at is not None


async def test_a_device_of_someone_else_cannot_be_delegated(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with remote_env(tmp_path, clock) as env:
        await env.gw.create_account("bert")
        await env.gw.create_account("ivo", role=Role.INSTALLER)
        async with env.browser() as bert:
            await env.gw.login(bert, "bert")
            body = {"installer": "ivo", "device_id": (await env.device()).id}
            refused = await _api(env, bert, "POST", "/api/v1/delegations", body)
            assert refused.status == 422


async def test_operator_disabling_the_device_is_enforced_at_the_next_request(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with remote_env(tmp_path, clock) as env, env.browser() as http:
        await env.open(http)
        assert await _get(http, f"{env.device_url}/headers") == 200
        device = await env.device()
        # what the operator's "disable" does: set the flag, then tell the tunnel registry
        await env.gw.gateway.store.repo(DeviceRepository).set_disabled(env.slug, disabled=True)
        await env.gw.gateway.runner.app[TUNNELS].entitlement_changed(device.id)
        async with http.get(f"{env.device_url}/") as r:  # no clock advance: at once
            assert r.status == 403
            assert 'data-reason="not_entitled"' in await r.text()
