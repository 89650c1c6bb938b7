"""The nodes' internal channel: mutual TLS with certificates of the fleet's own CA.

Every node presents a certificate of the fleet CA, as server and as client; a node accepts
only peers that do. In production the operator gives the three files (``[cluster]
internal_ca_file``, ``internal_cert_file``, ``internal_key_file``), the same CA on every node;
without them a CA and one node certificate are made once in ``state_dir/tls`` (nodes on one
machine sharing a state folder, ``make cluster`` and the tests). Device certificates, the public
server certificate and browsers never pass: they are not from the fleet CA.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from cloud_gateway.errors import CertificateError
from cloud_gateway.tls import write_private

__all__ = ["FLEET_PEER_NAME", "FleetTls", "ensure_fleet_tls"]

FLEET_PEER_NAME: Final = "cloudconnector-fleet-node"
"""The name every node certificate carries; clients check the server's against it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FleetTls:
    """Paths of a node's fleet material and the contexts made from them."""

    ca: Path
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        """For the internal listener: a fleet certificate from every client."""
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(self.ca))
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.cert, self.key)
        return ctx

    def client_context(self) -> ssl.SSLContext:
        """For connecting to another node: its certificate checked, ours presented."""
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(self.ca))
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.cert, self.key)
        return ctx


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "CloudConnector fleet"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def ensure_fleet_tls(state_dir: Path, now: datetime) -> FleetTls:
    """The fleet CA and a node certificate in ``state_dir/tls`` (made once)."""
    tls_dir = state_dir / "tls"
    paths = FleetTls(
        ca=tls_dir / "fleet-ca.pem", cert=tls_dir / "fleet-node.pem", key=tls_dir / "fleet-node.key"
    )
    if paths.ca.exists() and paths.cert.exists() and paths.key.exists():
        return paths
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("CloudConnector fleet CA"))
        .issuer_name(_name("CloudConnector fleet CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    node_key = ec.generate_private_key(ec.SECP256R1())
    node_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(FLEET_PEER_NAME))
        .issuer_name(ca_cert.subject)
        .public_key(node_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=825))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(FLEET_PEER_NAME)]), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    try:
        write_private(
            paths.key,
            node_key.private_bytes(
                pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )
        write_private(paths.cert, node_cert.public_bytes(pem))
        write_private(paths.ca, ca_cert.public_bytes(pem))  # last: it marks the set complete
    except OSError as exc:
        raise CertificateError(
            f"cannot write fleet TLS files in {tls_dir}: {exc.strerror}"
        ) from exc
    return paths
