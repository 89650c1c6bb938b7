"""JSON payloads of the control-plane frames: strict parsing and validation, pure.

Every function raises :class:`~tunnel.errors.ProtocolError` on bad input and nothing
else: JSON syntax errors, invalid UTF-8, non-finite numbers, absurd nesting, wrong
types and out-of-range values all become ``ProtocolError``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, Final, NoReturn

from tunnel.errors import ProtocolError
from tunnel.frame_types import (
    MAX_U32,
    Hello,
    OpenFailReason,
    RefusalReason,
    Refuse,
    Welcome,
)

__all__ = [
    "MAX_JSON",
    "decode_hello",
    "decode_open",
    "decode_open_fail",
    "decode_refuse",
    "decode_welcome",
    "dump_json",
    "load_json_object",
    "utf8",
]

MAX_JSON: Final = 64 * 1024
"""Largest JSON payload accepted in a control-plane frame."""
MAX_TEXT: Final = 1024
"""Longest string field (versions, targets, reasons, ids)."""
MAX_LIST: Final = 64
"""Most entries in a list field (versions, capabilities)."""
MAX_RETRY_AFTER: Final = 7 * 24 * 3600.0
"""Longest retry-after a REFUSE may ask for (one week)."""


def dump_json(obj: Mapping[str, Any]) -> bytes:
    """Compact, key-sorted UTF-8 JSON: the same object always gives the same bytes."""
    return json.dumps(obj, separators=(",", ":"), sort_keys=True, allow_nan=False).encode()


def _no_constant(name: str) -> NoReturn:
    raise ProtocolError(f"non-finite number {name} in JSON payload")


def load_json_object(payload: bytes, what: str) -> dict[str, Any]:
    """Parse ``payload`` as one JSON object."""
    if len(payload) > MAX_JSON:
        raise ProtocolError(f"{what} JSON payload of {len(payload)} bytes is too large")
    try:
        obj = json.loads(utf8(payload, what), parse_constant=_no_constant)
    except RecursionError:
        raise ProtocolError(f"{what} JSON payload is nested too deeply") from None
    except ValueError as exc:
        if isinstance(exc, ProtocolError):
            raise
        raise ProtocolError(f"{what} payload is not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise ProtocolError(f"{what} payload must be a JSON object")
    return obj


def utf8(payload: bytes, what: str) -> str:
    """Decode UTF-8 text or raise ``ProtocolError``."""
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError(f"{what} payload is not valid UTF-8") from None


def _text(obj: dict[str, Any], key: str, what: str, *, default: str | None = None) -> str:
    value = obj.get(key, default)
    if not isinstance(value, str):
        raise ProtocolError(f"{what}.{key} must be a string")
    if len(value) > MAX_TEXT:
        raise ProtocolError(f"{what}.{key} is too long")
    return value


def _int(obj: dict[str, Any], key: str, what: str, low: int, high: int) -> int:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ProtocolError(f"{what}.{key} must be an integer in {low}..{high}")
    return value


def _number(obj: dict[str, Any], key: str, what: str, low: float, high: float) -> float:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProtocolError(f"{what}.{key} must be a number")
    number = float(value)
    if not math.isfinite(number) or not low <= number <= high:
        raise ProtocolError(f"{what}.{key} must be within {low:g}..{high:g}")
    return number


def _texts(obj: dict[str, Any], key: str, what: str) -> tuple[str, ...]:
    value = obj.get(key, [])
    if not isinstance(value, list) or len(value) > MAX_LIST:
        raise ProtocolError(f"{what}.{key} must be a list of at most {MAX_LIST} strings")
    if not all(isinstance(v, str) and len(v) <= MAX_TEXT for v in value):
        raise ProtocolError(f"{what}.{key} must hold short strings")
    return tuple(value)


def decode_hello(obj: dict[str, Any]) -> Hello:
    raw = obj.get("versions")
    if not isinstance(raw, list) or not raw or len(raw) > MAX_LIST:
        raise ProtocolError("HELLO.versions must be a non-empty list")
    versions: list[int] = []
    for v in raw:
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 0xFFFF:
            raise ProtocolError("HELLO.versions must hold integers in 1..65535")
        versions.append(v)
    return Hello(
        versions=tuple(versions),
        capabilities=_texts(obj, "capabilities", "HELLO"),
        software=_text(obj, "software", "HELLO", default=""),
        device_kind=_text(obj, "device_kind", "HELLO"),
    )


def decode_welcome(obj: dict[str, Any]) -> Welcome:
    return Welcome(
        version=_int(obj, "version", "WELCOME", 1, 0xFFFF),
        capabilities=_texts(obj, "capabilities", "WELCOME"),
        heartbeat=_number(obj, "heartbeat", "WELCOME", 0.001, 3600.0),
        session_id=_text(obj, "session_id", "WELCOME"),
        reconnect_window=_number(obj, "reconnect_window", "WELCOME", 0.0, MAX_RETRY_AFTER)
        if "reconnect_window" in obj
        else None,
    )


def decode_refuse(obj: dict[str, Any]) -> Refuse:
    reason = _text(obj, "reason", "REFUSE")
    try:
        parsed = RefusalReason(reason)
    except ValueError:
        raise ProtocolError(f"REFUSE.reason {reason!r} is unknown") from None
    return Refuse(
        reason=parsed,
        retry_after=_number(obj, "retry_after", "REFUSE", 0.0, MAX_RETRY_AFTER),
        detail=_text(obj, "detail", "REFUSE", default=""),
    )


def decode_open(obj: dict[str, Any]) -> tuple[str, int]:
    target = _text(obj, "target", "OPEN")
    return target, _int(obj, "window", "OPEN", 0, MAX_U32)


def decode_open_fail(obj: dict[str, Any]) -> tuple[OpenFailReason, str]:
    reason = _text(obj, "reason", "OPEN_FAIL")
    try:
        parsed = OpenFailReason(reason)
    except ValueError:
        # A newer device may know more reasons: keep the text, file it under ERROR.
        return OpenFailReason.ERROR, f"{reason}: {_text(obj, 'detail', 'OPEN_FAIL', default='')}"
    return parsed, _text(obj, "detail", "OPEN_FAIL", default="")
