"""TELEMETRY payloads from inverter agents, schema version 1 (pure).

The agent's schema (``inverter_agent/readings.py``, ``docs/telemetry.md``): one compact JSON
object per frame, ``"k": "reading"`` or ``"k": "info"``::

    {"v":1,"k":"reading","sn":"SN-0042","unit":1,"ts":1768467600000,"st":"mppt",
     "w":5000.0,"wh":1234560.0,"dcw":5200.0, ...}
    {"v":1,"k":"info","sn":"SN-0042","unit":1,"ts":1768467600000,"mn":"Acme Solar",
     "md":"AS-6000-3","vr":"1.2.3","wrtg":6000.0, ...}

The gateway also takes a JSON array of such objects in one frame (a batch). It uses ``sn``,
``ts``, ``w``, ``wh``, ``dcw``, ``st`` of readings, their live details ``dcv``, ``dca``,
``tmp``, ``tmp_snk``, ``evt`` and ``mppt`` (``id``, ``dcw``, ``dcv``, ``dca`` of each input;
:class:`LiveValues`, an unreadable detail is left out) and ``mn``, ``md``, ``vr``, ``wrtg`` of
infos; other keys are ignored, as are objects of kinds it does not know. A payload that is not
version 1 JSON is refused as a whole (:class:`PayloadError`); a single bad item is skipped.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson

from cloud_gateway.errors import GatewayError
from cloud_gateway.plants.activation import normalise_serial

__all__ = [
    "MAX_PAYLOAD",
    "InfoIn",
    "LiveValues",
    "ParsedPayload",
    "PayloadError",
    "ReadingIn",
    "parse_payload",
]

MAX_PAYLOAD = 4 * 1024 * 1024
_MIN_MS = 946_684_800_000  # 2000-01-01
_MAX_MS = 4_102_444_800_000  # 2100-01-01


class PayloadError(GatewayError, ValueError):
    """The payload is not a version 1 telemetry payload."""


class LiveValues(NamedTuple):
    """A reading's details the inverter page shows (SunSpec models 101-103 and 160); a tuple,
    made for every reading (a frozen dataclass costs several times as much to build)."""

    dc_voltage_v: float | None = None
    dc_current_a: float | None = None
    temperature_cabinet_c: float | None = None
    temperature_heat_sink_c: float | None = None
    events: int | None = None
    """Event bits ``Evt1`` (bit n set: SunSpec event n)."""
    mppt: tuple[tuple[int | None, float | None, float | None, float | None], ...] = ()
    """Per DC input: (id, power W, voltage V, current A)."""

    def as_json(self) -> dict[str, Any]:
        """The stored (and served) form."""
        return {
            "dc_voltage_v": self.dc_voltage_v,
            "dc_current_a": self.dc_current_a,
            "temperature_cabinet_c": self.temperature_cabinet_c,
            "temperature_heat_sink_c": self.temperature_heat_sink_c,
            "events": self.events,
            "mppt": [
                {"id": i, "dc_power_w": w, "dc_voltage_v": v, "dc_current_a": a}
                for i, w, v, a in self.mppt
            ],
        }


_LIVE_KEYS = ("dcv", "dca", "tmp", "tmp_snk", "evt", "mppt")
_MAX_MPPT = 32


def _detail(body: dict[str, Any], key: str) -> float | None:
    """An optional detail: ``None`` when absent or unreadable (it never costs the reading)."""
    value = body.get(key)
    if value is None or (type(value) is float and value - value == 0.0):  # the usual cases
        return value
    try:
        return _number(body, key)
    except TypeError:
        return None


def _live(body: dict[str, Any]) -> LiveValues | None:
    if body.keys().isdisjoint(_LIVE_KEYS):
        return None
    evt = body.get("evt")
    inputs = body.get("mppt")
    mppt = []
    if isinstance(inputs, list):
        for item in inputs[:_MAX_MPPT]:
            if isinstance(item, dict):
                ident = item.get("id")
                mppt.append(
                    (
                        ident if type(ident) is int and 0 <= ident < 1 << 16 else None,
                        _detail(item, "dcw"),
                        _detail(item, "dcv"),
                        _detail(item, "dca"),
                    )
                )
    return LiveValues(
        dc_voltage_v=_detail(body, "dcv"),
        dc_current_a=_detail(body, "dca"),
        temperature_cabinet_c=_detail(body, "tmp"),
        temperature_heat_sink_c=_detail(body, "tmp_snk"),
        events=evt if type(evt) is int and 0 <= evt < 1 << 32 else None,
        mppt=tuple(mppt),
    )


class ReadingIn(NamedTuple):
    """One inverter reading, as the gateway stores it (a tuple: cheap to make by the million)."""

    serial: str
    at: datetime
    power_w: float | None
    energy_wh: float | None
    dc_power_w: float | None
    state: str | None
    live: LiveValues | None = None
    """Details for the inverter page; ``None`` when the reading carries none."""


@dataclass(frozen=True, slots=True)
class InfoIn:
    """What an agent discovered about an inverter (common model 1, nameplate model 120)."""

    serial: str
    manufacturer: str
    model: str
    version: str
    w_rating: int | None


@dataclass(frozen=True, slots=True)
class ParsedPayload:
    """The usable items of one payload, and how many items were skipped."""

    readings: list[ReadingIn]
    infos: list[InfoIn]
    skipped: int = 0


def _number(body: dict[str, Any], key: str) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if type(value) is float and value - value == 0.0:  # the usual case; inf and nan fail it
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(key)
    number = float(value)
    if not math.isfinite(number):
        raise TypeError(key)
    return number


def _text(body: dict[str, Any], key: str, limit: int) -> str:
    value = body.get(key)
    return value[:limit] if isinstance(value, str) else ""


def _reading(body: dict[str, Any]) -> ReadingIn:
    ts = body["ts"]
    if type(ts) is not int or not _MIN_MS <= ts < _MAX_MS:
        raise TypeError("ts")
    state = body.get("st")
    # The usual values inline (a finite float or absent); anything else through _number.
    w = body.get("w")
    if w is not None and (type(w) is not float or w - w != 0.0):
        w = _number(body, "w")
    wh = body.get("wh")
    if wh is not None and (type(wh) is not float or wh - wh != 0.0):
        wh = _number(body, "wh")
    dcw = body.get("dcw")
    if dcw is not None and (type(dcw) is not float or dcw - dcw != 0.0):
        dcw = _number(body, "dcw")
    return ReadingIn(
        _serial(body["sn"]),
        datetime.fromtimestamp(ts / 1000, UTC),
        w,
        wh,
        dcw,
        state[:16] if type(state) is str else None,
        _live(body),
    )


_SERIALS: dict[str, str] = {}
_SERIALS_MAX = 100_000


def _serial(raw: object) -> str:
    """:func:`normalise_serial`, remembered: an agent sends the same serials every cycle."""
    if not isinstance(raw, str):
        raise TypeError("sn")
    found = _SERIALS.get(raw)
    if found is None:
        found = normalise_serial(raw)
        if len(_SERIALS) >= _SERIALS_MAX:
            _SERIALS.clear()
        _SERIALS[raw] = found
    return found


def _info(body: dict[str, Any]) -> InfoIn:
    rating = _number(body, "wrtg")
    return InfoIn(
        serial=_serial(body["sn"]),
        manufacturer=_text(body, "mn", 64),
        model=_text(body, "md", 64),
        version=_text(body, "vr", 32),
        w_rating=round(rating) if rating is not None and 0 < rating < 1e9 else None,
    )


def parse_payload(payload: bytes) -> ParsedPayload:
    """The readings and infos in ``payload``."""
    if len(payload) > MAX_PAYLOAD:
        raise PayloadError(f"payload of {len(payload)} bytes is too large")
    try:
        body = orjson.loads(payload)  # ~3 x faster than json (ADR 0012)
    except orjson.JSONDecodeError:
        # What orjson refuses but json reads (NaN, Infinity, integers beyond 64 bits) is
        # decided item by item below, as before; the rest fails here too.
        try:
            body = json.loads(payload.decode("utf-8"))
        except (ValueError, RecursionError) as exc:
            raise PayloadError(f"payload is not JSON: {exc}") from None
    items = body if isinstance(body, list) else [body]
    readings: list[ReadingIn] = []
    infos: list[InfoIn] = []
    skipped = 0
    for item in items:
        if not isinstance(item, dict) or item.get("v") != 1:
            raise PayloadError("not a version 1 telemetry payload")
        kind = item.get("k")
        try:
            if kind == "reading":
                readings.append(_reading(item))
            elif kind == "info":
                infos.append(_info(item))
            else:
                skipped += 1
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
            skipped += 1
    return ParsedPayload(readings, infos, skipped)
