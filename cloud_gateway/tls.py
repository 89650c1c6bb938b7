"""The gateway's own certificates: a local CA and a server certificate, made on first start.

In production the operator configures a real certificate (``[tls] cert_file/key_file``).
For the demo and for a fresh install, :func:`ensure_server_tls` creates a self-signed CA
and a server certificate for the public host, its ``*.`` wildcard, the remote-access domain's
wildcard (``*.<remote_domain>``, the device hosts) and the loopback addresses, and keeps them
in the state folder (keys mode 0600).
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from cloud_gateway.errors import CertificateError

__all__ = ["ServerTls", "ensure_server_tls", "server_ssl_context", "write_private"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerTls:
    """Paths of the gateway's TLS material."""

    ca_cert: Path | None
    """The local CA that signed the server certificate (None for an operator-given one)."""
    cert: Path
    """Server certificate chain (PEM)."""
    key: Path
    """Server private key (PEM)."""


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by the owner only (0600), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    tmp.replace(path)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "CloudConnector local"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def ensure_server_tls(
    state_dir: Path, public_host: str, now: datetime, remote_domain: str | None = None
) -> ServerTls:
    """Create (once) a local CA and a server certificate in ``state_dir/tls``."""
    tls_dir = state_dir / "tls"
    ca_cert_path, ca_key_path = tls_dir / "ca.pem", tls_dir / "ca.key"
    cert_path, key_path = tls_dir / "server.pem", tls_dir / "server.key"
    if cert_path.exists() and key_path.exists() and ca_cert_path.exists():
        return ServerTls(ca_cert=ca_cert_path, cert=cert_path, key=key_path)
    try:
        tls_dir.mkdir(parents=True, exist_ok=True)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(_name("CloudConnector local CA"))
            .issuer_name(_name("CloudConnector local CA"))
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        server_key = ec.generate_private_key(ec.SECP256R1())
        names: list[x509.GeneralName] = [
            x509.DNSName(public_host),
            x509.DNSName(f"*.{public_host}"),
            *([x509.DNSName(f"*.{remote_domain}")] if remote_domain else []),
            x509.DNSName("localhost"),
            x509.DNSName("*.localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1")),
        ]
        server_cert = (
            x509.CertificateBuilder()
            .subject_name(_name(public_host))
            .issuer_name(ca_cert.subject)
            .public_key(server_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=397))
            .add_extension(x509.SubjectAlternativeName(list(dict.fromkeys(names))), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        write_private(ca_key_path, _key_pem(ca_key))
        write_private(key_path, _key_pem(server_key))
        ca_cert_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        cert_path.write_bytes(
            server_cert.public_bytes(serialization.Encoding.PEM)
            + ca_cert.public_bytes(serialization.Encoding.PEM)
        )
    except OSError as exc:
        raise CertificateError(f"cannot write TLS files in {tls_dir}: {exc.strerror}") from exc
    return ServerTls(ca_cert=ca_cert_path, cert=cert_path, key=key_path)


def server_ssl_context(tls: ServerTls) -> ssl.SSLContext:
    """A TLS ≥ 1.2 server context for the gateway's HTTPS listener.

    No TLS 1.3 session tickets (``num_tickets = 0``). OpenSSL sends two after every full
    handshake by default, and with a client certificate in the session each costs the
    gateway about 0.4 ms of CPU (the two together a third of the whole handshake,
    measured with OpenSSL 3.0; ADR 0007). Nobody would use them: device connectors are
    asyncio clients, which cannot offer a saved session, and the ticket keys are random
    per process (Python's ``ssl`` cannot set them), so after a gateway restart, when the
    whole fleet reconnects, every ticket is void anyway. Browsers lose resumption and
    make a full handshake per new connection instead, at about 0.6 ms each.
    """
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.num_tickets = 0
    try:
        ctx.load_cert_chain(tls.cert, tls.key)
    except (OSError, ssl.SSLError) as exc:
        raise CertificateError(f"cannot load server certificate {tls.cert}: {exc}") from exc
    return ctx
