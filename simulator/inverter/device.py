"""One simulated SunSpec inverter: its state over time, its faults, its registers.

Time comes from the injected :class:`~simulator.inverter.clock.Clock`. Every read brings the
energy counters up to the clock's instant (trapezoids of at most one minute), so counters
only ever grow, whatever the reads' rhythm; a clock moved backwards changes nothing.

Faults (methods, so the moment they start is well defined):

* :meth:`SimulatedInverter.set_offline` - the inverter does not answer at all;
* :meth:`SimulatedInverter.set_output_loss` - it produces ``percent`` % less than it could;
* :meth:`SimulatedInverter.freeze` / :meth:`~SimulatedInverter.unfreeze` - the register
  image stays as it was at the freeze (the counters keep counting behind it);
* ``unknown_type=True`` - the chain carries no nameplate model 120;
* ``pending_configuration`` - until the configuration is loaded again, the nameplate is
  absent (:attr:`PendingConfiguration.ABSENT`) or shows the factory defaults of the
  platform, 3000 W (:attr:`PendingConfiguration.WRONG`). Loading it again is either a call
  of :meth:`SimulatedInverter.reload_configuration` or a Modbus write of ``1`` to holding
  register 41000 (:data:`~simulator.inverter.image.CONFIG_RELOAD_ADDRESS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from simulator.inverter.clock import Clock
from simulator.inverter.image import (
    CONFIG_RELOAD_ADDRESS,
    SUNSPEC_BASE,
    InverterModel,
    build_image,
)
from simulator.inverter.modbus import ExceptionCode, ModbusError
from simulator.inverter.physics import ArrayDesign, Operating, operating_point
from simulator.inverter.readings import (
    Identity,
    MpptReading,
    Nameplate,
    OperatingState,
    Readings,
)
from simulator.inverter.sun import Site

__all__ = ["FACTORY_NAMEPLATE", "PendingConfiguration", "SimulatedInverter"]

_EPOCH_2000 = datetime(2000, 1, 1, tzinfo=UTC)
_STEP = timedelta(minutes=1)

#: what a not yet configured inverter of this platform claims on its nameplate
FACTORY_NAMEPLATE = Nameplate(
    w_rating=3000, va_rating=3000, var_rating=1800, a_rating=4.8, pf_min=0.8
)


class PendingConfiguration(StrEnum):
    """How a nameplate looks before the configuration is loaded again."""

    ABSENT = "absent"
    WRONG = "wrong"


@dataclass(slots=True)
class _Counters:
    at: datetime
    ac_wh: float
    mppt_wh: list[float]
    ac_w: float
    mppt_w: tuple[float, ...]


def nameplate_for(rated_power: int) -> Nameplate:
    """The true nameplate of a three-phase inverter rated ``rated_power`` W."""
    return Nameplate(
        w_rating=rated_power,
        va_rating=rated_power,
        var_rating=round(0.6 * rated_power),
        a_rating=round(rated_power / (3 * 230) * 1.1, 1),
        pf_min=0.8,
    )


class SimulatedInverter:
    """A three-phase PV inverter with two MPPT inputs, answering as one Modbus unit."""

    def __init__(
        self,
        *,
        unit_id: int,
        identity: Identity,
        design: ArrayDesign,
        site: Site,
        clock: Clock,
        inverter_model: InverterModel = InverterModel.INTEGER,
        lifetime_wh: int = 0,
        unknown_type: bool = False,
        pending_configuration: PendingConfiguration | None = None,
    ) -> None:
        self.unit_id = unit_id
        self.identity = identity
        self.design = design
        self.site = site
        self.inverter_model = inverter_model
        self.unknown_type = unknown_type
        self.pending_configuration = pending_configuration
        self.offline = False
        self.output_loss_percent = 0.0
        self.events = 0
        """SunSpec ``Evt1`` bits the inverter reports (:meth:`set_event`)."""
        self.reload_count = 0
        self._clock = clock
        self._frozen: list[int] | None = None
        now = clock.now()
        first = self._operate(now)
        shares = design.mppt_shares
        self._counters = _Counters(
            now,
            float(lifetime_wh),
            [lifetime_wh / 0.97 * share for share in shares],
            first.ac_power,
            first.mppt_power,
        )

    # --- faults -------------------------------------------------------------------------

    def set_offline(self, offline: bool = True) -> None:
        """Stop (or resume) answering on the bus."""
        self.offline = offline

    def set_event(self, bit: int, active: bool = True) -> None:
        """Raise (or clear) SunSpec event ``bit`` of ``Evt1`` (7: over-temperature, ...)."""
        if not 0 <= bit < 31:  # the top bit would read as "not implemented"
            raise ValueError(f"Evt1 has bits 0..30, not {bit}")
        self.events = self.events | 1 << bit if active else self.events & ~(1 << bit)

    def set_output_loss(self, percent: float) -> None:
        """Produce ``percent`` % less than the sun allows (0 to heal)."""
        if not 0 <= percent <= 100:
            raise ValueError(f"output loss must be within 0..100 %, not {percent}")
        self._advance(self._clock.now())
        self.output_loss_percent = percent

    def freeze(self) -> None:
        """Keep the registers as they are now until :meth:`unfreeze`."""
        self._frozen = self._live_image()

    def unfreeze(self) -> None:
        """Let the registers follow the inverter again."""
        self._frozen = None

    @property
    def frozen(self) -> bool:
        """Whether the registers are stuck."""
        return self._frozen is not None

    def reload_configuration(self) -> None:
        """Load the configuration again: the true nameplate appears."""
        self.pending_configuration = None
        self.reload_count += 1

    # --- state --------------------------------------------------------------------------

    @property
    def nameplate(self) -> Nameplate | None:
        """The nameplate model as published now (``None``: no model 120 in the chain)."""
        if self.unknown_type or self.pending_configuration is PendingConfiguration.ABSENT:
            return None
        if self.pending_configuration is PendingConfiguration.WRONG:
            return FACTORY_NAMEPLATE
        return nameplate_for(self.design.rated_power)

    def _operate(self, instant: datetime) -> Operating:
        factor = 1 - self.output_loss_percent / 100
        return operating_point(self.site, self.design, instant, output_factor=factor)

    def _advance(self, now: datetime) -> Operating:
        c = self._counters
        while c.at < now:
            step_end = min(now, c.at + _STEP)
            hours = (step_end - c.at).total_seconds() / 3600
            point = self._operate(step_end)
            c.ac_wh += (c.ac_w + point.ac_power) / 2 * hours
            for i, power in enumerate(point.mppt_power):
                c.mppt_wh[i] += (c.mppt_w[i] + power) / 2 * hours
            c.at, c.ac_w, c.mppt_w = step_end, point.ac_power, point.mppt_power
        return self._operate(max(now, c.at))

    def readings(self) -> Readings:
        """The measured values at the clock's current instant."""
        now = self._clock.now()
        point = self._advance(now)
        state = OperatingState.MPPT if point.awake else OperatingState.SLEEPING
        phase_current = tuple(point.ac_power / 3 / v for v in point.phase_voltage)
        va, vb, vc = point.phase_voltage
        root3 = 3**0.5
        mppts = tuple(
            MpptReading(
                current=p / v if v else 0.0,
                voltage=v,
                power=p,
                energy_wh=int(wh),
                temperature=point.cell_temperature,
                state=state,
            )
            for p, v, wh in zip(
                point.mppt_power, point.mppt_voltage, self._counters.mppt_wh, strict=True
            )
        )
        load = point.ac_power / self.design.rated_power
        return Readings(
            timestamp=int((now - _EPOCH_2000).total_seconds()),
            ac_power=point.ac_power,
            phase_currents=(phase_current[0], phase_current[1], phase_current[2]),
            phase_voltages=point.phase_voltage,
            line_voltages=(
                (va + vb) / 2 * root3,
                (vb + vc) / 2 * root3,
                (vc + va) / 2 * root3,
            ),
            frequency=point.frequency,
            energy_wh=int(self._counters.ac_wh),
            cabinet_temperature=point.ambient + 5 + 12 * load,
            heatsink_temperature=point.ambient + 5 + 30 * load,
            state=state,
            mppts=mppts,
            events=self.events,
        )

    def _live_image(self) -> list[int]:
        return build_image(
            identity=self.identity,
            nameplate=self.nameplate,
            readings=self.readings(),
            inverter_model=self.inverter_model,
            device_address=self.unit_id,
            rated_power=self.design.rated_power,
        )

    def image(self) -> list[int]:
        """The register image from 40000 as a client would read it now."""
        if self._frozen is not None:
            self._advance(self._clock.now())
            return list(self._frozen)
        return self._live_image()

    # --- Modbus -------------------------------------------------------------------------

    def read_registers(self, address: int, count: int) -> list[int]:
        """Registers of the SunSpec map or the vendor register (exception 2 elsewhere)."""
        if address == CONFIG_RELOAD_ADDRESS and count == 1:
            return [0]
        image = self.image()
        start = address - SUNSPEC_BASE
        if start < 0 or start + count > len(image):
            raise ModbusError(ExceptionCode.ILLEGAL_DATA_ADDRESS, f"{address}+{count}")
        return image[start : start + count]

    def write_registers(self, address: int, values: list[int]) -> None:
        """Only the vendor register 41000 is writable, and only with the value 1."""
        if address != CONFIG_RELOAD_ADDRESS or len(values) != 1:
            raise ModbusError(ExceptionCode.ILLEGAL_DATA_ADDRESS, f"{address} is read-only")
        if values[0] != 1:
            raise ModbusError(ExceptionCode.ILLEGAL_DATA_VALUE, "write 1 to reload")
        self.reload_configuration()
