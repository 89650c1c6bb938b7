"""Activation codes: the gateway's check agrees with the labels the simulator prints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cloud_gateway.plants.activation import (
    GuessLimit,
    expected_code,
    normalise_code,
    normalise_serial,
    verify_code,
)
from simulator.inverter.activation import DEMO_MANUFACTURER_KEY, activation_code

KEY = DEMO_MANUFACTURER_KEY


@pytest.mark.parametrize("serial", ["SN-0042", " ae-3tl-17 ", "X" * 32, "Ä1"])
def test_codes_match_the_printed_labels(serial: str) -> None:
    assert expected_code(serial, KEY) == activation_code(serial, KEY)


def test_literal_code_of_a_known_serial() -> None:
    assert expected_code("SN-0042", KEY) == "VW5HX-FK2FZ"


def test_typed_codes_are_normalised_before_comparing() -> None:
    assert verify_code("sn-0042", "vw5hx fk2fz", KEY)
    assert verify_code("SN-0042", "VW5HXFK2FZ", KEY)
    # look-alikes: none of 0, 1, 8 is in the alphabet; O, I, B are
    assert normalise_code("0I8AA-22222") == "OIBAA-22222"
    assert normalise_code("too-short") is None
    assert normalise_code("ABCDE-FGHI!") is None


def test_wrong_code_other_key_other_serial_are_refused() -> None:
    assert not verify_code("SN-0042", "AAAAA-AAAAA", KEY)
    assert not verify_code("SN-0043", "VW5HX-FK2FZ", KEY)
    assert not verify_code("SN-0042", "VW5HX-FK2FZ", b"another manufacturer key")
    assert not verify_code("SN-0042", "", KEY)


def test_serials_are_trimmed_upper_cased_and_bounded() -> None:
    assert normalise_serial("  sn-1 ") == "SN-1"
    for bad in ("", "   ", "x" * 33, "a\nb"):
        with pytest.raises(ValueError, match="serial number"):
            normalise_serial(bad)


def test_guess_limit_slides_over_the_window() -> None:
    limit = GuessLimit(max_failures=3, window=timedelta(minutes=15))
    t0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    fails = [t0, t0 + timedelta(minutes=1), t0 + timedelta(minutes=2)]
    assert limit.retry_after(fails[:2], t0 + timedelta(minutes=3)) == 0.0
    assert limit.retry_after(fails, t0 + timedelta(minutes=3)) == 12 * 60
    assert limit.retry_after(fails, t0 + timedelta(minutes=15, seconds=1)) == 0.0


def test_guess_limit_counts_the_source_address_apart_from_the_account() -> None:
    limit = GuessLimit(max_failures=3, max_failures_per_source=4, window=timedelta(minutes=15))
    t0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    by_source = [t0 + timedelta(minutes=m) for m in range(4)]  # several accounts, one address
    now = t0 + timedelta(minutes=5)
    assert limit.retry_after([], now, by_source[:3]) == 0.0
    assert limit.retry_after([], now, by_source) == 10 * 60  # until the first one leaves
    by_account = by_source[1:]  # the last three
    assert limit.retry_after(by_account, now, []) == 11 * 60  # the account's own limit
    assert limit.retry_after(by_account[:1], now, by_source) == 10 * 60
    assert limit.retry_after(by_account, now, by_source) == 11 * 60  # the later of the two
    assert limit.retry_after([], t0 + timedelta(minutes=15, seconds=1), by_source) == 0.0
