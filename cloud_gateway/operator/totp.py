"""The second factor of staff logins: TOTP (RFC 6238) and recovery codes; pure.

A code is checked against the injected clock's instant, one 30-second step either side
(clock drift of the phone), and only if its step is newer than the last one used: a code
works once. Recovery codes are 10 random base32 characters (50 bits), shown once and stored
as SHA-256 hashes; each works once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp

__all__ = [
    "ISSUER",
    "RECOVERY_CODES",
    "RECOVERY_CODE_LENGTH",
    "STEP_S",
    "hash_recovery_code",
    "matching_step",
    "new_recovery_codes",
    "new_secret",
    "normalise_code",
    "provisioning_uri",
]

ISSUER = "CloudConnector"
STEP_S = 30
RECOVERY_CODES = 10
RECOVERY_CODE_LENGTH = 10
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_secret() -> str:
    """A new base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, account_name: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, interval=STEP_S).provisioning_uri(
        name=account_name, issuer_name=ISSUER
    )


def normalise_code(code: str) -> str:
    """A typed code without spaces and dashes, upper case."""
    return "".join(ch for ch in code if ch.isalnum()).upper()


def matching_step(secret: str, code: str, now: datetime, last_step: int) -> int | None:
    """The time step whose code ``code`` is (now ± one step, newer than ``last_step``)."""
    code = normalise_code(code)
    if len(code) != 6 or not (code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, interval=STEP_S)
    current = int(now.timestamp()) // STEP_S
    for step in (current - 1, current, current + 1):
        if step > last_step and hmac.compare_digest(totp.at(step * STEP_S), code):
            return step
    return None


def new_recovery_codes(count: int = RECOVERY_CODES) -> list[str]:
    """Fresh recovery codes, grouped ``XXXXX-XXXXX`` for reading."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def hash_recovery_code(code: str) -> str:
    """The stored form of a recovery code (normalised, SHA-256 hex)."""
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()
