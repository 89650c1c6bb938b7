"""A simulated plant for the alert tests: the simulator's inverters, minute by minute.

The simulator's SunSpec inverters (``simulator.inverter.device``) produce from their own sun
model and take the faults the issue names: offline (no answer), output loss (derated or
shaded). The harness plays the gateway's shell: each minute it reads every inverter that
answers, keeps the lifetime energy counters, derives window and day energy, and runs one
alert round with the plant's real sun-up intervals and pvlib forecast.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from cloud_gateway.monitoring.alert_rules import (
    AlertSettings,
    InverterRound,
    PlantRound,
    evaluate_round,
)
from cloud_gateway.monitoring.alert_state import AlertEvent, AlertKey, OpenAlert
from cloud_gateway.monitoring.daylight import Daylight
from cloud_gateway.monitoring.forecast import (
    BERLIN,
    PlantGenerators,
    daylight,
    generators_for,
    plant_day,
)
from cloud_gateway.plants.model import Inverter, PlantFields
from simulator.inverter.device import SimulatedInverter
from simulator.inverter.physics import ArrayDesign
from simulator.inverter.readings import Identity
from simulator.inverter.sun import Site as SimSite
from tunnel.clock import ManualClock

LAT, LON, TILT, AZIMUTH = 52.52, 13.405, 30, 180
RATED_W = 5000
_GAP = timedelta(minutes=2)
PLANT_ID = 3


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """An aware UTC instant from a Berlin wall-clock time."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


def _at(row: tuple[datetime, float]) -> datetime:
    return row[0]


def _inverter(clock: ManualClock, unit: int) -> SimulatedInverter:
    return SimulatedInverter(
        unit_id=unit,
        identity=Identity(
            manufacturer="Sonnwerk",
            model="SW 5K",
            options="3P-2MPPT",
            version="1.0.0",
            serial=f"SW24{unit:07d}",
        ),
        design=ArrayDesign(rated_power=RATED_W),
        site=SimSite(latitude=LAT, longitude=LON, tilt=TILT, azimuth=AZIMUTH),
        clock=clock,
        lifetime_wh=1_000_000 * unit,
    )


@dataclass
class SimulatedPlant:
    """Three 5 kW inverters (5.5 kWp each, as the simulator oversizes by 10 %) in Berlin."""

    start: datetime
    settings: AlertSettings
    licensed: bool = True
    muted: bool = False
    alerts: dict[AlertKey, OpenAlert] = field(default_factory=dict)
    events: list[AlertEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.clock = ManualClock(self.start)
        self.devices = {unit: _inverter(self.clock, unit) for unit in (1, 2, 3)}
        fields = PlantFields(
            name="Scheune",
            latitude=LAT,
            longitude=LON,
            tilt_deg=TILT,
            azimuth_deg=AZIMUTH,
            module_area_m2=3 * 5.5 / 0.2,  # 16.5 kWp at the forecast's 20 % efficiency
        )
        inverters = [
            Inverter(
                id=unit,
                plant_id=PLANT_ID,
                serial=d.identity.serial,
                name=f"WR {unit}",
                activated_at=self.start,
                nominal_power_w=RATED_W,
            )
            for unit, d in self.devices.items()
        ]
        self.generators: PlantGenerators = generators_for(fields, inverters)
        first = self.start.astimezone(BERLIN).date() - timedelta(days=1)
        self.daylight: Daylight = daylight(self.generators.site, first, first + timedelta(days=6))
        self.history: dict[int, list[tuple[datetime, float]]] = {unit: [] for unit in self.devices}
        self._forecast: dict[date, dict[int, float]] = {}
        self.read()

    def _forecast_wh(self, day: date) -> dict[int, float]:
        if day not in self._forecast:
            result = plant_day(self.generators, day)
            self._forecast[day] = {inv: f.energy_wh for inv, f in result.inverters.items()}
        return self._forecast[day]

    def read(self) -> None:
        """Read every inverter that answers (the agent's poll), as the store would keep it."""
        now = self.clock.now()
        for unit, device in self.devices.items():
            if not device.offline:
                self.history[unit].append((now, float(device.readings().energy_wh)))

    def _energy_since(self, unit: int, since: datetime) -> float | None:
        """Counter now minus the counter read at ``since``; ``None`` when readings don't cover
        that span (silent since, or a gap at its start: the counter jump after an outage
        holds energy from before ``since``)."""
        rows = self.history[unit]
        first_inside = bisect_left(rows, since, key=_at)
        if first_inside == len(rows):
            return None
        base = rows[first_inside - 1] if first_inside else rows[first_inside]
        if base[0] < since - _GAP or rows[first_inside][0] > since + _GAP:
            return None
        return rows[-1][1] - base[1]

    def _day_energy(self, unit: int, midnight: datetime) -> float | None:
        """Counter now minus the day's first counter (as the telemetry store defines it);
        ``None`` on the day the plant started being watched after midnight."""
        if self.start > midnight:
            return None
        rows = self.history[unit]
        first = bisect_left(rows, midnight, key=_at)
        return rows[-1][1] - rows[first][1] if first < len(rows) else 0.0

    def round_input(self) -> PlantRound:
        now = self.clock.now()
        today = now.astimezone(BERLIN).date()
        midnight = local(today, 0)
        forecast = self._forecast_wh(today)
        return PlantRound(
            plant_id=PLANT_ID,
            licensed=self.licensed,
            muted=self.muted,
            daylight=self.daylight,
            settings=self.settings,
            inverters=[
                InverterRound(
                    inverter_id=unit,
                    kwp=self.generators.inverters[unit].kwp,
                    last_reading_at=self.history[unit][-1][0] if self.history[unit] else self.start,
                    window_wh=self._energy_since(unit, now - self.settings.below_best_window),
                    day_wh=self._day_energy(unit, midnight),
                    forecast_day_wh=forecast[unit],
                )
                for unit in self.devices
            ],
        )

    def tick(self, minutes: int = 1) -> list[AlertEvent]:
        """Advance minute by minute, reading and evaluating each minute; the new events."""
        new: list[AlertEvent] = []
        for _ in range(minutes):
            self.clock.advance(timedelta(minutes=1))
            self.read()
            result = evaluate_round(self.alerts, [self.round_input()], self.clock.now())
            self.alerts = result.alerts
            new.extend(result.events)
        self.events.extend(new)
        return new

    def run_until(self, instant: datetime) -> list[AlertEvent]:
        minutes = int((instant - self.clock.now()).total_seconds() // 60)
        return self.tick(minutes)
