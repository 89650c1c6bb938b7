"""Pairing codes, slugs and the device CA: pure helpers and files on disk."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from cloud_gateway.tunnels.device_ca import DeviceCa, InvalidCsrError, load_csr, serial_hex
from cloud_gateway.tunnels.pairing import (
    CODE_ALPHABET,
    format_code,
    make_slug,
    new_pairing_code,
    normalize_code,
)
from tests.support.tunnel_device import make_csr

NOW = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


def test_codes_use_the_unambiguous_alphabet_and_normalize_what_owners_type() -> None:
    code = new_pairing_code()
    assert len(code) == 8
    assert set(code) <= set(CODE_ALPHABET)
    assert not set("01ILOU") & set(CODE_ALPHABET)
    shown = format_code(code)
    assert shown[4] == "-"
    assert normalize_code(shown.lower()) == code
    assert normalize_code(f" {shown[:4]} {shown[5:]} ") == code
    assert normalize_code("ABCD-EFG") is None
    assert normalize_code("ABCD-EFG0") is None


def test_slugs_are_dns_labels_with_a_random_suffix() -> None:
    slug = make_slug("Küche & Wohnzimmer", "ccu")
    assert slug.startswith("kueche-wohnzimmer-")
    assert make_slug("", "inverter_agent").startswith("inverter-agent-")
    long = make_slug("x" * 200, "ccu")
    assert len(long) <= 63
    assert make_slug("a", "ccu") != make_slug("a", "ccu")


def test_device_ca_is_created_once_with_a_private_key(tmp_path: Path) -> None:
    ca = DeviceCa.ensure(tmp_path, NOW)
    key_file = tmp_path / "device-ca" / "ca.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    again = DeviceCa.ensure(tmp_path, NOW)
    assert again.cert == ca.cert
    constraints = ca.cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca


def test_issued_certificates_are_client_certificates_on_the_csr_key(tmp_path: Path) -> None:
    ca = DeviceCa.ensure(tmp_path, NOW)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = ca.issue(load_csr(make_csr(key, "evil-name")), slug="ccu-abc123", now=NOW, days=30)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "ccu-abc123"
    assert cert.issuer == ca.cert.subject
    assert cert.public_key() == key.public_key()
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert (cert.not_valid_after_utc - NOW).days == 30
    cert.verify_directly_issued_by(ca.cert)
    assert serial_hex(cert) == format(cert.serial_number, "x")


def test_bad_csrs_are_refused() -> None:
    with pytest.raises(InvalidCsrError):
        load_csr("not a csr")
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .sign(weak, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
        .decode()
    )
    with pytest.raises(InvalidCsrError, match="2048"):
        load_csr(csr)
    other = ec.generate_private_key(ec.SECP256K1())
    with pytest.raises(InvalidCsrError, match="curve"):
        load_csr(make_csr(other))
