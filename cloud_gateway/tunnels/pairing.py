"""Pairing codes and device slugs: pure helpers, no I/O.

A pairing code is shown by the device and typed by its owner into the portal, so it is
short and avoids look-alike characters: 8 symbols from a 30-letter alphabet (≈ 2^39),
displayed as ``ABCD-EFGH``. It is single use, expires (``EnrolmentConfig.code_ttl_s``)
and wrong guesses are rate-limited, so the small space is enough. Only its hash is stored.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Final

__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "format_code",
    "hash_secret",
    "make_slug",
    "new_pairing_code",
    "normalize_code",
]

CODE_ALPHABET: Final = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
"""Upper-case letters and digits without 0/O, 1/I/L and U."""
CODE_LENGTH: Final = 8

_SLUG_JUNK = re.compile(r"[^a-z0-9]+")
_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def new_pairing_code() -> str:
    """A fresh random code in its normalized form (``ABCDEFGH``)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """The display form: ``ABCD-EFGH``."""
    half = CODE_LENGTH // 2
    return f"{code[:half]}-{code[half:]}"


def normalize_code(typed: str) -> str | None:
    """What the owner typed, normalized; ``None`` when it cannot be a code."""
    code = "".join(ch for ch in typed.upper() if ch.isalnum())
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return code


def hash_secret(secret: str) -> str:
    """The stored form of a pairing code or token (SHA-256, hex)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def make_slug(name: str, kind: str) -> str:
    """A DNS label for the device host: the name made safe plus a random suffix."""
    base = _SLUG_JUNK.sub("-", name.lower().translate(_TRANSLIT)).strip("-")[:40].strip("-")
    if not base:
        base = _SLUG_JUNK.sub("-", kind.lower()).strip("-")[:40] or "device"
    return f"{base}-{secrets.token_hex(3)}"
