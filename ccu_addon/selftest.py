"""The dashboard's self-test: why can't the hub reach the gateway, in plain words.

Checks in order, each explained when it fails: the gateway's name resolves (DNS), an HTTP
proxy (when one is configured) answers, a TCP connection and TLS handshake succeed with a
trusted certificate, the hub's clock agrees with the gateway's, and the gateway has not
refused the hub. A failed early check skips the later network checks.
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from ccu_addon.errors import HttpClientError
from ccu_addon.status import Refusal
from tunnel.clock import Clock
from tunnel.httpclient import fetch

__all__ = ["MAX_CLOCK_SKEW", "Check", "CheckResult", "run_selftest"]

MAX_CLOCK_SKEW = 120.0
"""Seconds the hub's clock may differ from the gateway's before the test complains."""


class Check(StrEnum):
    """The checks, in the order they run."""

    DNS = "dns"
    PROXY = "proxy"
    CONNECT = "connect"
    CERTIFICATE = "certificate"
    CLOCK = "clock"
    GATEWAY = "gateway"


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    """One check's outcome with an explanation in German and English."""

    check: Check
    """Which check."""
    ok: bool
    """Passed?"""
    de: str
    """What it means, in German."""
    en: str
    """What it means, in English."""


def _ok(check: Check, de: str, en: str) -> CheckResult:
    return CheckResult(check=check, ok=True, de=de, en=en)


def _fail(check: Check, de: str, en: str) -> CheckResult:
    return CheckResult(check=check, ok=False, de=de, en=en)


async def _dns(host: str, port: int) -> CheckResult:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        return _fail(
            Check.DNS,
            f"Der Name {host} lässt sich nicht auflösen ({exc}). DNS-Server im Router prüfen.",
            f"The name {host} does not resolve ({exc}). Check the router's DNS server.",
        )
    address = infos[0][4][0]
    return _ok(Check.DNS, f"{host} → {address}", f"{host} → {address}")


def _proxy_url() -> str | None:
    for name in ("HTTPS_PROXY", "https_proxy"):
        if os.environ.get(name):
            return os.environ[name]
    return None


async def _proxy(url: str, timeout: float) -> CheckResult:
    parts = urlsplit(url)
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(parts.hostname, parts.port or 3128)
        writer.close()
    except (OSError, TimeoutError) as exc:
        return _fail(
            Check.PROXY,
            f"Der Proxy {parts.hostname} ist nicht erreichbar ({exc!r}).",
            f"The proxy {parts.hostname} cannot be reached ({exc!r}).",
        )
    return _ok(
        Check.PROXY, f"Proxy {parts.hostname} erreichbar", f"Proxy {parts.hostname} reachable"
    )


async def _tls(host: str, port: int, context: ssl.SSLContext, timeout: float) -> list[CheckResult]:
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(host, port, ssl=context, server_hostname=host)
        writer.close()
    except ssl.SSLCertVerificationError as exc:
        hint = exc.verify_message or str(exc)
        return [
            _ok(Check.CONNECT, "Verbindung aufgebaut", "Connection established"),
            _fail(
                Check.CERTIFICATE,
                f"Das Zertifikat des Gateways ist nicht vertrauenswürdig ({hint}). Bei „expired“ "
                "oder „not yet valid“ die Uhrzeit der Zentrale prüfen; sonst schaltet sich "
                "womöglich ein Proxy oder eine Firewall dazwischen.",
                f"The gateway's certificate is not trusted ({hint}). For “expired” or “not yet "
                "valid” check the hub's clock; otherwise a proxy or firewall may interfere.",
            ),
        ]
    except (OSError, TimeoutError) as exc:
        return [
            _fail(
                Check.CONNECT,
                f"Keine Verbindung zu {host}:{port} ({exc!r}). Internetzugang und Firewall prüfen.",
                f"No connection to {host}:{port} ({exc!r}). Check internet access and firewall.",
            )
        ]
    return [
        _ok(Check.CONNECT, "Verbindung aufgebaut", "Connection established"),
        _ok(Check.CERTIFICATE, "Zertifikat gültig", "Certificate valid"),
    ]


async def _clock(
    base_url: str, context: ssl.SSLContext, clock: Clock, timeout: float
) -> CheckResult:
    # email.utils (with most of the email package) costs ~0.9 MB of RSS for the rest of the
    # daemon's life; the self-test runs seldom, so only a hub that runs it pays.
    from email.utils import parsedate_to_datetime  # noqa: PLC0415

    try:
        resp = await fetch(
            "GET", f"{base_url.rstrip('/')}/healthz", ssl_context=context, timeout=timeout
        )
        server = parsedate_to_datetime(resp.header("Date") or "")
    except (HttpClientError, ValueError, TypeError) as exc:
        return _fail(
            Check.CLOCK,
            f"Uhrzeit des Gateways nicht lesbar ({exc!r}).",
            f"Cannot read the gateway's time ({exc!r}).",
        )
    skew = (clock.now() - server).total_seconds()
    if abs(skew) > MAX_CLOCK_SKEW:
        return _fail(
            Check.CLOCK,
            f"Die Uhr der Zentrale geht um {skew:+.0f} s falsch. Zeitserver (NTP) einstellen.",
            f"The hub's clock is off by {skew:+.0f} s. Configure a time server (NTP).",
        )
    return _ok(Check.CLOCK, f"Abweichung {skew:+.0f} s", f"Offset {skew:+.0f} s")


def _gateway(refusal: Refusal | None) -> CheckResult:
    if refusal is None:
        return _ok(Check.GATEWAY, "Keine Ablehnung", "No refusal")
    return _fail(
        Check.GATEWAY,
        f"Das Gateway lehnt ab: {refusal.reason} {refusal.detail}".strip(),
        f"The gateway refuses: {refusal.reason} {refusal.detail}".strip(),
    )


async def run_selftest(
    *,
    gateway_url: str,
    ca_file: Path | None,
    clock: Clock,
    last_refusal: Refusal | None,
    timeout: float = 5.0,
) -> list[CheckResult]:
    """Run every check; the result lists them in order (skipped ones are left out)."""
    parts = urlsplit(gateway_url)
    host, port = parts.hostname or "", parts.port or 443
    results = [await _dns(host, port)]
    if (proxy := _proxy_url()) is not None:
        results.append(await _proxy(proxy, timeout))
    if results[-1].ok:
        context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        results += await _tls(host, port, context, timeout)
        if results[-1].ok:
            results.append(await _clock(gateway_url, context, clock, timeout))
    results.append(_gateway(last_refusal))
    return results
