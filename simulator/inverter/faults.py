"""Fault specifications as text, for the command line: ``UNIT:KIND[=VALUE]`` (pure parsing).

==================  ======================================================
``3:offline``       unit 3 does not answer
``3:loss=25``       unit 3 produces 25 % less
``3:stuck``         unit 3's registers are frozen from the start
``3:unknown-type``  unit 3 has no nameplate model 120
``3:pending``       unit 3's nameplate is absent until a configuration reload
``3:pending=wrong``  unit 3 shows the factory nameplate until a reload
==================  ======================================================
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.inverter.bus import InverterBus
from simulator.inverter.device import PendingConfiguration

__all__ = ["FaultSpec", "apply_faults", "parse_fault"]

_KINDS = ("offline", "loss", "stuck", "unknown-type", "pending")


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """One fault for one unit."""

    unit_id: int
    kind: str
    value: str | None = None


def parse_fault(text: str) -> FaultSpec:
    """Parse ``UNIT:KIND[=VALUE]``; :class:`ValueError` with the reason if malformed."""
    unit_text, sep, rest = text.partition(":")
    if not sep or not unit_text.isdigit():
        raise ValueError(f"fault {text!r}: expected UNIT:KIND[=VALUE]")
    kind, _, value = rest.partition("=")
    if kind not in _KINDS:
        raise ValueError(f"fault {text!r}: kind must be one of {', '.join(_KINDS)}")
    if kind == "loss":
        try:
            percent = float(value)
        except ValueError:
            raise ValueError(f"fault {text!r}: loss needs a percentage, e.g. loss=25") from None
        if not 0 <= percent <= 100:
            raise ValueError(f"fault {text!r}: loss must be within 0..100")
    if kind == "pending" and value not in ("", "absent", "wrong"):
        raise ValueError(f"fault {text!r}: pending is absent or wrong")
    return FaultSpec(int(unit_text), kind, value or None)


def apply_faults(bus: InverterBus, faults: list[FaultSpec]) -> None:
    """Put each fault on its inverter; :class:`ValueError` for a unit not on the bus."""
    ordered = sorted(faults, key=lambda f: f.kind == "stuck")  # freeze after the others
    for fault in ordered:
        try:
            inverter = bus[fault.unit_id]
        except KeyError:
            raise ValueError(f"fault for unit {fault.unit_id}, which is not on the bus") from None
        if fault.kind == "offline":
            inverter.set_offline()
        elif fault.kind == "loss":
            inverter.set_output_loss(float(fault.value or 0))
        elif fault.kind == "stuck":
            inverter.freeze()
        elif fault.kind == "unknown-type":
            inverter.unknown_type = True
        else:
            inverter.pending_configuration = PendingConfiguration(fault.value or "absent")
