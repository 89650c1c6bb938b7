"""Enrolment, device side: the device's own key pair, its certificate, and the pairing client.

Shared by the CCU add-on and the inverter agent (R-DEV-8). Files in the device's state folder::

    device.key      EC P-256 private key, PKCS#8 PEM, mode 0600, made here, never sent anywhere
    device.crt      the certificate the gateway's device CA issued at enrolment (PEM)
    device-ca.crt   the device CA certificate (PEM), kept for reference and as a trust anchor

:func:`enrol` speaks the gateway's enrolment API (``POST /api/v1/enrol``, ``GET
/api/v1/enrol/{token}``): the CSR goes up, the pairing code comes back and is handed to
``on_pairing_code`` (the add-on shows it on its dashboard, the agent logs it); once the owner
has entered it in the portal, the poll returns the certificate, which is stored beside the key.
Failures are retried forever with a pause; ``on_pairing_code(None)`` withdraws a shown code.
The HTTP is :mod:`tunnel.httpclient` (h11): a hub pairs without aiohttp.

:func:`load_identity` and :meth:`DeviceIdentity.store_certificate` do blocking file work; call
them in a thread (``asyncio.to_thread``) from the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tunnel.errors import HttpClientError, TunnelError
from tunnel.httpclient import fetch

__all__ = [
    "CA_FILE",
    "CERT_FILE",
    "KEY_FILE",
    "DeviceIdentity",
    "EnrolmentError",
    "PairingCodeSink",
    "enrol",
    "load_identity",
    "same_public_key",
]

_LOGGER = logging.getLogger(__name__)

KEY_FILE: Final = "device.key"
CERT_FILE: Final = "device.crt"
CA_FILE: Final = "device-ca.crt"
_TIMEOUT: Final = 15.0

PairingCodeSink = Callable[[str | None], None]
"""Told the pairing code to show while enrolment waits for the owner; ``None`` withdraws it."""


class EnrolmentError(TunnelError):
    """The device identity cannot be used, or the gateway's answer to enrolment is not valid."""


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    """The key pair and, once enrolled, the certificate."""

    key: ec.EllipticCurvePrivateKey
    """The device's private key."""
    certificate: x509.Certificate | None
    """The issued certificate; ``None`` until enrolment completes."""
    key_path: Path
    """Where the key is stored."""
    cert_path: Path
    """Where the certificate is (or will be) stored."""

    @property
    def enrolled(self) -> bool:
        """Whether the gateway issued a certificate for this key."""
        return self.certificate is not None

    @property
    def ca_path(self) -> Path:
        """Where the device CA certificate from enrolment is kept."""
        return self.cert_path.with_name(CA_FILE)

    @property
    def slug(self) -> str | None:
        """The device slug the gateway gave this device (the certificate's CN)."""
        if self.certificate is None:
            return None
        names = self.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(names[0].value) if names else None

    @property
    def certificate_der(self) -> bytes:
        """The certificate in DER (e.g. for the add-on's signed shop link)."""
        if self.certificate is None:
            raise EnrolmentError("the device is not enrolled yet")
        return self.certificate.public_bytes(serialization.Encoding.DER)

    def csr_pem(self, name: str) -> str:
        """A certificate signing request for this key (the gateway sets the real subject)."""
        csr = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name or "device")]))
            .sign(self.key, hashes.SHA256())
        )
        return csr.public_bytes(serialization.Encoding.PEM).decode("ascii")

    def store_certificate(self, cert_pem: str, ca_pem: str) -> DeviceIdentity:
        """Keep the issued certificate (and the CA's); returns the enrolled identity."""
        try:
            certificate = x509.load_pem_x509_certificate(cert_pem.encode())
        except ValueError as exc:
            raise EnrolmentError(f"the gateway sent no valid certificate: {exc}") from exc
        if not same_public_key(certificate.public_key(), self.key.public_key()):
            raise EnrolmentError("the issued certificate is for another key")
        try:
            _write(self.cert_path, cert_pem.encode(), 0o644)
            _write(self.ca_path, ca_pem.encode(), 0o644)
        except OSError as exc:
            raise EnrolmentError(f"cannot store the certificate: {exc}") from exc
        return DeviceIdentity(self.key, certificate, self.key_path, self.cert_path)


class _PublicKey(Protocol):
    def public_bytes(
        self, encoding: serialization.Encoding, format: serialization.PublicFormat
    ) -> bytes: ...


def same_public_key(first: _PublicKey, second: _PublicKey) -> bool:
    """Whether two public keys are the same key: their DER SubjectPublicKeyInfo is equal.

    Not ``==``: the key objects of Debian 12's ``python3-cryptography`` (38.0.4) have no
    ``__eq__``, so two objects for the same key compare by identity there.
    """
    der, spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return first.public_bytes(der, spki) == second.public_bytes(der, spki)


def _write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)


def load_identity(state_dir: Path) -> DeviceIdentity:
    """Load the key (making it on first start) and the certificate if there is one."""
    key_path, cert_path = state_dir / KEY_FILE, state_dir / CERT_FILE
    try:
        if key_path.exists():
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            if not isinstance(key, ec.EllipticCurvePrivateKey):
                raise EnrolmentError(f"{key_path} is not an EC private key")
        else:
            state_dir.mkdir(parents=True, exist_ok=True)
            key = ec.generate_private_key(ec.SECP256R1())
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            _write(key_path, pem, 0o600)
        certificate = None
        if cert_path.exists():
            certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (OSError, ValueError) as exc:
        raise EnrolmentError(f"cannot use the device identity in {state_dir}: {exc}") from exc
    return DeviceIdentity(key, certificate, key_path, cert_path)


def _json(answer_body: bytes, what: str) -> Any:
    try:
        return json.loads(answer_body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EnrolmentError(f"{what}: the gateway's answer is not JSON") from exc


async def _request(
    base: str, trust: ssl.SSLContext, identity: DeviceIdentity, kind: str, name: str
) -> Any:
    body = {"csr": identity.csr_pem(name), "kind": kind, "name": name}
    answer = await fetch(
        "POST",
        f"{base}/api/v1/enrol",
        body=json.dumps(body).encode(),
        content_type="application/json",
        timeout=_TIMEOUT,
        ssl_context=trust,
    )
    answer.raise_for_status()
    return _json(answer.body, "enrolment request")


async def _wait_issued(base: str, trust: ssl.SSLContext, started: Any) -> Any:
    interval = float(started.get("poll_interval", 5.0))
    while True:
        url = f"{base}{started['poll_url']}"
        answer = await fetch("GET", url, timeout=_TIMEOUT, ssl_context=trust)
        if answer.status == 200:
            return _json(answer.body, "enrolment poll")
        if answer.status != 202:
            raise EnrolmentError(f"enrolment ended: HTTP {answer.status} from {url}")
        await asyncio.sleep(interval)


async def enrol(
    gateway_url: str,
    identity: DeviceIdentity,
    *,
    ca_file: Path | None,
    kind: str,
    name: str,
    on_pairing_code: PairingCodeSink,
    retry_delay: float = 30.0,
) -> DeviceIdentity:
    """Run enrolment until a certificate is stored; returns the enrolled identity.

    ``kind`` is the gateway's device kind (``ccu``, ``inverter_agent``); ``name`` is what the
    device asks to be called (the portal shows it; the device slug derives from it).
    ``ca_file`` verifies the gateway; None: the system's CA store.
    """
    base = gateway_url.rstrip("/")
    cafile = str(ca_file) if ca_file is not None else None
    trust = await asyncio.to_thread(ssl.create_default_context, cafile=cafile)
    while True:
        try:
            started = await _request(base, trust, identity, kind, name)
            on_pairing_code(str(started["pairing_code"]))
            issued = await _wait_issued(base, trust, started)
            enrolled = await asyncio.to_thread(
                identity.store_certificate, issued["certificate"], issued["ca_certificate"]
            )
        except (HttpClientError, OSError, KeyError, TypeError, ValueError, EnrolmentError) as exc:
            _LOGGER.warning("enrolment: %r; trying again in %.0f s", exc, retry_delay)
            on_pairing_code(None)
            await asyncio.sleep(retry_delay)
        else:
            on_pairing_code(None)
            _LOGGER.info("enrolled as %s", enrolled.slug)
            return enrolled
