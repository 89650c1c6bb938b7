"""The enrolled hub's identity as the running add-on needs it, read with the standard library.

Enrolment (key pair, CSR, the pairing client) lives in :mod:`tunnel.enrolment` and uses the
``cryptography`` package. Once the hub is enrolled the add-on needs far less: the paths of
key and certificate (the stdlib ``ssl`` module does the TLS), the device slug (the
certificate's CN, for the dashboard and the shop link) and the certificate's DER bytes (sent
along with the shop link). Importing ``cryptography`` for that would cost some 8 MB of RSS for
the daemon's whole life (its Rust library, cffi, the OpenSSL bindings), a fifth of the
add-on's memory budget; so the enrolled add-on reads the certificate here and imports
``cryptography`` only in the rare moments that need it: enrolment, and signing a shop link
(:func:`load_signing_key`).

:func:`subject_common_name` is a small, pure DER reader: it walks
``Certificate → tbsCertificate → subject`` and returns the first ``commonName``. It trusts
nothing it reads (the gateway verifies whatever the hub sends), it only has to find the slug
in the certificate the gateway issued.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from ccu_addon.errors import AddonError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey

__all__ = [
    "HubIdentity",
    "IdentityError",
    "load_hub_identity",
    "load_signing_key",
    "subject_common_name",
]

# The file names of tunnel.enrolment (KEY_FILE, CERT_FILE, CA_FILE), repeated so that reading
# them does not import that module (and cryptography with it); a test pins them equal.
KEY_FILE: Final = "device.key"
CERT_FILE: Final = "device.crt"
CA_FILE: Final = "device-ca.crt"

_SEQUENCE: Final = 0x30
_SET: Final = 0x31
_OID: Final = 0x06
_EXPLICIT_0: Final = 0xA0
_COMMON_NAME: Final = bytes((0x55, 0x04, 0x03))  # 2.5.4.3
_STRING_TAGS: Final = frozenset({0x0C, 0x13, 0x14, 0x16, 0x1E})  # UTF8, Printable, T61, IA5, BMP


class IdentityError(AddonError, ValueError):
    """The hub's key or certificate files cannot be used."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HubIdentity:
    """An enrolled hub: where its key and certificate are, and what the certificate names."""

    key_path: Path
    """The device's private key (PEM)."""
    cert_path: Path
    """The certificate the gateway's device CA issued (PEM)."""
    slug: str | None
    """The device slug (the certificate's CN)."""
    certificate_der: bytes
    """The certificate in DER (sent with the signed shop link)."""

    @property
    def ca_path(self) -> Path:
        """The device CA certificate kept from enrolment."""
        return self.cert_path.with_name(CA_FILE)


def _tlv(data: bytes, at: int) -> tuple[int, int, int]:
    """(tag, start of the value, end of the value) of the DER element at ``at``."""
    if at + 2 > len(data):
        raise IdentityError("certificate: truncated DER")
    tag, length = data[at], data[at + 1]
    start = at + 2
    if length & 0x80:
        count = length & 0x7F
        if not 0 < count <= 4 or start + count > len(data):
            raise IdentityError("certificate: bad DER length")
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    end = start + length
    if end > len(data):
        raise IdentityError("certificate: truncated DER")
    return tag, start, end


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    children = []
    while start < end:
        child = _tlv(data, start)
        children.append(child)
        start = child[2]
    return children


def subject_common_name(der: bytes) -> str | None:
    """The first ``commonName`` of an X.509 certificate's subject; None if it has none."""
    tag, start, end = _tlv(der, 0)
    if tag != _SEQUENCE:
        raise IdentityError("certificate: not a DER SEQUENCE")
    tag, start, end = _tlv(der, start)  # tbsCertificate
    fields = [f for f in _children(der, start, end) if f[0] != _EXPLICIT_0]  # version
    # serialNumber, signature, issuer, validity, subject, ...
    if len(fields) < 5 or fields[4][0] != _SEQUENCE:
        raise IdentityError("certificate: no subject")
    _, start, end = fields[4]
    for rdn_tag, rdn_start, rdn_end in _children(der, start, end):
        if rdn_tag != _SET:
            raise IdentityError("certificate: malformed subject")
        for _, attr_start, attr_end in _children(der, rdn_start, rdn_end):
            parts = _children(der, attr_start, attr_end)
            if len(parts) != 2 or parts[0][0] != _OID:
                raise IdentityError("certificate: malformed subject attribute")
            (_, oid_start, oid_end), (value_tag, value_start, value_end) = parts
            if der[oid_start:oid_end] != _COMMON_NAME:
                continue
            if value_tag not in _STRING_TAGS:
                raise IdentityError("certificate: commonName is not a string")
            value = der[value_start:value_end]
            return value.decode("utf-16-be" if value_tag == 0x1E else "utf-8")
    return None


def load_hub_identity(state_dir: Path) -> HubIdentity | None:
    """The enrolled identity from ``state_dir``; None before enrolment (blocking file work)."""
    key_path, cert_path = state_dir / KEY_FILE, state_dir / CERT_FILE
    if not (key_path.is_file() and cert_path.is_file()):
        return None
    try:
        der = ssl.PEM_cert_to_DER_cert(cert_path.read_text(encoding="ascii"))
    except (OSError, ValueError) as exc:
        raise IdentityError(f"cannot read the certificate {cert_path}: {exc}") from exc
    return HubIdentity(
        key_path=key_path,
        cert_path=cert_path,
        slug=subject_common_name(der),
        certificate_der=der,
    )


def load_signing_key(path: Path) -> EllipticCurvePrivateKey:
    """The device key, for signing a shop link (imports ``cryptography``; blocking)."""
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415 - see module doc
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415

    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise IdentityError(f"cannot read the device key {path}: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise IdentityError(f"{path} is not an EC private key")
    return key
