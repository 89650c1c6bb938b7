"""Telemetry payloads: built from decoded models, encoded compactly, decoded back."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from inverter_agent.readings import (
    InverterInfo,
    MpptValues,
    Reading,
    build_info,
    build_reading,
    decode_payload,
    encode_payload,
)
from inverter_agent.sunspec import (
    decode_common,
    decode_inverter,
    decode_mppt,
    decode_nameplate,
    decode_status,
    parse_chain,
)
from tests.inverter_agent.sunspec import images
from tests.inverter_agent.sunspec.images import data

AT = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


def test_reading_from_literal_image_and_its_wire_form() -> None:
    reading = build_reading(
        unit=1,
        common=decode_common(data(images.COMMON)),
        inverter=decode_inverter(103, data(images.INVERTER_103)),
        status=decode_status(data(images.STATUS_122)),
        mppt=decode_mppt(data(images.MPPT_160)),
        at=AT,
    )
    assert reading.sn == "SN-0042"
    assert reading.ts == 1_768_467_600_000
    assert reading.mppt[1] == MpptValues(id=2, label="PV2", dcw=2598.0, dcv=319.0, st="sleeping")
    body = json.loads(encode_payload(reading))
    assert body == {
        "v": 1,
        "k": "reading",
        "sn": "SN-0042",
        "unit": 1,
        "ts": 1768467600000,
        "st": "mppt",
        "w": 5000.0,
        "wh": 1234560.0,
        "va": 5100.0,
        "var": -150.0,
        "hz": 50.02,
        "a": 12.34,
        "phv": [230.1, 230.9, None],
        "dcw": 5200.0,
        "dcv": 650.2,
        "tmp": 45.2,
        "tmp_snk": -50.0,
        "evt": 129,
        "mppt": [
            {"id": 1, "label": "PV1", "dcw": 2602.0, "dcv": 320.5, "dca": 8.12, "dcwh": 12345.0,
             "st": "mppt"},
            {"id": 2, "label": "PV2", "dcw": 2598.0, "dcv": 319.0, "st": "sleeping"},
        ],
    }  # fmt: skip
    assert b" " not in encode_payload(reading).replace(b"SN-0042", b"")
    assert decode_payload(encode_payload(reading)) == reading


def test_energy_falls_back_to_status_model() -> None:
    regs = data(images.INVERTER_103)
    regs[22:24] = [0, 0]  # WH not implemented
    reading = build_reading(
        unit=1,
        common=decode_common(data(images.COMMON)),
        inverter=decode_inverter(101, regs),
        status=decode_status(data(images.STATUS_122)),
        at=AT,
    )
    assert reading.wh == 123456.0
    assert reading.phv == (230.1,)


def test_info_payload_and_serial_fallback() -> None:
    common = decode_common([0] * 66)
    info = build_info(
        unit=7,
        common=common,
        layout=parse_chain(images.IMAGE, base=images.BASE),
        nameplate=decode_nameplate(data(images.NAMEPLATE_120)),
        at=AT,
    )
    assert info == InverterInfo(
        sn="unit-7", unit=7, ts=1_768_467_600_000, wrtg=6000.0, models=(1, 103, 120, 126, 122, 160)
    )
    assert decode_payload(encode_payload(info)) == info


@pytest.mark.parametrize(
    "raw",
    [b'{"v":2,"k":"reading"}', b'{"v":1,"k":"other"}', b'{"v":1,"k":"reading","unit":1}', b"[1]"],
)
def test_bad_payloads(raw: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        decode_payload(raw)


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        build_reading(
            unit=1,
            common=decode_common(data(images.COMMON)),
            inverter=decode_inverter(103, data(images.INVERTER_103)),
            at=datetime(2026, 1, 15, 9, 0),
        )


def test_minimal_reading_round_trip() -> None:
    reading = Reading(sn="x", unit=1, ts=0)
    assert encode_payload(reading) == b'{"v":1,"k":"reading","sn":"x","unit":1,"ts":0}'
    assert decode_payload(encode_payload(reading)) == reading


def test_unknown_keys_are_ignored() -> None:
    raw = b'{"v":1,"k":"reading","sn":"x","unit":1,"ts":0,"new":1,"mppt":[{"id":1,"z":2}]}'
    assert decode_payload(raw) == Reading(sn="x", unit=1, ts=0, mppt=(MpptValues(id=1),))
