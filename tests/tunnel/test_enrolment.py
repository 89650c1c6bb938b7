"""The device identity shared by add-on and agent: key made once (0600), CSR, certificate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tunnel.enrolment import CA_FILE, KEY_FILE, EnrolmentError, load_identity, same_public_key
from tunnel.errors import TunnelError


def _certificate(public_key: ec.EllipticCurvePublicKey, slug: str) -> str:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    now = datetime(2026, 6, 21, tzinfo=UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, slug)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")]))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(ca_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_key_is_made_once_private_and_the_certificate_kept(tmp_path: Path) -> None:
    first = load_identity(tmp_path / "dev")
    assert not first.enrolled
    assert (tmp_path / "dev" / KEY_FILE).stat().st_mode & 0o777 == 0o600
    csr = x509.load_pem_x509_csr(first.csr_pem("Keller").encode())
    assert csr.public_key() == first.key.public_key()

    pem = _certificate(first.key.public_key(), "keller-abc123")
    enrolled = first.store_certificate(pem, "CA PEM")
    assert enrolled.slug == "keller-abc123"
    assert (tmp_path / "dev" / CA_FILE).read_text() == "CA PEM"

    again = load_identity(tmp_path / "dev")
    assert again.slug == "keller-abc123"
    assert again.key.private_numbers() == first.key.private_numbers()
    assert again.certificate_der == enrolled.certificate_der


def test_a_certificate_for_another_key_is_refused(tmp_path: Path) -> None:
    identity = load_identity(tmp_path)
    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(EnrolmentError, match="another key"):
        identity.store_certificate(_certificate(other.public_key(), "x"), "")
    with pytest.raises(TunnelError):
        identity.store_certificate("not a certificate", "")
    with pytest.raises(EnrolmentError):
        _ = identity.certificate_der


class _KeyWithoutEq:
    """A public key object as Debian 12's cryptography 38 has it: no ``__eq__``."""

    __slots__ = ("_key",)

    def __init__(self, key: ec.EllipticCurvePublicKey) -> None:
        self._key = key

    def public_bytes(
        self, encoding: serialization.Encoding, format: serialization.PublicFormat
    ) -> bytes:
        return self._key.public_bytes(encoding, format)


def test_public_keys_are_compared_by_their_der_not_by_identity() -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    first, second = _KeyWithoutEq(key), _KeyWithoutEq(key)
    assert first != second  # what `!=` on such objects says: identity
    assert same_public_key(first, second)
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    assert not same_public_key(first, _KeyWithoutEq(other))
