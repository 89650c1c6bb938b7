"""Enrolment by pairing code against a real gateway over TLS (R-DEV-8)."""

from __future__ import annotations

import stat
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from cryptography import x509

from cloud_gateway.accounts.repository import AccountRepository
from cloud_gateway.config import EnrolmentConfig, GatewayConfig
from cloud_gateway.devices.repository import DeviceRepository
from tests.support.gateway import GatewayHarness, gateway_harness
from tests.support.tunnel_device import TestDevice
from tunnel.clock import ManualClock


def _db(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"


async def _enter_code(gw: GatewayHarness, login: str, code: str) -> tuple[int, str]:
    async with gw.client() as http:
        await gw.login(http, login)
        token = await gw.form_token(http, "/portal/devices/pair")
        async with http.post(
            "/portal/devices/pair", data={"csrf_token": token, "code": code}
        ) as resp:
            return resp.status, await resp.text()


async def test_device_enrols_with_a_code_its_owner_enters(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, _db(tmp_path), clock) as gw:
        await gw.create_account("anna")
        device = TestDevice(tmp_path / "device", gw.gateway.tls.ca_cert or Path())
        async with device.http(gw.url) as http:
            answer = await device.request_enrolment(http)
            code, poll_url = str(answer["pairing_code"]), str(answer["poll_url"])
            assert len(code) == 9
            assert code[4] == "-"
            pending = await device.collect(http, poll_url)
            assert pending["http_status"] == 202
            assert pending["status"] == "pending"

            status, page = await _enter_code(gw, "anna", code.lower().replace("-", " "))
            assert status == 200, page
            assert "Gerät gekoppelt" in page

            issued = await device.collect(http, poll_url)
            assert issued["http_status"] == 200
            again = await device.collect(http, poll_url)
            assert again["certificate"] == issued["certificate"]

        assert device.slug is not None
        assert device.slug.startswith("meine-ccu-")
        assert device.slug in page
        cert = x509.load_pem_x509_certificate(str(issued["certificate"]).encode())
        ca = x509.load_pem_x509_certificate(str(issued["ca_certificate"]).encode())
        cert.verify_directly_issued_by(ca)
        assert cert.public_key() == device.key.public_key()
        assert stat.S_IMODE((device.folder / "device.key").stat().st_mode) == 0o600
        owner = await gw.gateway.store.repo(AccountRepository).find_by_login("anna")
        assert owner is not None
        [stored] = await gw.gateway.store.repo(DeviceRepository).list_for_account(owner.id)
        assert stored.slug == device.slug
        assert stored.name == "Meine CCU"

        # single use: nobody can claim the same code again
        await gw.create_account("bert")
        status, page = await _enter_code(gw, "bert", code)
        assert status == 400
        assert "unbekannt, abgelaufen oder schon benutzt" in page


async def test_codes_expire(tmp_path: Path, clock: ManualClock) -> None:
    async with gateway_harness(tmp_path, _db(tmp_path), clock) as gw:
        await gw.create_account("anna")
        device = TestDevice(tmp_path / "device", gw.gateway.tls.ca_cert or Path())
        async with device.http(gw.url) as http:
            answer = await device.request_enrolment(http)
            clock.advance(timedelta(minutes=15))
            status, _page = await _enter_code(gw, "anna", str(answer["pairing_code"]))
            assert status == 400
            expired = await device.collect(http, str(answer["poll_url"]))
            assert expired["http_status"] == 410
            unknown = await device.collect(http, "/api/v1/enrol/nonsense")
            assert unknown["http_status"] == 404


async def test_guessing_codes_is_rate_limited(tmp_path: Path, clock: ManualClock) -> None:
    config = replace(
        GatewayConfig(), enrolment=EnrolmentConfig(max_guesses_per_source=3, guess_window_s=60)
    )
    async with gateway_harness(tmp_path, _db(tmp_path), clock, config) as gw:
        await gw.create_account("mallory")
        device = TestDevice(tmp_path / "device", gw.gateway.tls.ca_cert or Path())
        async with device.http(gw.url) as http:
            answer = await device.request_enrolment(http)
        statuses = [(await _enter_code(gw, "mallory", "ZZZZ-ZZZZ"))[0] for _ in range(3)]
        assert statuses == [400, 400, 400]
        # even the right code is not looked at while the limit holds
        status, page = await _enter_code(gw, "mallory", str(answer["pairing_code"]))
        assert status == 429
        assert "Zu viele falsche Codes" in page
        clock.advance(timedelta(seconds=61))
        status, _page = await _enter_code(gw, "mallory", str(answer["pairing_code"]))
        assert status == 200


async def test_enrolment_requests_are_validated(tmp_path: Path, clock: ManualClock) -> None:
    async with gateway_harness(tmp_path, _db(tmp_path), clock) as gw:
        device = TestDevice(tmp_path / "device", gw.gateway.tls.ca_cert or Path())
        async with device.http(gw.url) as http:
            bodies: list[object] = [
                {"csr": "junk", "kind": "ccu", "name": ""},
                {"csr": "junk", "kind": "toaster"},
                ["not", "an", "object"],
            ]
            errors = []
            for body in bodies:
                async with http.post("/api/v1/enrol", json=body) as resp:
                    errors.append((resp.status, (await resp.json())["error"]))
            async with http.post("/api/v1/enrol", data=b"{") as resp:
                errors.append((resp.status, (await resp.json())["error"]))
        assert errors == [
            (400, "invalid_csr"),
            (400, "invalid_request"),
            (400, "invalid_request"),
            (400, "invalid_request"),
        ]
        async with (
            gw.client() as browser,
            browser.get("/portal/devices/pair", allow_redirects=False) as resp,
        ):
            assert resp.status == 303
