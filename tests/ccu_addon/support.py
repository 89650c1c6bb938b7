"""Helpers for the add-on tests: a hub identity with a certificate, a stand-in tunnel."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ccu_addon.identity import HubIdentity, load_hub_identity
from ccu_addon.status import TunnelState, TunnelStatus
from tunnel.enrolment import load_identity


def enrolled_identity(state_dir: Path, slug: str, now: datetime) -> HubIdentity:
    """A hub key with a certificate from a throwaway CA (as enrolment would leave it)."""
    identity = load_identity(state_dir)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, slug)]))
        .issuer_name(ca_name)
        .public_key(identity.key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(ca_key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    identity.store_certificate(pem, pem)
    hub = load_hub_identity(state_dir)
    assert hub is not None
    return hub


@dataclass
class FakeTunnel:
    """Stands in for the tunnel connector (a Protocol the dashboard depends on)."""

    current: TunnelStatus = field(
        default_factory=lambda: TunnelStatus(state=TunnelState.CONNECTING)
    )
    reenabled: int = 0

    def status(self) -> TunnelStatus:
        return self.current

    def reenable(self) -> None:
        self.reenabled += 1
        self.current = TunnelStatus(state=TunnelState.CONNECTING)
