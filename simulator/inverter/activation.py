"""Activation codes printed on inverter labels, derived from the serial number (pure).

Scheme (documented for the gateway in ``docs/activation-codes.md``)::

    serial'  = serial with surrounding white space removed, upper-cased, UTF-8
    digest   = HMAC-SHA256(key = manufacturer key, message = b"sunspec-activation/v1:" + serial')
    bits     = the first 50 bits of digest (big-endian)
    symbols  = 10 characters of the RFC 4648 base32 alphabet "A..Z2..7", 5 bits each,
               most significant first
    code     = symbols[:5] + "-" + symbols[5:]        e.g. "K3QZP-7RMWA"

A code entered by a person is normalised before comparing: upper-cased, spaces and hyphens
dropped, and the look-alikes ``0 -> O``, ``1 -> I``, ``8 -> B`` mapped (none of 0, 1, 8 is in
the alphabet). Comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = [
    "DEMO_MANUFACTURER_KEY",
    "activation_code",
    "normalize_code",
    "verify_activation_code",
]

#: the manufacturer key the simulator and the demo use; real keys come from configuration
DEMO_MANUFACTURER_KEY = b"cloudconnector-demo-manufacturer-key-v1"

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_DOMAIN = b"sunspec-activation/v1:"
_SYMBOLS = 10
_LOOKALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})


def _normalize_serial(serial: str) -> bytes:
    cleaned = serial.strip().upper()
    if not cleaned:
        raise ValueError("serial number is empty")
    return cleaned.encode("utf-8")


def activation_code(serial: str, key: bytes = DEMO_MANUFACTURER_KEY) -> str:
    """The activation code ``XXXXX-XXXXX`` for ``serial`` under the manufacturer ``key``."""
    digest = hmac.new(key, _DOMAIN + _normalize_serial(serial), hashlib.sha256).digest()
    bits = int.from_bytes(digest[:7], "big") >> (56 - 5 * _SYMBOLS)
    symbols = "".join(_ALPHABET[(bits >> (5 * (_SYMBOLS - 1 - i))) & 0x1F] for i in range(_SYMBOLS))
    return f"{symbols[:5]}-{symbols[5:]}"


def normalize_code(entered: str) -> str:
    """A code as typed, in its canonical ``XXXXX-XXXXX`` form (no validation of the symbols)."""
    compact = "".join(entered.split()).replace("-", "").upper().translate(_LOOKALIKES)
    return f"{compact[:5]}-{compact[5:]}" if len(compact) == _SYMBOLS else compact


def verify_activation_code(serial: str, entered: str, key: bytes = DEMO_MANUFACTURER_KEY) -> bool:
    """Whether ``entered`` is the activation code of ``serial`` under ``key``."""
    expected = activation_code(serial, key)
    return hmac.compare_digest(normalize_code(entered).encode(), expected.encode())
