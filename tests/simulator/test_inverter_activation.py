"""Activation codes: known answers, the documented formula, and lenient verification."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from simulator.inverter.activation import (
    DEMO_MANUFACTURER_KEY,
    activation_code,
    normalize_code,
    verify_activation_code,
)


@pytest.mark.parametrize(
    ("serial", "key", "code"),
    [
        ("SW2400000001", DEMO_MANUFACTURER_KEY, "PIF3U-G5QGJ"),
        ("HV209928224", DEMO_MANUFACTURER_KEY, "5ZUB3-EIHIJ"),
        ("np225926515", DEMO_MANUFACTURER_KEY, "M2EF5-ESQQI"),
        ("SW2400000001", b"another-key", "5X2JO-LP7KF"),
    ],
)
def test_known_answers(serial: str, key: bytes, code: str) -> None:
    assert activation_code(serial, key) == code


def test_matches_the_documented_formula() -> None:
    key = b"cloudconnector-demo-manufacturer-key-v1"
    assert key == DEMO_MANUFACTURER_KEY
    digest = hmac.new(key, b"sunspec-activation/v1:" + b"NP225926515", hashlib.sha256).digest()
    symbols = base64.b32encode(digest[:7]).decode()[:10]
    assert activation_code(" np225926515 ") == f"{symbols[:5]}-{symbols[5:]}"


def test_verification_accepts_how_people_type() -> None:
    assert verify_activation_code("NP225926515", "m2ef5 esqqi")
    assert verify_activation_code("NP225926515", "M2EF5ESQQ1")  # 1 read as I
    assert normalize_code("5zub3-eihij") == "5ZUB3-EIHIJ"
    assert not verify_activation_code("NP225926515", "M2EF5-ESQQJ")
    assert not verify_activation_code("NP225926515", "M2EF5-ESQQI", key=b"other")


def test_empty_serial_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        activation_code("  ")
