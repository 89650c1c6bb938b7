"""Device hosts and cookie stripping: pure helpers of remote access."""

from __future__ import annotations

from cloud_gateway.remote.hosts import device_origin, slug_from_host, strip_cookies


def test_device_hosts_are_single_labels_below_the_remote_domain() -> None:
    assert slug_from_host("ccu-1a2b3c.gateway.localhost:8443", "gateway.localhost") == "ccu-1a2b3c"
    assert slug_from_host("CCU-1A2B3C.Gateway.Localhost.", "gateway.localhost") == "ccu-1a2b3c"
    assert slug_from_host("gateway.localhost:8443", "gateway.localhost") is None
    assert slug_from_host("a.b.gateway.localhost", "gateway.localhost") is None
    assert slug_from_host("evilgateway.localhost", "gateway.localhost") is None
    assert slug_from_host("-x.gateway.localhost", "gateway.localhost") is None
    assert slug_from_host(None, "gateway.localhost") is None


def test_device_origin_keeps_the_portal_port() -> None:
    assert device_origin("ccu-1", "example.org", "portal.example.org:8443") == (
        "https://ccu-1.example.org:8443"
    )
    assert (
        device_origin("ccu-1", "example.org", "portal.example.org") == "https://ccu-1.example.org"
    )
    assert device_origin("ccu-1", "example.org", "portal.example.org:443") == (
        "https://ccu-1.example.org"
    )


def test_gateway_cookies_never_reach_the_device() -> None:
    header = "ccu_sid=abc; __Host-remote=secret; __Host-session=s; lang=de; __Host-csrf=c"
    assert strip_cookies(header) == "ccu_sid=abc; lang=de"
    assert strip_cookies("__Host-remote=x") == ""
