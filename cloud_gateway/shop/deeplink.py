"""The signed "Zugang buchen" link from a hub (R-CCU-11), gateway half: parse and verify.

The format is specified in ``docs/deeplink.md``; the add-on builds it with its own
implementation. Pure: no I/O; the caller passes the device CA certificate and the instant.
The store checks (serial not revoked, device linked to the account) are the caller's.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cloud_gateway.errors import GatewayError

__all__ = [
    "MAX_LIFETIME",
    "LinkRefusal",
    "ShopLink",
    "ShopLinkError",
    "canonical_payload",
    "parse_shop_link",
    "verify_shop_link",
]

MAX_LIFETIME: Final = timedelta(minutes=30)
"""A link that claims to live longer than this from now is refused."""
_HEADER: Final = "cloudconnector-shop-link/1"
_MAX_PARAM: Final = 4096


class LinkRefusal(StrEnum):
    """Why a shop link is refused."""

    MALFORMED = "malformed"
    BAD_SIGNATURE = "bad_signature"
    EXPIRED = "expired"
    TOO_LONG_LIVED = "too_long_lived"
    UNTRUSTED_CERTIFICATE = "untrusted_certificate"
    WRONG_ACCOUNT = "wrong_account"


class ShopLinkError(GatewayError, ValueError):
    """The link cannot be used; ``reason`` says why."""

    def __init__(self, reason: LinkRefusal, detail: str = "") -> None:
        self.reason = reason
        super().__init__(f"{reason}: {detail}" if detail else str(reason))


@dataclass(frozen=True, slots=True, kw_only=True)
class ShopLink:
    """A parsed (not yet verified) link."""

    device_slug: str
    account_id: int
    package: str
    expires: int
    certificate: x509.Certificate
    signature: bytes

    @property
    def expires_at(self) -> datetime:
        """``expires`` as an aware UTC instant."""
        return datetime.fromtimestamp(self.expires, UTC)


def canonical_payload(device_slug: str, account_id: int, package: str, expires: int) -> bytes:
    """The exact bytes the hub signed (see ``docs/deeplink.md``)."""
    lines = (
        _HEADER,
        f"device={device_slug}",
        f"account={account_id}",
        f"package={package}",
        f"expires={expires}",
    )
    return "".join(f"{line}\n" for line in lines).encode("utf-8")


def _param(query: Mapping[str, str], name: str, *, allow_empty: bool = False) -> str:
    value = query.get(name)
    if value is None or (not value and not allow_empty) or len(value) > _MAX_PARAM:
        raise ShopLinkError(LinkRefusal.MALFORMED, f"{name} missing or too long")
    if "\n" in value or "\r" in value:
        raise ShopLinkError(LinkRefusal.MALFORMED, f"{name} contains a line break")
    return value


def _decimal(query: Mapping[str, str], name: str) -> int:
    value = _param(query, name)
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise ShopLinkError(LinkRefusal.MALFORMED, f"{name} is not a decimal number")
    return int(value)


def _unb64(query: Mapping[str, str], name: str) -> bytes:
    value = _param(query, name)
    try:
        padded = value + "=" * (-len(value) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ShopLinkError(LinkRefusal.MALFORMED, f"{name} is not base64url") from exc


def parse_shop_link(query: Mapping[str, str]) -> ShopLink:
    """Read the link's query parameters; raises :class:`ShopLinkError` (malformed)."""
    cert_der = _unb64(query, "cert")
    try:
        certificate = x509.load_der_x509_certificate(cert_der)
    except ValueError as exc:
        raise ShopLinkError(LinkRefusal.MALFORMED, "cert is not a DER certificate") from exc
    return ShopLink(
        device_slug=_param(query, "device"),
        account_id=_decimal(query, "account"),
        package=_param(query, "package", allow_empty=True),
        expires=_decimal(query, "expires"),
        certificate=certificate,
        signature=_unb64(query, "sig"),
    )


def _check_certificate(link: ShopLink, ca_cert: x509.Certificate, now: datetime) -> None:
    cert = link.certificate
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise ShopLinkError(LinkRefusal.UNTRUSTED_CERTIFICATE, "not issued by us") from exc
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise ShopLinkError(LinkRefusal.UNTRUSTED_CERTIFICATE, "certificate not valid now")
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if len(names) != 1 or names[0].value != link.device_slug:
        raise ShopLinkError(LinkRefusal.UNTRUSTED_CERTIFICATE, "certificate names another device")


def verify_shop_link(link: ShopLink, *, ca_cert: x509.Certificate, now: datetime) -> None:
    """Check certificate, signature and lifetime; raises :class:`ShopLinkError`."""
    _check_certificate(link, ca_cert, now)
    key = link.certificate.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ShopLinkError(LinkRefusal.UNTRUSTED_CERTIFICATE, "not an EC device key")
    payload = canonical_payload(link.device_slug, link.account_id, link.package, link.expires)
    try:
        key.verify(link.signature, payload, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise ShopLinkError(LinkRefusal.BAD_SIGNATURE, "signature does not verify") from exc
    if link.expires_at <= now:
        raise ShopLinkError(LinkRefusal.EXPIRED, "the link has expired")
    if link.expires_at > now + MAX_LIFETIME:
        raise ShopLinkError(LinkRefusal.TOO_LONG_LIVED, "the link claims to live too long")
