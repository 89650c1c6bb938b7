"""The signed shop link: the add-on's half against the gateway's half (docs/deeplink.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ccu_addon import deeplink as device_side
from cloud_gateway.shop import deeplink as gateway_side
from cloud_gateway.shop.deeplink import LinkRefusal, ShopLinkError

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("test device CA"))
        .issuer_name(_name("test device CA"))
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def issue(
    ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate], slug: str
) -> tuple[ec.EllipticCurvePrivateKey, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(slug))
        .issuer_name(ca[1].subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(hours=1))
        .not_valid_after(NOW + timedelta(days=30))
        .sign(ca[0], hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.DER)


@pytest.fixture(scope="module")
def ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    return make_ca()


def link_query(
    ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate],
    *,
    slug: str = "ccu-ferienhaus",
    now: datetime = NOW,
    lifetime: timedelta = device_side.LINK_LIFETIME,
) -> dict[str, str]:
    key, der = issue(ca, slug)
    url = device_side.build_shop_link(
        gateway_url="https://gw.example/",
        device_slug=slug,
        account_id=42,
        package="remote-12m",
        key=key,
        certificate_der=der,
        now=now,
        lifetime=lifetime,
    )
    parts = urlsplit(url)
    assert parts.path == "/shop/hub"
    return dict(parse_qsl(parts.query, keep_blank_values=True))


def verify(query: dict[str, str], ca_cert: x509.Certificate, now: datetime = NOW) -> None:
    gateway_side.verify_shop_link(gateway_side.parse_shop_link(query), ca_cert=ca_cert, now=now)


def test_both_halves_agree_on_the_canonical_payload() -> None:
    claims = device_side.ShopLinkClaims(
        device_slug="ccu-a", account_id=7, package="", expires=1_772_000_000
    )
    expected = (
        b"cloudconnector-shop-link/1\ndevice=ccu-a\naccount=7\npackage=\nexpires=1772000000\n"
    )
    assert device_side.canonical_payload(claims) == expected
    assert gateway_side.canonical_payload("ccu-a", 7, "", 1_772_000_000) == expected


def test_a_fresh_link_verifies_and_names_the_account(
    ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate],
) -> None:
    query = link_query(ca)
    link = gateway_side.parse_shop_link(query)
    gateway_side.verify_shop_link(link, ca_cert=ca[1], now=NOW)
    assert (link.device_slug, link.account_id, link.package) == ("ccu-ferienhaus", 42, "remote-12m")
    assert link.expires_at == NOW + timedelta(minutes=10)


@pytest.mark.parametrize(
    ("field", "value"),
    [("account", "43"), ("package", "remote-24m"), ("expires", "1900000000"), ("device", "other")],
)
def test_a_tampered_link_is_refused(
    ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate], field: str, value: str
) -> None:
    query = link_query(ca) | {field: value}
    with pytest.raises(ShopLinkError) as caught:
        verify(query, ca[1])
    assert caught.value.reason in {
        LinkRefusal.BAD_SIGNATURE,
        LinkRefusal.UNTRUSTED_CERTIFICATE,
        LinkRefusal.TOO_LONG_LIVED,
    }


def test_an_expired_link_is_refused(
    ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate],
) -> None:
    query = link_query(ca)
    with pytest.raises(ShopLinkError) as caught:
        verify(query, ca[1], now=NOW + timedelta(minutes=10))
    assert caught.value.reason is LinkRefusal.EXPIRED


def test_a_link_that_claims_a_long_life_is_refused(
    ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate],
) -> None:
    query = link_query(ca, lifetime=timedelta(hours=2))
    with pytest.raises(ShopLinkError) as caught:
        verify(query, ca[1])
    assert caught.value.reason is LinkRefusal.TOO_LONG_LIVED


def test_a_certificate_from_another_ca_is_refused(
    ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate],
) -> None:
    query = link_query(make_ca())
    with pytest.raises(ShopLinkError) as caught:
        verify(query, ca[1])
    assert caught.value.reason is LinkRefusal.UNTRUSTED_CERTIFICATE


@pytest.mark.parametrize(
    "change",
    [
        {"account": "-1"},
        {"account": "4 2"},
        {"expires": ""},
        {"sig": "***"},
        {"cert": "AAAA"},
        {"device": "a\nb"},
    ],
)
def test_malformed_links_are_refused(
    ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate], change: dict[str, str]
) -> None:
    query = link_query(ca) | change
    with pytest.raises(ShopLinkError) as caught:
        verify(query, ca[1])
    assert caught.value.reason is LinkRefusal.MALFORMED


def test_a_missing_parameter_is_malformed(
    ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate],
) -> None:
    query = link_query(ca)
    del query["sig"]
    with pytest.raises(ShopLinkError) as caught:
        verify(query, ca[1])
    assert caught.value.reason is LinkRefusal.MALFORMED


def test_claims_reject_line_breaks() -> None:
    with pytest.raises(ValueError, match="line breaks"):
        device_side.ShopLinkClaims(device_slug="a\nb", account_id=1, package="", expires=1)
