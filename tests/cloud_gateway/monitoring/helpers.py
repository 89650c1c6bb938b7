"""A simulated plant for the alert tests: the simulator's inverters, minute by minute.

The simulator's SunSpec inverters (``simulator.inverter.device``) produce from their own sun
model and take the faults the issue names: offline (no answer), output loss (derated or
shaded). The harness plays the gateway's shell: each minute it reads every inverter that
answers, keeps the lifetime energy counters, derives window and day energy, and runs one
alert round with the plant's real sun-up intervals and pvlib forecast.
"""

from __future__ import annotations

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
from cloud_gateway.monitoring.energy import CounterReading, day_energy, window_energy
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
PLANT_ID = 3


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """An aware UTC instant from a Berlin wall-clock time."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


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
        self.history: dict[int, list[CounterReading]] = {unit: [] for unit in self.devices}
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
                self.history[unit].append(CounterReading(now, float(device.readings().energy_wh)))

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
                    last_reading_at=self.history[unit][-1].at if self.history[unit] else self.start,
                    window_wh=window_energy(
                        self.history[unit], now - self.settings.below_best_window
                    ),
                    day_wh=day_energy(self.history[unit], midnight, watched_since=self.start),
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
