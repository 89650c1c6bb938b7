"""The enrolled hub's identity, read without ``cryptography``: the DER reader, the files."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from ccu_addon import identity as hub
from ccu_addon.identity import IdentityError, load_hub_identity, load_signing_key
from tests.ccu_addon.support import enrolled_identity
from tunnel import enrolment

NOW = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


def certificate(*attributes: x509.NameAttribute[str]) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(list(attributes)))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW)
        .not_valid_after(NOW + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ([x509.NameAttribute(NameOID.COMMON_NAME, "ccu-ferienhaus-1a2b")], "ccu-ferienhaus-1a2b"),
        (
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "CloudMatic"),
                x509.NameAttribute(NameOID.COMMON_NAME, "ccu-müller"),
            ],
            "ccu-müller",
        ),
        ([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "no CN")], None),
        ([], None),
    ],
)
def test_subject_common_name(
    attributes: list[x509.NameAttribute[str]], expected: str | None
) -> None:
    assert hub.subject_common_name(certificate(*attributes)) == expected


@pytest.mark.parametrize(
    "der",
    [b"", b"\x30", b"\x02\x01\x00", b"\x30\x84\xff\xff\xff\xff", b"\x30\x03\x30\x01\x00"],
)
def test_broken_der_is_an_identity_error(der: bytes) -> None:
    with pytest.raises(IdentityError):
        hub.subject_common_name(der)


def test_truncated_certificate_is_an_identity_error() -> None:
    der = certificate(x509.NameAttribute(NameOID.COMMON_NAME, "ccu-a"))
    with pytest.raises(IdentityError):
        hub.subject_common_name(der[:-40])


def test_file_names_are_those_of_tunnel_enrolment() -> None:
    assert (hub.KEY_FILE, hub.CERT_FILE, hub.CA_FILE) == (
        enrolment.KEY_FILE,
        enrolment.CERT_FILE,
        enrolment.CA_FILE,
    )


def test_load_hub_identity(tmp_path: Path) -> None:
    assert load_hub_identity(tmp_path) is None
    enrolment.load_identity(tmp_path)  # a key, no certificate yet
    assert load_hub_identity(tmp_path) is None
    identity = enrolled_identity(tmp_path, "ccu-ferienhaus", NOW)
    assert identity.slug == "ccu-ferienhaus"
    full = enrolment.load_identity(tmp_path)
    assert full.certificate is not None
    assert identity.certificate_der == full.certificate_der
    assert identity.ca_path == full.ca_path
    key = load_signing_key(identity.key_path)
    assert key.public_key() == full.certificate.public_key()


def test_a_damaged_certificate_is_an_identity_error(tmp_path: Path) -> None:
    enrolled_identity(tmp_path, "ccu-a", NOW)
    (tmp_path / hub.CERT_FILE).write_text("not a certificate", encoding="ascii")
    with pytest.raises(IdentityError):
        load_hub_identity(tmp_path)


def test_signing_key_must_be_ec(tmp_path: Path) -> None:
    path = tmp_path / "rsa.key"
    path.write_bytes(
        rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(IdentityError, match="not an EC private key"):
        load_signing_key(path)
    with pytest.raises(IdentityError):
        load_signing_key(tmp_path / "missing.key")


def test_the_daemon_imports_no_cryptography() -> None:
    """The memory budget depends on it: ~8 MB of RSS (see ccu_addon.identity)."""
    code = (
        "import sys, ccu_addon.cli, ccu_addon.app, ccu_addon.errors\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'cryptography'"
        " or m == 'tunnel.enrolment'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert out.strip() == "[]"
