"""CONTROL parsing (pure)."""

from __future__ import annotations

import pytest

from inverter_agent.control import ConfigUpdate, ResendConfiguration, parse_control


def test_resend_configuration() -> None:
    everything = parse_control({"type": "resend_configuration"})
    assert everything == ResendConfiguration()
    assert everything.matches(1, "SN-1")
    assert everything.matches(2, None)
    some = parse_control({"type": "resend_configuration", "serials": ["SN-1"], "units": [1, 2]})
    assert isinstance(some, ResendConfiguration)
    assert some.matches(1, "SN-1")
    assert not some.matches(1, "SN-2")
    assert not some.matches(3, "SN-1")
    assert some.matches(2, None)  # not yet discovered: rediscover to find out


def test_config_update() -> None:
    assert parse_control({"type": "config_update", "poll_interval_s": 5}) == ConfigUpdate(
        poll_interval_s=5.0
    )
    assert parse_control({"type": "config_update"}) == ConfigUpdate()


@pytest.mark.parametrize(
    "body",
    [
        {"type": "config_update", "poll_interval_s": 0.5},
        {"type": "config_update", "poll_interval_s": True},
        {"type": "config_update", "poll_interval_s": float("nan")},
        {"type": "resend_configuration", "units": [True]},
        {"type": "resend_configuration", "serials": "SN-1"},
    ],
)
def test_malformed(body: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=str(body["type"])):
        parse_control(body)


def test_other_types_are_not_for_the_agent() -> None:
    assert parse_control({"type": "entitlement", "entitled": True}) is None
    assert parse_control({}) is None
