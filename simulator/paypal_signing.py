"""How the PayPal simulator signs its webhooks, as PayPal does (SHA256withRSA).

PayPal signs ``transmission_id|transmission_time|webhook_id|crc32(body)`` with the key of a
certificate it serves at ``PAYPAL-CERT-URL``; the listener fetches that certificate and checks
the signature. The simulator makes a self-signed certificate of its own at start.
"""

from __future__ import annotations

import base64
import secrets
import zlib
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

__all__ = ["WebhookSigner", "paypal_time", "signed_message"]


def signed_message(transmission_id: str, time: str, webhook_id: str, body: bytes) -> bytes:
    """What PayPal signs: ``transmission_id|transmission_time|webhook_id|crc32(body)``."""
    return f"{transmission_id}|{time}|{webhook_id}|{zlib.crc32(body)}".encode()


def paypal_time() -> str:
    """Now, as PayPal writes instants."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class WebhookSigner:
    """A signing key with its self-signed certificate (PEM in :attr:`cert_pem`)."""

    def __init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "messageverificationcerts")])
        now = datetime.now(UTC)
        self.cert_pem = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))
            .sign(self._key, hashes.SHA256())
            .public_bytes(serialization.Encoding.PEM)
        )

    def headers(
        self, body: bytes, *, webhook_id: str, cert_url: str, transmission_id: str | None = None
    ) -> dict[str, str]:
        """The headers PayPal sends with ``body``."""
        tid = transmission_id or secrets.token_hex(16)
        time = paypal_time()
        signature = self._key.sign(
            signed_message(tid, time, webhook_id, body), padding.PKCS1v15(), hashes.SHA256()
        )
        return {
            "Content-Type": "application/json",
            "PAYPAL-TRANSMISSION-ID": tid,
            "PAYPAL-TRANSMISSION-TIME": time,
            "PAYPAL-TRANSMISSION-SIG": base64.b64encode(signature).decode(),
            "PAYPAL-CERT-URL": cert_url,
            "PAYPAL-AUTH-ALGO": "SHA256withRSA",
        }
