"""The device CA: signs the certificates devices present on ``/tunnel/v1`` (R-DEV-8).

Separate from the CA of the gateway's server certificate (``cloud_gateway.tls``): the HTTPS
listener trusts only this CA for client certificates. Created on first start in
``state_dir/device-ca`` (key mode 0600). Devices make their own key pair and send a CSR;
the private key never leaves the device. The subject and extensions of an issued
certificate are set here; the CSR contributes only its public key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from cloud_gateway.errors import CertificateError
from cloud_gateway.tls import write_private

__all__ = ["DeviceCa", "InvalidCsrError", "load_csr", "serial_hex"]

_ORG: Final = "CloudConnector devices"
_MAX_CSR: Final = 16 * 1024


class InvalidCsrError(CertificateError, ValueError):
    """A device sent a CSR that cannot be used (syntax, signature, key type)."""


def serial_hex(certificate: x509.Certificate) -> str:
    """The certificate's serial number as lower-case hex (the key in the store)."""
    return format(certificate.serial_number, "x")


def load_csr(pem: str) -> x509.CertificateSigningRequest:
    """Parse and check a device CSR: valid signature, EC P-256/P-384, Ed25519 or RSA ≥ 2048."""
    if len(pem) > _MAX_CSR:
        raise InvalidCsrError("CSR too large")
    try:
        csr = x509.load_pem_x509_csr(pem.encode())
        key = csr.public_key()
        signature_ok = csr.is_signature_valid
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise InvalidCsrError(f"not a PEM certificate signing request: {exc}") from exc
    if not signature_ok:
        raise InvalidCsrError("CSR signature does not verify")
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name not in {"secp256r1", "secp384r1"}:
            raise InvalidCsrError(f"unsupported curve {key.curve.name}")
    elif isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise InvalidCsrError("RSA keys must have at least 2048 bits")
    elif not isinstance(key, ed25519.Ed25519PublicKey):
        raise InvalidCsrError("unsupported key type")
    return csr


@dataclass(frozen=True, slots=True)
class DeviceCa:
    """The CA certificate and key, loaded from (or created in) the state folder."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    cert_path: Path

    @property
    def cert_pem(self) -> str:
        """The CA certificate in PEM, handed to devices and loaded by the TLS listener."""
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    @classmethod
    def ensure(cls, state_dir: Path, now: datetime) -> DeviceCa:
        """Load the device CA from ``state_dir/device-ca``, creating it on first start."""
        folder = state_dir / "device-ca"
        cert_path, key_path = folder / "ca.pem", folder / "ca.key"
        try:
            if cert_path.exists() and key_path.exists():
                cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
                key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
                if not isinstance(key, ec.EllipticCurvePrivateKey):
                    raise CertificateError(f"{key_path} is not an EC private key")
                return cls(cert, key, cert_path)
            key = ec.generate_private_key(ec.SECP256R1())
            cert = _self_signed(key, now)
            write_private(
                key_path,
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ),
            )
            cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        except OSError as exc:
            raise CertificateError(f"cannot use device CA in {folder}: {exc.strerror}") from exc
        except ValueError as exc:
            raise CertificateError(f"device CA in {folder} is unreadable: {exc}") from exc
        return cls(cert, key, cert_path)

    def issue(
        self, csr: x509.CertificateSigningRequest, *, slug: str, now: datetime, days: int
    ) -> x509.Certificate:
        """A client certificate for device ``slug`` on the CSR's public key."""
        public_key = csr.public_key()
        if not isinstance(
            public_key,
            ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey,
        ):
            raise InvalidCsrError("unsupported key type")
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, _ORG),
                x509.NameAttribute(NameOID.COMMON_NAME, slug),
            ]
        )
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(_key_usage(ca=False), critical=True)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
            .sign(self.key, hashes.SHA256())
        )


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        key_cert_sign=ca,
        crl_sign=ca,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        encipher_only=False,
        decipher_only=False,
    )


def _self_signed(key: ec.EllipticCurvePrivateKey, now: datetime) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, _ORG),
            x509.NameAttribute(NameOID.COMMON_NAME, "CloudConnector device CA"),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=7300))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
