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

__all__ = [
    "TOPIC_VERSION",
    "InverterState",
    "StateMessages",
    "inverter_state_topic",
    "state_payload",
]

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


_INSTANT = "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ"


def _instant(at: datetime) -> str:
    """ISO 8601 UTC with milliseconds (as ``isoformat(timespec="milliseconds")``, twice as fast)."""
    if at.tzinfo is not UTC:
        at = at.astimezone(UTC)
    return _INSTANT % (
        at.year,
        at.month,
        at.day,
        at.hour,
        at.minute,
        at.second,
        at.microsecond // 1000,
    )


def _number(value: float | None) -> str:
    """A number as ``json.dumps`` writes it (``allow_nan=False``), or ``null``."""
    if type(value) is float and value - value == 0.0:  # the usual case; inf and nan fail it
        return float.__repr__(value)
    if value is None:
        return "null"
    if type(value) is int:
        return int.__repr__(value)
    if not math.isfinite(value):
        raise ValueError(f"out of range float values are not JSON compliant: {value!r}")
    return float.__repr__(float(value))


_PAYLOAD = (
    '{"at":"%s","dc_power_w":%s,"energy_today_wh":%s,"energy_total_wh":%s,%s'
    '"power_w":%s,%s"state":%s,"v":1}'
)
"""The body with the parts fixed per inverter (ids, serial) as one ``%s`` each, keys sorted."""


def _fixed_parts(inverter_id: int, plant_id: int, serial: str) -> tuple[str, str]:
    return (
        f'"inverter_id":{int(inverter_id)},"plant_id":{int(plant_id)},',
        f'"serial":{_string(serial)},',
    )


def _text(value: str | None) -> str:
    return "null" if value is None else _string(value)


def state_payload(state: InverterState) -> bytes:
    """The JSON body of a state message (what ``json.dumps(..., sort_keys=True)`` gives)."""
    ids, serial = _fixed_parts(state.inverter_id, state.plant_id, state.serial)
    return (
        _PAYLOAD
        % (
            _instant(state.at),
            _number(state.dc_power_w),
            _number(state.energy_today_wh),
            _number(state.energy_total_wh),
            ids,
            _number(state.power_w),
            serial,
            _text(state.state),
        )
    ).encode()


class StateMessages:
    """Topics and bodies of state messages for many inverters, again and again.

    The same bytes as :func:`inverter_state_topic` and :func:`state_payload`; what is fixed per
    inverter (topic, ids, serial) is prepared once and kept for up to ``max_inverters``.
    """

    __slots__ = ("_fixed", "_max", "_prefix", "_states")

    def __init__(self, prefix: str, *, max_inverters: int = 100_000) -> None:
        self._prefix = prefix
        self._max = max_inverters
        self._fixed: dict[tuple[int, int, str], tuple[str, str, str]] = {}
        self._states: dict[str | None, str] = {None: "null"}

    def message(
        self,
        *,
        plant_id: int,
        inverter_id: int,
        serial: str,
        at: datetime,
        power_w: float | None,
        dc_power_w: float | None,
        energy_total_wh: float | None,
        energy_today_wh: float | None,
        state: str | None,
    ) -> tuple[str, bytes]:
        """(topic, body) of one inverter's state."""
        key = (plant_id, inverter_id, serial)
        fixed = self._fixed.get(key)
        if fixed is None:
            if len(self._fixed) >= self._max:
                self._fixed.clear()
            ids, quoted = _fixed_parts(inverter_id, plant_id, serial)
            topic = inverter_state_topic(self._prefix, plant_id, serial)
            fixed = self._fixed[key] = (topic, ids, quoted)
        text = self._states.get(state)
        if text is None:
            text = _text(state)
            if len(self._states) < 64:  # a handful of operating states in practice
                self._states[state] = text
        body = _PAYLOAD % (
            _instant(at),
            _number(dc_power_w),
            _number(energy_today_wh),
            _number(energy_total_wh),
            fixed[1],
            _number(power_w),
            fixed[2],
            text,
        )
        return fixed[0], body.encode()
