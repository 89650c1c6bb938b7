"""MQTT topics and payloads of the fan-out, version 1 (pure). Documented in docs/mqtt-topics.md.

::

    <prefix>/v1/plants/<plant_id>/inverters/<serial>/state

``<serial>`` is percent-encoded where it holds ``/``, ``+``, ``#``, ``%`` or white space, so a
serial is always exactly one topic level. The payload is compact UTF-8 JSON (keys sorted)::

    {"at":"2026-01-15T09:00:00Z","dc_power_w":5200.0,"energy_today_wh":1234.0,
     "energy_total_wh":1234560.0,"inverter_id":7,"plant_id":3,"power_w":5000.0,
     "serial":"SN-0042","state":"mppt","v":1}
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii as _string
from urllib.parse import quote

__all__ = ["TOPIC_VERSION", "InverterState", "inverter_state_topic", "state_payload"]

TOPIC_VERSION = "v1"


@dataclass(frozen=True, slots=True, kw_only=True)
class InverterState:
    """The newest reading of one inverter after a commit."""

    plant_id: int
    inverter_id: int
    serial: str
    at: datetime
    power_w: float | None
    dc_power_w: float | None
    energy_total_wh: float | None
    energy_today_wh: float | None
    state: str | None


def inverter_state_topic(prefix: str, plant_id: int, serial: str) -> str:
    """The topic an inverter's state is published to."""
    level = quote(serial, safe="-_.~:@!$&'()*,;=")
    return f"{prefix.rstrip('/')}/{TOPIC_VERSION}/plants/{plant_id}/inverters/{level}/state"


def _instant(at: datetime) -> str:
    if at.tzinfo is not UTC:
        at = at.astimezone(UTC)
    return at.isoformat(timespec="milliseconds")[:-6] + "Z"  # "+00:00" -> "Z"


def _number(value: float | None) -> str:
    """A number as ``json.dumps`` writes it (``allow_nan=False``), or ``null``."""
    if value is None:
        return "null"
    if type(value) is int:
        return int.__repr__(value)
    if not math.isfinite(value):
        raise ValueError(f"out of range float values are not JSON compliant: {value!r}")
    return float.__repr__(float(value))


def state_payload(state: InverterState) -> bytes:
    """The JSON body of a state message (what ``json.dumps(..., sort_keys=True)`` gives)."""
    text = state.state
    return (
        f'{{"at":"{_instant(state.at)}","dc_power_w":{_number(state.dc_power_w)},'
        f'"energy_today_wh":{_number(state.energy_today_wh)},'
        f'"energy_total_wh":{_number(state.energy_total_wh)},'
        f'"inverter_id":{int(state.inverter_id)},"plant_id":{int(state.plant_id)},'
        f'"power_w":{_number(state.power_w)},"serial":{_string(state.serial)},'
        f'"state":{"null" if text is None else _string(text)},"v":1}}'
    ).encode()
