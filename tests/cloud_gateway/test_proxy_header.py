"""The PROXY protocol v2 header parser, with literal bytes from the spec's layout."""

from __future__ import annotations

import pytest

from cloud_gateway.proxy_header import (
    MAX_BODY,
    PREFIX_SIZE,
    Command,
    ProxyHeader,
    ProxyHeaderError,
    body_length,
    parse_header,
)

SIG = b"\x0d\x0a\x0d\x0a\x00\x0d\x0a\x51\x55\x49\x54\x0a"

# PROXY, TCP over IPv4: 203.0.113.7:51000 -> 10.0.0.11:8443
IPV4 = (
    SIG
    + b"\x21\x11\x00\x0c"
    + b"\xcb\x00\x71\x07"
    + b"\x0a\x00\x00\x0b"
    + b"\xc7\x38"
    + b"\x20\xfb"
)
# PROXY, TCP over IPv6: [2001:db8::1]:443 -> [2001:db8::2]:8443
IPV6 = (
    SIG
    + b"\x21\x21\x00\x24"
    + b"\x20\x01\x0d\xb8" + b"\x00" * 11 + b"\x01"
    + b"\x20\x01\x0d\xb8" + b"\x00" * 11 + b"\x02"
    + b"\x01\xbb\x20\xfb"
)  # fmt: skip
# LOCAL (HAProxy's health checks), no addresses
LOCAL = SIG + b"\x20\x00\x00\x00"


def test_ipv4_source() -> None:
    assert body_length(IPV4[:PREFIX_SIZE]) == 12
    assert parse_header(IPV4) == ProxyHeader(command=Command.PROXY, source=("203.0.113.7", 51000))


def test_ipv6_source() -> None:
    assert body_length(IPV6[:PREFIX_SIZE]) == 36
    assert parse_header(IPV6) == ProxyHeader(command=Command.PROXY, source=("2001:db8::1", 443))


def test_local_keeps_the_socket_address_and_ignores_any_address_block() -> None:
    assert parse_header(LOCAL) == ProxyHeader(command=Command.LOCAL, source=None)
    with_block = SIG + b"\x20\x11\x00\x0c" + IPV4[PREFIX_SIZE:]
    assert parse_header(with_block).source is None


def test_tlvs_after_the_addresses_are_skipped() -> None:
    tlv = b"\x04\x00\x03abc"  # PP2_TYPE_NETNS "abc"
    data = SIG + b"\x21\x11\x00\x12" + IPV4[PREFIX_SIZE:] + tlv
    assert parse_header(data).source == ("203.0.113.7", 51000)


def test_unspec_family_keeps_the_socket_address() -> None:
    assert parse_header(SIG + b"\x21\x00\x00\x00").source is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 5, "signature"),  # TLS
        (b"PROXY TCP4 203.0.113.7 10.0.0.11 51000 8443\r\n"[:PREFIX_SIZE], "signature"),  # v1
        (SIG + b"\x11\x11\x00\x0c", "version 1"),
        (SIG + b"\x22\x11\x00\x0c", "command"),
        (SIG + b"\x21\x11" + (MAX_BODY + 1).to_bytes(2, "big"), "exceeds"),
        (SIG + b"\x21\x11\x00", "prefix of 15"),
    ],
)
def test_bad_prefix_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(ProxyHeaderError, match=message):
        body_length(data)


def test_largest_body_is_accepted() -> None:
    assert body_length(SIG + b"\x21\x11" + MAX_BODY.to_bytes(2, "big")) == MAX_BODY


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (IPV4[:-1], "announced 12"),  # truncated
        (IPV4 + b"\x00", "announced 12"),  # longer than announced
        (SIG + b"\x21\x11\x00\x08" + IPV4[PREFIX_SIZE:-4], "need 12"),  # block too short
        (SIG + b"\x21\x12\x00\x0c" + IPV4[PREFIX_SIZE:], "not STREAM"),  # UDP
        (SIG + b"\x21\x41\x00\x0c" + IPV4[PREFIX_SIZE:], "family"),
    ],
)
def test_bad_header_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(ProxyHeaderError, match=message):
        parse_header(data)


def test_error_is_a_value_error() -> None:
    assert issubclass(ProxyHeaderError, ValueError)
