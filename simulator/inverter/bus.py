"""Several simulated inverters behind one Modbus interface, addressed by unit id.

:meth:`InverterBus.generate` builds a deterministic fleet from a seed: the same seed gives
the same manufacturers, models, serials, ratings and lifetime counters on every machine.

How the bus answers (``transport`` is ``"tcp"`` or ``"rtu"``):

==================  ==============================  ==================================
unit id             RTU                             TCP
==================  ==============================  ==================================
a known inverter    its response                    its response
offline inverter    silence                         silence
unknown unit id     silence (nobody on the wire)    exception 0x0B (gateway target)
0 (broadcast)       writes executed, no answer      exception 0x0B
==================  ==============================  ==================================
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any, Literal

from simulator.inverter.activation import DEMO_MANUFACTURER_KEY, activation_code
from simulator.inverter.clock import Clock
from simulator.inverter.device import SimulatedInverter
from simulator.inverter.image import InverterModel
from simulator.inverter.modbus import ExceptionCode, exception_response, handle_request
from simulator.inverter.physics import ArrayDesign
from simulator.inverter.readings import Identity
from simulator.inverter.sun import Site

__all__ = ["InverterBus", "Transport"]

Transport = Literal["tcp", "rtu"]

_MAKERS = (
    ("Sonnwerk Energietechnik", "SW", "Sonnwerk TRI"),
    ("Helio Volt GmbH", "HV", "HelioVolt P3"),
    ("Nordlicht Power", "NP", "NL-Tri"),
)
_RATINGS = (5000, 8000, 10000, 12000, 15000, 20000)


def _generate_one(
    seed: int, unit: int, *, clock: Clock, site: Site, model: InverterModel
) -> SimulatedInverter:
    rng = random.Random(f"simulator.inverter:{seed}:{unit}")
    maker, prefix, family = rng.choice(_MAKERS)
    rating = rng.choice(_RATINGS)
    serial = f"{prefix}{rng.randint(20, 25)}{rng.randint(0, 9_999_999):07d}"
    identity = Identity(
        manufacturer=maker,
        model=f"{family} {rating // 1000}K",
        options="3P-2MPPT",
        version=f"{rng.randint(1, 4)}.{rng.randint(0, 20)}.{rng.randint(0, 99)}",
        serial=serial,
    )
    first = rng.uniform(0.5, 0.6)
    design = ArrayDesign(
        rated_power=rating,
        mppt_shares=(first, 1 - first),
        mppt_voltages=(rng.uniform(520, 640), rng.uniform(480, 600)),
        phase=rng.uniform(0, 6.28),
    )
    return SimulatedInverter(
        unit_id=unit,
        identity=identity,
        design=design,
        site=site,
        clock=clock,
        inverter_model=model,
        lifetime_wh=rng.randint(rating, rating * 1500),
    )


class InverterBus:
    """Inverters by unit id, and the Modbus dispatch in front of them."""

    def __init__(self, inverters: list[SimulatedInverter]) -> None:
        self._by_unit: dict[int, SimulatedInverter] = {}
        for inverter in inverters:
            if not 1 <= inverter.unit_id <= 247:
                raise ValueError(f"unit id {inverter.unit_id} outside 1..247")
            if inverter.unit_id in self._by_unit:
                raise ValueError(f"unit id {inverter.unit_id} used twice")
            self._by_unit[inverter.unit_id] = inverter

    @classmethod
    def generate(
        cls,
        count: int,
        *,
        seed: int,
        clock: Clock,
        model: InverterModel = InverterModel.INTEGER,
        site: Site | None = None,
    ) -> InverterBus:
        """``count`` inverters as unit ids 1..count, deterministic from ``seed``."""
        if not 1 <= count <= 247:
            raise ValueError(f"count must be within 1..247, not {count}")
        where = site or Site()
        return cls(
            [
                _generate_one(seed, unit, clock=clock, site=where, model=model)
                for unit in range(1, count + 1)
            ]
        )

    def __getitem__(self, unit_id: int) -> SimulatedInverter:
        return self._by_unit[unit_id]

    def __iter__(self) -> Iterator[SimulatedInverter]:
        return iter(sorted(self._by_unit.values(), key=lambda i: i.unit_id))

    def __len__(self) -> int:
        return len(self._by_unit)

    def describe(self, key: bytes = DEMO_MANUFACTURER_KEY) -> list[dict[str, Any]]:
        """Unit id, manufacturer, model, serial, rating and activation code of each inverter."""
        return [
            {
                "unit_id": inv.unit_id,
                "manufacturer": inv.identity.manufacturer,
                "model": inv.identity.model,
                "serial": inv.identity.serial,
                "rated_power_w": inv.design.rated_power,
                "activation_code": activation_code(inv.identity.serial, key),
            }
            for inv in self
        ]

    def handle(self, unit_id: int, pdu: bytes, transport: Transport) -> bytes | None:
        """The response PDU to ``pdu`` for ``unit_id``, or ``None`` for no answer at all."""
        if unit_id == 0 and transport == "rtu":
            for listener in self:
                if not listener.offline:
                    handle_request(listener, pdu)
            return None
        inverter = self._by_unit.get(unit_id)
        if inverter is None:
            if transport == "rtu" or not pdu:
                return None
            return exception_response(pdu[0], ExceptionCode.GATEWAY_TARGET_FAILED)
        if inverter.offline or not pdu:
            return None
        return handle_request(inverter, pdu)
