"""Control messages and the drain's spread (pure)."""

from __future__ import annotations

from cloud_gateway.fleet.control import ControlKind, ControlMessage, decode, encode
from cloud_gateway.fleet.drain import spread_retry_after
from cloud_gateway.fleet.link import lease_key, plain_dsn


def test_messages_round_trip_and_garbage_is_none() -> None:
    message = ControlMessage(ControlKind.REPLACED, 42, "node-a", "abc")
    assert decode(encode(message)) == message
    plain = ControlMessage(ControlKind.REVOKED, 7, "node-b")
    assert encode(plain) == '{"k":"revoked","d":7,"n":"node-b"}'
    assert decode(encode(plain)) == plain
    told = ControlMessage(ControlKind.DISCONNECT, 7, "node-b", detail="Wartung " + "x" * 600)
    assert decode(encode(told)) == ControlMessage(
        ControlKind.DISCONNECT, 7, "node-b", detail=("Wartung " + "x" * 600)[:500]
    )
    body: dict[str, object] = {"type": "resend_configuration", "serials": ["SN-1"]}
    control = ControlMessage(ControlKind.CONTROL, 9, "node-a", control=body)
    assert encode(control) == (
        '{"k":"control","d":9,"n":"node-a","c":{"type":"resend_configuration","serials":["SN-1"]}}'
    )
    assert decode(encode(control)) == control
    assert decode('{"k":"control","d":9,"n":"x","c":[1]}') is None
    assert decode("not json") is None
    assert decode("[1]") is None
    assert decode('{"k":"explode","d":1,"n":"x"}') is None
    assert decode('{"k":"revoked","n":"x"}') is None


def test_drain_spreads_devices_evenly_over_the_window() -> None:
    values = [spread_retry_after(i, 5, 10.0) for i in range(5)]
    assert values == [1.0, 3.5, 6.0, 8.5, 11.0]
    assert spread_retry_after(0, 1, 10.0) == 1.0


def test_lease_keys_are_stable_signed_64_bit_and_distinct() -> None:
    names = ["entitlement-scheduler", "billing-scheduler", "alert-scheduler"]
    keys = [lease_key(n) for n in names]
    assert len(set(keys)) == 3
    assert all(-(2**63) <= k < 2**63 for k in keys)
    assert lease_key("billing-scheduler") == keys[1]
    assert (
        plain_dsn("postgresql+asyncpg://u:p%40ss@db:5432/cc") == "postgresql://u:p%40ss@db:5432/cc"
    )
