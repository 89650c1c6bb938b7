"""Issue 20, test 5 (enforcement) and the activation-code rate figure of test 10.

1. Forged and tampered device credentials, each tried against the real gateway over TLS on
   loopback: self-signed certificates, certificates of another CA under the device CA's name,
   really expired ones, certificates the device CA signed but never recorded, an enrolled
   device's serial replayed under another key, no certificate at all, a revoked device's
   certificate and one the injected clock says has expired. Every try is counted accepted
   (a tunnel opened) or refused (TLS failure or REFUSE); none may be accepted.
2. Entitlement loss closes an open tunnel: the operator's flag and the end of the hub trial
   on the injected clock (the gateway's own rules), and a stand-in policy's window end. The
   time from the change to the device seeing the close is measured (monotonic) and reported;
   the bound is 5 s.
3. Tampered hub booking links (every field changed, dropped or the signature swapped, and an
   expired link): none is honoured by the shop's landing page.
4. Forged PSP and PayPal webhooks (bad or foreign signatures, signed bodies altered, wrong
   certificate URL, stale or altered transmission data) against the payments routes on
   loopback: each answered 422, nothing booked.
5. Remote-access handover tokens used twice, expired, altered or made up: none opens the
   device host.
6. Wrong activation codes for inverters per account accepted within a minute before the
   guessing limit answers 429.
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cloud_gateway.billing.catalogue import PaymentMedium
from cloud_gateway.config import EntitlementsConfig
from cloud_gateway.devices.repository import DeviceRepository
from cloud_gateway.http.keys import TUNNELS
from cloud_gateway.tunnels.repository_certificates import DeviceCertificateRepository
from simulator.paypal import PayPalSimulator
from tests.cloud_gateway.payments import conftest as payment_fixtures
from tests.cloud_gateway.payments.conftest import Rig
from tests.cloud_gateway.plants.test_api import code, logged_in
from tests.e2e.test_tunnel_endpoint import WindowPolicy
from tests.e2e.test_tunnel_remote import Remote, remote_env
from tests.reliability.report import pick, record
from tests.support.gateway import GatewayHarness, gateway_harness
from tests.support.hubs import enrol_hub
from tests.support.tunnel_device import TestDevice, enrol_device, open_tunnel, self_made_client_cert
from tunnel.clock import ManualClock
from tunnel.errors import RefusedError
from tunnel.session import DisconnectReason

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

ROUNDS = pick(9, 30)
"""Rounds of the six forged certificate kinds (each round: fresh keys)."""
CLOSE_WITHIN = 5.0
"""Bound for an open tunnel to close after its entitlement ended."""

Forger = Callable[[int], ssl.SSLContext]

#: the payments rig of the payment tests (its documents pass EN 16931 afterwards)
checked_store = payment_fixtures.checked_store
rig = payment_fixtures.rig


async def _accepted(gw: GatewayHarness, ctx: ssl.SSLContext) -> bool:
    """Whether the gateway opened a tunnel for this TLS context (closed again at once)."""
    try:
        client = await open_tunnel(gw.url, ctx)
    except (RefusedError, aiohttp.ClientError, ConnectionError, ssl.SSLError):
        return False
    await client.stop()
    return True


class Forgery:
    """Builds forged device TLS contexts next to a real gateway."""

    def __init__(self, gw: GatewayHarness, folder: Path, genuine: TestDevice) -> None:
        self.gw, self.folder, self.genuine = gw, folder, genuine
        self.now = datetime.now().astimezone()

    def _device(
        self,
        label: str,
        n: int,
        issuer: ec.EllipticCurvePrivateKey | None = None,
        name: x509.Name | None = None,
        *,
        days: tuple[int, int] = (-1, 30),
        serial: int | None = None,
    ) -> ssl.SSLContext:
        device = TestDevice(self.folder / f"{label}-{n}", self.genuine.server_ca)
        cert = self_made_client_cert(
            device.key,
            issuer or device.key,
            name or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "forged")]),
            not_before=self.now + timedelta(days=days[0]),
            not_after=self.now + timedelta(days=days[1]),
            serial=serial,
        )
        device.write_files(cert.public_bytes(serialization.Encoding.PEM).decode())
        return device.client_ssl()

    def self_signed(self, n: int) -> ssl.SSLContext:
        return self._device("self-signed", n)

    def other_ca(self, n: int) -> ssl.SSLContext:
        rogue = ec.generate_private_key(ec.SECP256R1())
        return self._device("other-ca", n, rogue, self.gw.gateway.device_ca.cert.subject)

    def expired(self, n: int) -> ssl.SSLContext:
        ca = self.gw.gateway.device_ca
        return self._device("expired", n, ca.key, ca.cert.subject, days=(-10, -1))

    def never_enrolled(self, n: int) -> ssl.SSLContext:
        ca = self.gw.gateway.device_ca
        return self._device("unrecorded", n, ca.key, ca.cert.subject)

    def replayed_serial(self, n: int) -> ssl.SSLContext:
        """The enrolled device's certificate serial, claimed under another key."""
        assert self.genuine.certificate_pem is not None
        real = x509.load_pem_x509_certificate(self.genuine.certificate_pem.encode())
        rogue = ec.generate_private_key(ec.SECP256R1())
        return self._device(
            "replayed",
            n,
            rogue,
            self.gw.gateway.device_ca.cert.subject,
            serial=real.serial_number,
        )

    def no_certificate(self, n: int) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.genuine.server_ca))


async def test_forged_credentials_are_refused_and_entitlement_loss_closes_tunnels(
    tmp_path: Path, clock: ManualClock
) -> None:
    policy = WindowPolicy(clock.now() + timedelta(hours=2))
    db = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db, clock, entitlements=policy) as gw:
        await gw.create_account("anna")
        registry = gw.gateway.runner.app[TUNNELS]
        genuine = TestDevice(tmp_path / "genuine", gw.gateway.tls.ca_cert or Path())
        revoked = TestDevice(tmp_path / "revoked", gw.gateway.tls.ca_cert or Path())
        slugs = {}
        for device in (genuine, revoked):
            slugs[id(device)] = await enrol_device(gw, device, "anna")
        devices = gw.gateway.store.repo(DeviceRepository)
        revoked_row = await devices.get_by_slug(slugs[id(revoked)])
        await gw.gateway.store.repo(DeviceCertificateRepository).revoke_device(
            revoked_row.id, now=clock.now()
        )
        # the genuine device is admitted: the refusals below are not a broken gateway
        assert await _accepted(gw, genuine.client_ssl())

        forgery = Forgery(gw, tmp_path / "forged", genuine)
        kinds: dict[str, Forger] = {
            "self-signed": forgery.self_signed,
            "other CA": forgery.other_ca,
            "expired": forgery.expired,
            "never enrolled": forgery.never_enrolled,
            "serial replayed": forgery.replayed_serial,
            "no certificate": forgery.no_certificate,
            "revoked": lambda n: revoked.client_ssl(),
        }
        tried: dict[str, int] = dict.fromkeys(kinds, 0)
        accepted: dict[str, int] = dict.fromkeys(kinds, 0)
        for n in range(ROUNDS):
            for kind, forge in kinds.items():
                tried[kind] += 1
                accepted[kind] += await _accepted(gw, forge(n))
        assert registry.get(revoked_row.id) is None

        # 2. entitlement loss: the window's end on the injected clock
        async def window_ends() -> None:
            clock.advance(timedelta(hours=2))

        closes = {"window end": await _seconds_to_close(gw, genuine, window_ends)}

        # the injected clock passes the certificate's end (five years): refused as expired
        clock.advance(timedelta(days=1826))
        tried["expired by clock"] = 1
        accepted["expired by clock"] = int(await _accepted(gw, genuine.client_ssl()))

    total, taken = sum(tried.values()), sum(accepted.values())
    kinds_text = ", ".join(f"{kind} {count}" for kind, count in tried.items())
    record(
        "enforcement_forged",
        f"{total} forged credentials, {taken} accepted ({kinds_text})",
        passed=taken == 0 and total >= 50,
    )
    _record_closes("window", closes)
    assert total >= 50
    assert accepted == dict.fromkeys(tried, 0)


async def _seconds_to_close(
    gw: GatewayHarness,
    device: TestDevice,
    change: Callable[[], Awaitable[None]],
    *,
    before: Callable[[], None] | None = None,
) -> float:
    """Open a tunnel, make ``change``, wait (bounded) for the device to see the REFUSE; the
    seconds between the change and the close. ``before`` runs first, the tunnel stays open."""
    client = await open_tunnel(gw.url, device.client_ssl())
    try:
        if before is not None:
            before()
            assert not client.task.done()
        started = time.monotonic()
        await change()
        reason = await client.closed(timeout=30.0)
        seconds = time.monotonic() - started
        assert reason is DisconnectReason.REFUSED
        return seconds
    finally:
        await client.stop()


def _record_closes(name: str, closes: dict[str, float]) -> None:
    slowest = max(closes.values())
    record(
        f"enforcement_close_{name}",
        "entitlement loss closed the open tunnel after "
        + ", ".join(f"{how} {seconds:.2f} s" for how, seconds in closes.items())
        + f" (bound {CLOSE_WITHIN:.0f} s)",
        passed=slowest <= CLOSE_WITHIN,
    )
    assert slowest <= CLOSE_WITHIN


async def test_the_operator_flag_and_the_trial_end_close_open_tunnels(
    tmp_path: Path, clock: ManualClock
) -> None:
    """The gateway's own entitlement rules: the operator's flag on one hub, and the end of
    the other account's hub trial passing on the injected clock."""
    db = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db, clock) as gw:
        registry = gw.gateway.runner.app[TUNNELS]
        devices = gw.gateway.store.repo(DeviceRepository)
        hubs = {}
        for owner in ("anna", "bert"):
            await gw.create_account(owner)
            hub = TestDevice(tmp_path / owner, gw.gateway.tls.ca_cert or Path())
            hubs[owner] = (hub, await enrol_device(gw, hub, owner))
        slug = hubs["anna"][1]

        async def operator_flags() -> None:
            await devices.set_disabled(slug, disabled=True)
            await registry.entitlement_changed((await devices.get_by_slug(slug)).id)

        async def trial_ends() -> None:
            clock.advance(timedelta(days=2))

        def trial_nearly_over() -> None:
            clock.advance(timedelta(days=EntitlementsConfig().hub_trial_days - 1))

        closes = {
            "operator flag": await _seconds_to_close(gw, hubs["anna"][0], operator_flags),
            "trial end": await _seconds_to_close(
                gw, hubs["bert"][0], trial_ends, before=trial_nearly_over
            ),
        }
    _record_closes("rules", closes)


async def test_wrong_activation_codes_per_minute_are_bounded(
    tmp_path: Path, clock: ManualClock
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    tries = pick(30, 120)
    async with gateway_harness(tmp_path, db, clock) as gw:
        await gw.create_account("mallory")
        async with logged_in(gw, "mallory") as mallory:
            _, plant = await mallory.call("POST", "/api/v1/plants", {"name": "P"})
            path = f"/api/v1/plants/{plant['id']}/inverters"
            statuses: list[int] = []
            for n in range(tries):  # spread over one minute of the injected clock
                clock.advance(timedelta(seconds=60 / tries))
                serial = f"SN-{n}"
                status, _ = await mallory.call(
                    "POST", path, {"serial": serial, "activation_code": "AAAAA-AAAAA"}
                )
                statuses.append(status)
            # within the same minute the right code is refused too: the limit is real
            right = {"serial": "SN-OK", "activation_code": code("SN-OK")}
            blocked, body = await mallory.call("POST", path, right)
    wrong_judged = statuses.count(422)
    limited = statuses.count(429)
    record(
        "activation_code_rate",
        f"activation codes {wrong_judged} wrong tries per minute per account "
        f"({limited} of {tries} answered 429, right code then also 429)",
        passed=wrong_judged <= 5 and blocked == 429,
    )
    assert set(statuses) <= {422, 429}
    assert wrong_judged <= 5
    assert (blocked, body["error"]) == (429, "rate_limited")


def _record_refusals(name: str, what: str, statuses: list[int]) -> None:
    """Record how many of these HTTP answers let a forgery through (below 400); none may."""
    accepted = sum(1 for status in statuses if status < 400)
    record(
        name,
        f"{len(statuses)} {what}, {accepted} accepted (answers {sorted(set(statuses))})",
        passed=accepted == 0,
    )
    assert accepted == 0


def _tampered_links(link: str) -> list[str]:
    """Every field of a genuine hub link changed, emptied or dropped, one at a time."""
    parts = urlsplit(link)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    variants: list[dict[str, str]] = []
    for key, value in query.items():
        # a middle symbol: the last one of base64 text may carry only unused bits
        middle = len(value) // 2
        other = "2" if value[middle : middle + 1] != "2" else "3"
        flipped = value[:middle] + other + value[middle + 1 :]
        variants.append(dict(query, **{key: flipped}))
        variants.append(dict(query, **{key: value + "1"}))
        variants.append(dict(query, **{key: ""}))
        variants.append({k: v for k, v in query.items() if k != key})
    return [f"{parts.path}?{urlencode(variant)}" for variant in variants]


async def test_tampered_and_expired_hub_links_are_refused(
    tmp_path: Path, clock: ManualClock
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db, clock) as gw:
        await gw.create_account("anna")
        hub = await enrol_hub(gw, tmp_path / "hub", "anna")
        genuine = hub.link(gw)
        forged = _tampered_links(genuine)
        async with gw.client() as browser:
            async with browser.get(genuine) as resp:
                assert resp.status == 200  # the untouched link is honoured
            statuses = []
            for link in forged:
                async with browser.get(link) as resp:
                    statuses.append(resp.status)
            clock.advance(timedelta(minutes=11))
            async with browser.get(genuine) as resp:
                statuses.append(resp.status)
    _record_refusals("enforcement_hub_links", "tampered or expired hub links", statuses)
    assert set(statuses) <= {400, 403}


def _paypal_forgeries(rig: Rig, body: bytes) -> list[dict[str, str]]:
    genuine = rig.paypal.signature_headers(body)
    other = PayPalSimulator()  # another key: signs correctly, but not as PayPal
    other.webhook_id = rig.paypal.webhook_id
    foreign = dict(other.signature_headers(body), **{"PAYPAL-CERT-URL": rig.paypal.cert_url})
    return [
        foreign,
        other.signature_headers(body),  # and its own certificate URL
        rig.paypal.signature_headers(b"{}"),  # a real signature over another body
        dict(foreign, **{"PAYPAL-CERT-URL": "http://evil.example/cert"}),
        dict(genuine, **{"PAYPAL-CERT-URL": "https://evil.example/cert.pem"}),
        dict(genuine, **{"PAYPAL-TRANSMISSION-ID": "WH-REPLAYED-1"}),
        dict(genuine, **{"PAYPAL-TRANSMISSION-TIME": "2020-01-01T00:00:00Z"}),
        dict(genuine, **{"PAYPAL-TRANSMISSION-SIG": "AAAA"}),
        dict(genuine, **{"PAYPAL-AUTH-ALGO": "SHA1withRSA"}),
        {"Content-Type": "application/json"},
    ]


def _psp_forgeries(rig: Rig, body: bytes) -> list[dict[str, str]]:
    now = int(rig.clock.now().timestamp())
    genuine = rig.psp.signed(body, timestamp=now)
    return [
        dict(genuine, **{"X-PSP-Signature": "00" * 32}),
        rig.psp.signed(body, timestamp=now - 3600),  # replayed an hour later
        rig.psp.signed(body, timestamp=now + 3600),  # from the future
        dict(genuine, **{"X-PSP-Timestamp": str(now + 1)}),  # signature of another instant
        rig.psp.signed(b"{}", timestamp=now),  # a real signature over another body
        dict(genuine, **{"X-PSP-Signature": genuine["X-PSP-Signature"][:-2]}),
        {"Content-Type": "application/json"},
    ]


async def test_forged_payment_webhooks_are_refused(rig: Rig) -> None:
    order_id = await rig.place()
    for method, key in ((PaymentMedium.PAYPAL, "p"), (PaymentMedium.CARD, "c")):
        await rig.payments.start(
            order_id=order_id, account_id=rig.customer.account_id, method=method,
            return_url="/o", cancel_url="/c", key=key,
        )  # fmt: skip
    payments = {p.provider.value: p for p in await rig.payments.for_order(order_id)}
    paypal = next(p for name, p in payments.items() if name.startswith("paypal"))
    psp = payments["psp"]
    capture = {
        "id": "WH-FORGED", "event_type": "PAYMENT.CAPTURE.COMPLETED", "resource_type": "capture",
        "resource": {"id": "CAPFORGED", "status": "COMPLETED",
                     "amount": {"currency_code": "EUR", "value": "3.57"},
                     "supplementary_data": {"related_ids": {"order_id": paypal.provider_id}}},
    }  # fmt: skip
    checkout = {"id": psp.provider_id, "amount": 357, "currency": "EUR", "status": "paid"}
    paypal_body = json.dumps(capture).encode()
    psp_body = json.dumps({"id": "evt_forged", "type": "checkout.paid", "checkout": checkout})
    tries = [("paypal/webhook", paypal_body, h) for h in _paypal_forgeries(rig, paypal_body)] + [
        ("psp/notify", psp_body.encode(), h) for h in _psp_forgeries(rig, psp_body.encode())
    ]
    # a genuinely signed body, altered afterwards (amount raised, order swapped)
    altered = paypal_body.replace(b"3.57", b"0.01")
    tries.append(("paypal/webhook", altered, rig.paypal.signature_headers(paypal_body)))
    tries.append(
        ("psp/notify", psp_body.replace("357", "1").encode(), rig.psp.signed(psp_body.encode()))
    )
    statuses = []
    async with aiohttp.ClientSession() as http:
        for route, body, headers in tries:
            url = f"{rig.url}/api/v1/payments/{route}"
            async with http.post(url, data=body, headers=headers) as response:
                statuses.append(response.status)
    booked = await rig.count("billing_journal")
    accepted = sum(1 for status in statuses if status < 400)
    record(
        "enforcement_webhooks",
        f"{len(statuses)} forged PSP/PayPal webhooks, {accepted} accepted, {booked} booked",
        passed=accepted == 0 and booked == 0,
    )
    assert statuses == [422] * len(tries)
    assert booked == 0
    assert await rig.order_state(order_id) == "confirmed"


async def _handover_url(env: Remote, http: aiohttp.ClientSession) -> str:
    """Press "Fernzugriff öffnen" and keep the handover address without following it."""
    token = await env.gw.form_token(http, f"/remote/{env.slug}/open")
    async with http.post(
        f"/remote/{env.slug}/open", data={"csrf_token": token}, allow_redirects=False
    ) as resp:
        location = resp.headers["Location"]
    assert "/__remote/handover?token=" in location
    return location


async def test_reused_expired_and_made_up_handover_tokens_are_refused(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with remote_env(tmp_path, clock) as env, env.browser() as http:
        await env.gw.login(http, "anna")
        used = await _handover_url(env, http)
        async with http.get(used, allow_redirects=False) as first:
            assert first.status < 400  # the genuine token opens the device host once
        base, token = used.split("?token=", 1)
        middle = len(token) // 2
        altered = token[:middle] + ("0" if token[middle] != "0" else "1") + token[middle + 1 :]
        forged = [
            used,  # used twice
            f"{base}?token={altered}",
            f"{base}?token={token[:-1]}",
            f"{base}?token={token}A",
            f"{base}?token=",
            f"{base}",
            f"{base}?token={'0' * len(token)}",
            f"{base}?token={'f' * len(token)}",
        ]
        stale = await _handover_url(env, http)
        clock.advance(timedelta(minutes=5))
        forged.append(stale)  # expired before use
        statuses = []
        async with env.browser() as stranger:
            for url in forged:
                async with stranger.get(url, allow_redirects=False) as resp:
                    statuses.append(resp.status)
    _record_refusals(
        "enforcement_handover_tokens", "reused, expired or forged handover tokens", statuses
    )
