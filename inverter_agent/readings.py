"""The telemetry payloads the agent sends, schema version 1; pure. Documented in docs/telemetry.md.

Two kinds of payload, both compact JSON objects (UTF-8, no spaces, keys omitted when the device
does not implement the value)::

    {"v":1,"k":"reading","sn":"SN-0042","unit":1,"ts":1768467600000,"st":"mppt",
     "w":5000.0,"wh":1234560.0,"hz":50.02,"dcw":5200.0,"mppt":[{"id":1,"dcw":2602.0}]}
    {"v":1,"k":"info","sn":"SN-0042","unit":1,"ts":1768467600000,"mn":"Acme Solar",
     "md":"AS-6000-3","vr":"1.2.3","wrtg":6000.0,"models":[1,103,120,122,160]}

The outbox sequence number is not part of the payload: it travels in the TELEMETRY frame.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from inverter_agent.sunspec import CommonModel, InverterReading, ModelLayout, Mppt, Nameplate
from inverter_agent.sunspec import Status as StatusModel

__all__ = [
    "SCHEMA_VERSION",
    "InverterInfo",
    "MpptValues",
    "Reading",
    "build_info",
    "build_reading",
    "decode_payload",
    "encode_payload",
]

SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class MpptValues:
    """One DC input in a reading."""

    id: int | None
    """Input id (model 160 ``ID``)."""
    label: str | None = None
    """Input name (``IDStr``)."""
    dcw: float | None = None
    """DC power, W."""
    dcv: float | None = None
    """DC voltage, V."""
    dca: float | None = None
    """DC current, A."""
    dcwh: float | None = None
    """Lifetime DC energy, Wh."""
    st: str | None = None
    """Operating state, lower case (``mppt``, ``sleeping`` …)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Reading:
    """One poll of one inverter (``"k": "reading"``)."""

    sn: str
    """Inverter serial number (common model ``SN``; ``unit-<id>`` when the device has none)."""
    unit: int
    """Modbus unit id."""
    ts: int
    """When it was read: milliseconds since 1970-01-01 UTC."""
    st: str | None = None
    """Operating state, lower case (``off``, ``sleeping``, ``starting``, ``mppt`` …)."""
    w: float | None = None
    """AC active power, W."""
    wh: float | None = None
    """Lifetime AC energy, Wh."""
    va: float | None = None
    """Apparent power, VA."""
    var: float | None = None
    """Reactive power, var."""
    pf: float | None = None
    """Power factor, percent."""
    hz: float | None = None
    """Line frequency, Hz."""
    a: float | None = None
    """Total AC current, A."""
    phv: tuple[float | None, ...] | None = None
    """Phase-to-neutral voltages A, B, C in V (``null`` inside for missing phases)."""
    dcw: float | None = None
    """DC power, W."""
    dcv: float | None = None
    """DC voltage, V."""
    dca: float | None = None
    """DC current, A."""
    tmp: float | None = None
    """Cabinet temperature, °C."""
    tmp_snk: float | None = None
    """Heat-sink temperature, °C."""
    evt: int | None = None
    """Event bits ``Evt1``."""
    mppt: tuple[MpptValues, ...] = ()
    """DC inputs (model 160)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class InverterInfo:
    """What an inverter is (``"k": "info"``), sent after discovery."""

    sn: str
    """Inverter serial number, as in :class:`Reading`."""
    unit: int
    """Modbus unit id."""
    ts: int
    """When it was discovered: milliseconds since 1970-01-01 UTC."""
    mn: str | None = None
    """Manufacturer."""
    md: str | None = None
    """Model name."""
    vr: str | None = None
    """Firmware version."""
    wrtg: float | None = None
    """Nominal power (nameplate ``WRtg``), W."""
    models: tuple[int, ...] = ()
    """SunSpec model ids in map order."""


def epoch_ms(instant: datetime) -> int:
    """Milliseconds since the epoch of an aware instant."""
    if instant.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return int((instant - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() * 1000)


def serial_of(common: CommonModel, unit: int) -> str:
    """The inverter's serial number, or ``unit-<id>`` for a device that reports none."""
    return common.serial or f"unit-{unit}"


def build_reading(
    *,
    unit: int,
    common: CommonModel,
    inverter: InverterReading,
    at: datetime,
    status: StatusModel | None = None,
    mppt: Mppt | None = None,
) -> Reading:
    """A reading from the decoded models; energy falls back to model 122 ``ActWh``."""
    wh = inverter.wh
    if wh is None and status is not None and status.act_wh is not None:
        wh = float(status.act_wh)
    phv = inverter.v_ph[: inverter.phases]
    return Reading(
        sn=serial_of(common, unit),
        unit=unit,
        ts=epoch_ms(at),
        st=inverter.state.name.lower() if inverter.state is not None else None,
        w=inverter.w,
        wh=wh,
        va=inverter.va,
        var=inverter.var,
        pf=inverter.pf,
        hz=inverter.hz,
        a=inverter.a,
        phv=phv if any(v is not None for v in phv) else None,
        dcw=inverter.dc_w,
        dcv=inverter.dc_v,
        dca=inverter.dc_a,
        tmp=inverter.tmp_cab,
        tmp_snk=inverter.tmp_snk,
        evt=inverter.events,
        mppt=tuple(
            MpptValues(
                id=m.input_id,
                label=m.label,
                dcw=m.dc_w,
                dcv=m.dc_v,
                dca=m.dc_a,
                dcwh=m.dc_wh,
                st=m.state.name.lower() if m.state is not None else None,
            )
            for m in (mppt.modules if mppt is not None else ())
        ),
    )


def build_info(
    *,
    unit: int,
    common: CommonModel,
    layout: ModelLayout,
    at: datetime,
    nameplate: Nameplate | None = None,
) -> InverterInfo:
    """The info payload of a discovered inverter."""
    return InverterInfo(
        sn=serial_of(common, unit),
        unit=unit,
        ts=epoch_ms(at),
        mn=common.manufacturer,
        md=common.model,
        vr=common.version,
        wrtg=nameplate.w_rtg if nameplate is not None else None,
        models=layout.model_ids,
    )


def encode_payload(payload: Reading | InverterInfo) -> bytes:
    """Compact JSON, ``None`` values left out."""
    kind = "reading" if isinstance(payload, Reading) else "info"
    body: dict[str, Any] = {"v": SCHEMA_VERSION, "k": kind}
    for name in payload.__dataclass_fields__:
        value = getattr(payload, name)
        if name == "mppt":
            value = [_compact(m) for m in value] or None
        if value is not None and value != ():
            body[name] = list(value) if isinstance(value, tuple) else value
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def decode_payload(data: bytes) -> Reading | InverterInfo:
    """Parse a payload, ignoring unknown keys; :class:`ValueError` when it is not version 1."""
    body = json.loads(data)
    if not isinstance(body, dict) or body.pop("v", None) != SCHEMA_VERSION:
        raise ValueError("not a version 1 telemetry payload")
    kind = body.pop("k", None)
    try:
        if kind == "reading":
            body = _known(Reading, body)
            body["mppt"] = tuple(MpptValues(**_known(MpptValues, m)) for m in body.get("mppt", ()))
            if "phv" in body:
                body["phv"] = tuple(body["phv"])
            return Reading(**body)
        if kind == "info":
            body = _known(InverterInfo, body)
            body["models"] = tuple(body.get("models", ()))
            return InverterInfo(**body)
    except TypeError as exc:
        raise ValueError(f"bad {kind} payload: {exc}") from exc
    raise ValueError(f"unknown payload kind {kind!r}")


def _known(cls: type[Any], body: dict[str, Any]) -> dict[str, Any]:
    """``body`` without the keys ``cls`` does not know (later additions to the schema)."""
    return {k: v for k, v in body.items() if k in cls.__dataclass_fields__}


def _compact(values: MpptValues) -> dict[str, Any]:
    return {
        name: getattr(values, name)
        for name in values.__dataclass_fields__
        if getattr(values, name) is not None
    }
