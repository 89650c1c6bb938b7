"""Throwaway TLS material for the tunnel benchmarks: a CA, the gateway's and a device's cert.

The files are written to a directory so that the gateway and device processes load the
same CA: ``ca.pem``, ``gateway.pem`` and ``device.pem`` (key and chain in one file each).
All keys are ECDSA P-256 (trustme's default), like the product's: the gateway's own
certificates (:mod:`cloud_gateway.tls`) and the keys devices make for their CSRs
(:mod:`tunnel.enrolment`); the device CA signs with P-256 too.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import trustme

from cloud_gateway.tls import ServerTls, server_ssl_context
from tunnel.connector import client_ssl_context

__all__ = ["GATEWAY_HOSTS", "device_context", "gateway_context", "write_certs"]

GATEWAY_HOSTS = tuple(f"127.0.0.{n}" for n in range(1, 9))
"""Loopback addresses the gateway certificate is valid for (scale runs listen on several)."""


def write_certs(directory: Path) -> Path:
    """Make a CA and issue the gateway (127.0.0.1-8) and device certificates into ``directory``."""
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(directory / "ca.pem"))
    gateway = ca.issue_cert(*GATEWAY_HOSTS, "localhost")
    gateway.private_key_and_cert_chain_pem.write_to_path(str(directory / "gateway.pem"))
    device = ca.issue_cert("bench-device.devices.test")
    device.private_key_and_cert_chain_pem.write_to_path(str(directory / "device.pem"))
    return directory


def gateway_context(directory: Path) -> ssl.SSLContext:
    """The gateway's server context as the product builds it, a client certificate required.

    :func:`cloud_gateway.tls.server_ssl_context` (TLS >= 1.2, no session tickets) plus
    the CA as the only trust anchor for client certificates; the product asks for one
    with ``CERT_OPTIONAL`` (browsers share the port) and checks it in ``/tunnel/v1``.
    """
    pem = directory / "gateway.pem"
    context = server_ssl_context(ServerTls(ca_cert=None, cert=pem, key=pem))
    context.load_verify_locations(cafile=str(directory / "ca.pem"))
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def device_context(directory: Path) -> ssl.SSLContext:
    """The device's context, as the product builds it (:func:`client_ssl_context`)."""
    pem = directory / "device.pem"
    return client_ssl_context(directory / "ca.pem", pem, pem)
