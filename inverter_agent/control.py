"""CONTROL messages from the gateway that the agent acts on; pure parsing.

A CONTROL frame carries one JSON object with a ``type`` (documented in docs/telemetry.md,
"Control")::

    {"type": "resend_configuration"}                          every inverter
    {"type": "resend_configuration", "serials": ["SN-0042"]}  only these (or "units": [1, 2])
    {"type": "config_update", "poll_interval_s": 5.0}         applied without a restart

Resending the configuration means discovering the inverter again (common model, nameplate,
model chain) and sending a fresh ``"k": "info"`` payload. Other types (``entitlement``,
``replaced``, ``disconnect``, …) are for other parts of the device and come back as ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

__all__ = [
    "MAX_POLL_INTERVAL_S",
    "MIN_POLL_INTERVAL_S",
    "ConfigUpdate",
    "ControlType",
    "ResendConfiguration",
    "parse_control",
]

T = TypeVar("T")

MIN_POLL_INTERVAL_S = 1.0
"""The shortest poll interval a config update may set."""
MAX_POLL_INTERVAL_S = 3600.0
"""The longest poll interval a config update may set."""


class ControlType(StrEnum):
    """The CONTROL types the agent understands."""

    RESEND_CONFIGURATION = "resend_configuration"
    CONFIG_UPDATE = "config_update"


@dataclass(frozen=True, slots=True, kw_only=True)
class ResendConfiguration:
    """Discover inverters again and send their info payloads."""

    serials: frozenset[str] | None = None
    """Only inverters with these serial numbers (``None``: no filter by serial)."""
    units: frozenset[int] | None = None
    """Only inverters with these unit ids (``None``: no filter by unit)."""

    def matches(self, unit: int, serial: str | None) -> bool:
        """Whether the inverter ``unit`` with ``serial`` (unknown: ``None``) is meant."""
        if self.units is not None and unit not in self.units:
            return False
        return self.serials is None or serial is None or serial in self.serials


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigUpdate:
    """Settings changed at the gateway."""

    poll_interval_s: float | None = None
    """New poll interval for every bus."""


def parse_control(body: Mapping[str, Any]) -> ResendConfiguration | ConfigUpdate | None:
    """What ``body`` asks of the agent; ``None`` for other types; ``ValueError`` if malformed."""
    kind = body.get("type")
    if kind == ControlType.RESEND_CONFIGURATION:
        return ResendConfiguration(
            serials=_set_of(body, "serials", str), units=_set_of(body, "units", int)
        )
    if kind == ControlType.CONFIG_UPDATE:
        interval = body.get("poll_interval_s")
        if interval is not None:
            if isinstance(interval, bool) or not isinstance(interval, int | float):
                raise ValueError("config_update.poll_interval_s must be a number")
            if not (
                math.isfinite(interval) and MIN_POLL_INTERVAL_S <= interval <= MAX_POLL_INTERVAL_S
            ):
                raise ValueError(
                    f"config_update.poll_interval_s must be within "
                    f"{MIN_POLL_INTERVAL_S:g}..{MAX_POLL_INTERVAL_S:g}"
                )
            interval = float(interval)
        return ConfigUpdate(poll_interval_s=interval)
    return None


def _set_of(body: Mapping[str, Any], key: str, kind: type[T]) -> frozenset[T] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(
        isinstance(v, kind) and not isinstance(v, bool) for v in value
    ):
        raise ValueError(f"resend_configuration.{key} must be a list of {kind.__name__}")
    return frozenset(value)
