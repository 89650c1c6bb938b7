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

import json
from dataclasses import dataclass
from datetime import UTC, datetime
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
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def state_payload(state: InverterState) -> bytes:
    """The JSON body of a state message."""
    body = {
        "v": 1,
        "plant_id": state.plant_id,
        "inverter_id": state.inverter_id,
        "serial": state.serial,
        "at": _instant(state.at),
        "power_w": state.power_w,
        "dc_power_w": state.dc_power_w,
        "energy_total_wh": state.energy_total_wh,
        "energy_today_wh": state.energy_today_wh,
        "state": state.state,
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True, allow_nan=False).encode()
