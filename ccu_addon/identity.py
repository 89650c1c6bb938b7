"""The hub's identity: its own key pair (made here, never sent anywhere) and certificate.

Files in the state folder (R-DEV-8)::

    device.key   EC P-256 private key, PKCS#8 PEM, mode 0600, written once
    device.crt   the certificate the gateway's device CA issued at enrolment (PEM)
    device-ca.crt  the device CA certificate (PEM), kept for reference

Blocking file work; the daemon calls these in a thread (``asyncio.to_thread``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ccu_addon.errors import EnrolmentError

__all__ = ["CERT_FILE", "KEY_FILE", "DeviceIdentity", "load_identity"]

KEY_FILE: Final = "device.key"
CERT_FILE: Final = "device.crt"
CA_FILE: Final = "device-ca.crt"


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
    def slug(self) -> str | None:
        """The device slug the gateway gave this hub (the certificate's CN)."""
        if self.certificate is None:
            return None
        names = self.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(names[0].value) if names else None

    @property
    def certificate_der(self) -> bytes:
        """The certificate in DER (for the signed shop link)."""
        if self.certificate is None:
            raise EnrolmentError("the hub is not enrolled yet")
        return self.certificate.public_bytes(serialization.Encoding.DER)

    def csr_pem(self, name: str) -> str:
        """A certificate signing request for this key (the gateway sets the real subject)."""
        csr = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name or "ccu")]))
            .sign(self.key, hashes.SHA256())
        )
        return csr.public_bytes(serialization.Encoding.PEM).decode("ascii")

    def store_certificate(self, cert_pem: str, ca_pem: str) -> DeviceIdentity:
        """Keep the issued certificate (and the CA's); returns the enrolled identity."""
        try:
            certificate = x509.load_pem_x509_certificate(cert_pem.encode())
        except ValueError as exc:
            raise EnrolmentError(f"the gateway sent no valid certificate: {exc}") from exc
        if certificate.public_key() != self.key.public_key():
            raise EnrolmentError("the issued certificate is for another key")
        _write(self.cert_path, cert_pem.encode(), 0o644)
        _write(self.cert_path.with_name(CA_FILE), ca_pem.encode(), 0o644)
        return DeviceIdentity(self.key, certificate, self.key_path, self.cert_path)


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
