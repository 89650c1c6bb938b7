"""Activation codes printed on inverters: the gateway's check, and its guessing limit (pure).

The scheme (``docs/activation-codes.md``, scheme v1) derives the code from the serial under the
manufacturer's secret key::

    serial'  = serial, surrounding white space removed, upper-cased, UTF-8
    digest   = HMAC-SHA256(manufacturer key, b"sunspec-activation/v1:" + serial')
    code     = the first 50 bits of digest as 10 RFC 4648 base32 symbols (A-Z, 2-7),
               most significant first, written XXXXX-XXXXX

What a person types is normalised first: white space and hyphens dropped, upper-cased, and the
look-alikes 0 → O, 1 → I, 8 → B mapped (none of them is in the alphabet). The comparison is
constant-time. This module is written from that description, independent of the simulator that
prints the labels; a test checks the two agree.

Guessing is bounded per account and per source address: :class:`GuessLimit` allows
``max_failures`` wrong codes per account and ``max_failures_per_source`` per source address (by
any account) in a sliding ``window``; past either, every attempt is refused until the oldest
counted failure leaves the window. There is deliberately no global limit: it would let a few
attackers lock every owner out (as for pairing codes).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = [
    "CODE_PATTERN_LENGTH",
    "GuessLimit",
    "expected_code",
    "normalise_code",
    "normalise_serial",
    "verify_code",
]

CODE_PATTERN_LENGTH = 10
_DOMAIN = b"sunspec-activation/v1:"
_LOOKALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})
_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
MAX_SERIAL = 32


def normalise_serial(serial: str) -> str:
    """The canonical serial: trimmed and upper-cased; ``ValueError`` when empty or too long."""
    cleaned = serial.strip().upper()
    if not cleaned:
        raise ValueError("serial number is empty")
    if len(cleaned) > MAX_SERIAL or not cleaned.isprintable():
        raise ValueError("serial number is too long or contains control characters")
    return cleaned


def expected_code(serial: str, key: bytes) -> str:
    """The code ``XXXXX-XXXXX`` printed on the inverter ``serial``."""
    message = _DOMAIN + normalise_serial(serial).encode("utf-8")
    digest = hmac.new(key, message, hashlib.sha256).digest()
    # The first 50 bits are the first 10 symbols of the base32 text of the digest.
    symbols = base64.b32encode(digest).decode("ascii")[:CODE_PATTERN_LENGTH]
    return f"{symbols[:5]}-{symbols[5:]}"


def normalise_code(entered: str) -> str | None:
    """A typed code in canonical form, or ``None`` when it cannot be a code at all."""
    compact = "".join(entered.split()).replace("-", "").upper().translate(_LOOKALIKES)
    if len(compact) != CODE_PATTERN_LENGTH or not set(compact) <= _ALPHABET:
        return None
    return f"{compact[:5]}-{compact[5:]}"


def verify_code(serial: str, entered: str, key: bytes) -> bool:
    """Whether ``entered`` is the activation code of ``serial`` under ``key``."""
    code = normalise_code(entered)
    expected = expected_code(serial, key)
    return code is not None and hmac.compare_digest(code.encode(), expected.encode())


@dataclass(frozen=True, slots=True, kw_only=True)
class GuessLimit:
    """At most ``max_failures`` wrong codes per account and ``max_failures_per_source`` per
    source address within ``window``."""

    max_failures: int = 5
    """Wrong codes one account may enter in the window (from any address)."""
    max_failures_per_source: int = 20
    """Wrong codes one source address may enter in the window (by any account). Higher than
    the account's: several owners may share an address (an installer's office, carrier NAT),
    but one address cannot multiply its guesses by opening accounts."""
    window: timedelta = timedelta(minutes=15)
    """Length of the sliding window."""

    def retry_after(
        self, failures: Sequence[datetime], now: datetime, by_source: Sequence[datetime] = ()
    ) -> float:
        """Seconds until the next attempt is allowed (0 when allowed now).

        ``failures`` are the instants of this account's wrong codes, ``by_source`` those typed
        from this source address (any order).
        """
        return max(
            self._wait(failures, self.max_failures, now),
            self._wait(by_source, self.max_failures_per_source, now),
        )

    def _wait(self, failures: Sequence[datetime], allowed: int, now: datetime) -> float:
        recent = sorted(t for t in failures if t > now - self.window)
        if len(recent) < allowed:
            return 0.0
        frees_at = recent[len(recent) - allowed] + self.window
        return max(0.0, (frees_at - now).total_seconds())
