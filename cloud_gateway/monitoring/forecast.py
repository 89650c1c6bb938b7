"""Expected AC power and day energy of a plant and its inverters under a clear sky (pvlib).

The model chain, step by step (docs/monitoring.md explains each choice):

1. sun position: NREL SPA (``pvlib.solarposition``, numpy); site altitude from pvlib's
   bundled elevation map (the plant form has no altitude field);
2. clear-sky irradiance: Ineichen-Perez, Linke turbidity from pvlib's bundled monthly
   climatology (SoDa, Remund et al. 2003) at the site, interpolated to the day of the year;
3. transposition to the module plane (tilt, azimuth): Hay-Davies, ground albedo 0.25;
4. cell temperature: Faiman (u0 25, u1 6.84) at an assumed ambient 20 °C and wind 1 m/s;
5. DC power: PVWatts with the plant's power temperature coefficient (-0.4 %/K when missing);
   the generator's STC power from the module area at 20 % module efficiency, else the
   inverters' nominal power (DC/AC ratio 1);
6. AC power: PVWatts inverter, nominal efficiency 96 %, clipped at each inverter's nominal
   power; the plant curve is the sum of its inverters' curves;
7. weather hook: an optional factor per instant (0..1) on the plane-of-array irradiance,
   none by default (clear sky); a cloud forecast plugs in here later.

Instants and dates go in, tuples of plain dataclasses come out; pandas and numpy stay inside.
They and pvlib (about 0.7 s to import, with scipy) are imported by the functions that compute,
not with this module, which every gateway process and CLI command imports.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from cloud_gateway.monitoring.daylight import Daylight, SunUp
from cloud_gateway.monitoring.errors import ForecastUnavailableError
from cloud_gateway.plants.model import Inverter, PlantFields

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from numpy.typing import NDArray

__all__ = [
    "BERLIN",
    "DEFAULT_ASSUMPTIONS",
    "DayForecast",
    "ForecastAssumptions",
    "ForecastPoint",
    "Generator",
    "PlantDayForecast",
    "PlantGenerators",
    "Site",
    "WeatherFactor",
    "daylight",
    "expected_day",
    "expected_power",
    "generators_for",
    "plant_day",
]

_LOGGER = logging.getLogger(__name__)

BERLIN = ZoneInfo("Europe/Berlin")
"""The local time of the product's plants: days for day energy are local dates (ADR 0003)."""

WeatherFactor = Callable[[Sequence[datetime]], Sequence[float]]
"""Factor 0..1 per instant on the clear-sky plane-of-array irradiance (a cloud forecast)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ForecastAssumptions:
    """What the model assumes where the plant's data says nothing."""

    module_efficiency: float = 0.20
    """STC efficiency of the modules: generator power = area x efficiency x 1000 W/m²."""
    temp_coefficient_pct_per_k: float = -0.4
    """Power temperature coefficient when the owner entered none, %/K."""
    ambient_c: float = 20.0
    """Ambient air temperature for the cell temperature, °C."""
    wind_m_s: float = 1.0
    """Wind speed for the cell temperature, m/s."""
    albedo: float = 0.25
    """Ground reflectance for the transposition."""
    inverter_efficiency: float = 0.96
    """PVWatts nominal inverter efficiency."""
    step: timedelta = timedelta(minutes=5)
    """Spacing of a day curve; day energy is the trapezoid sum over it."""


DEFAULT_ASSUMPTIONS = ForecastAssumptions()


@dataclass(frozen=True, slots=True, kw_only=True)
class Site:
    """Where the modules are and how they face."""

    latitude: float
    """Degrees north."""
    longitude: float
    """Degrees east."""
    tilt_deg: float
    """Module tilt from horizontal."""
    azimuth_deg: float
    """Module orientation: 0 north, 90 east, 180 south, 270 west."""
    temp_coefficient_pct_per_k: float
    """Power temperature coefficient, %/K."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Generator:
    """The modules behind one inverter (or a whole plant)."""

    dc_power_w: float
    """STC power of the modules, W (W peak)."""
    ac_limit_w: float | None
    """Nominal AC power of the inverter(s), W; ``None`` when unknown (no clipping below DC)."""

    @property
    def kwp(self) -> float:
        """Installed power in kWp (the alerts normalise per kWp)."""
        return self.dc_power_w / 1000.0


@dataclass(frozen=True, slots=True, kw_only=True)
class PlantGenerators:
    """A plant's site, its whole generator and each inverter's share of it."""

    site: Site
    plant: Generator
    inverters: Mapping[int, Generator] = field(default_factory=dict)
    """Inverter id -> its generator; empty when the plant has no inverter yet."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ForecastPoint:
    """Expected AC power at one instant."""

    at: datetime
    """Aware UTC instant."""
    power_w: float


@dataclass(frozen=True, slots=True, kw_only=True)
class DayForecast:
    """Expected AC power curve over one local day and its energy."""

    day: date
    points: tuple[ForecastPoint, ...]
    energy_wh: float


@dataclass(frozen=True, slots=True, kw_only=True)
class PlantDayForecast:
    """A plant's day forecast and each inverter's."""

    plant: DayForecast
    inverters: Mapping[int, DayForecast]


def generators_for(
    fields: PlantFields,
    inverters: Sequence[Inverter] = (),
    assumptions: ForecastAssumptions = DEFAULT_ASSUMPTIONS,
) -> PlantGenerators:
    """The plant's site and generators; :class:`ForecastUnavailableError` names missing fields.

    Each inverter gets a share of the generator power in proportion to its nominal power;
    an inverter of unknown power counts as the mean of the known ones (equal shares when none
    is known).
    """
    lat, lon, tilt, azimuth = (
        fields.latitude,
        fields.longitude,
        fields.tilt_deg,
        fields.azimuth_deg,
    )
    known = [inv.nominal_power_w for inv in inverters if inv.nominal_power_w]
    missing = [
        name
        for name, value in (
            ("latitude", lat),
            ("longitude", lon),
            ("tilt_deg", tilt),
            ("azimuth_deg", azimuth),
            ("module_area_m2", fields.module_area_m2 if not known else 0.0),
        )
        if value is None
    ]
    if lat is None or lon is None or tilt is None or azimuth is None or missing:
        raise ForecastUnavailableError(missing)
    site = Site(
        latitude=lat,
        longitude=lon,
        tilt_deg=float(tilt),
        azimuth_deg=float(azimuth),
        temp_coefficient_pct_per_k=(
            assumptions.temp_coefficient_pct_per_k
            if fields.temp_coefficient is None
            else fields.temp_coefficient
        ),
    )
    mean_known = sum(known) / len(known) if known else 1.0
    weights = {inv.id: float(inv.nominal_power_w or mean_known) for inv in inverters}
    if fields.module_area_m2 is not None:
        dc_total = fields.module_area_m2 * assumptions.module_efficiency * 1000.0
    else:
        dc_total = sum(weights.values())
    weight_sum = sum(weights.values())
    shares = {
        inv.id: Generator(
            dc_power_w=dc_total * weights[inv.id] / weight_sum,
            ac_limit_w=float(inv.nominal_power_w) if inv.nominal_power_w else None,
        )
        for inv in inverters
    }
    limits = [g.ac_limit_w for g in shares.values()]
    plant_limit = sum(x for x in limits if x is not None) if limits and None not in limits else None
    return PlantGenerators(
        site=site,
        plant=Generator(dc_power_w=dc_total, ac_limit_w=plant_limit),
        inverters=shares,
    )


def _index(instants: Sequence[datetime]) -> pd.DatetimeIndex:
    import pandas as pd  # noqa: PLC0415 - lazy: pvlib, pandas

    for instant in instants:
        if instant.tzinfo is None:
            raise ValueError("forecast instants must be timezone-aware")
    return pd.DatetimeIndex([pd.Timestamp(i).tz_convert("UTC") for i in instants])


def _dc_per_watt_peak(
    site: Site,
    times: pd.DatetimeIndex,
    assumptions: ForecastAssumptions,
    weather: WeatherFactor | None,
) -> NDArray[np.float64]:
    """DC watts per W peak at each instant (clear sky, or scaled by the weather hook)."""
    import numpy as np  # noqa: PLC0415 - lazy: pvlib, pandas
    from pvlib import clearsky, irradiance, location, pvsystem, temperature  # noqa: PLC0415

    where = location.Location(site.latitude, site.longitude, tz="UTC")
    sun = where.get_solarposition(times)
    turbidity = clearsky.lookup_linke_turbidity(times, site.latitude, site.longitude)
    sky = where.get_clearsky(times, model="ineichen", solar_position=sun, linke_turbidity=turbidity)
    poa = irradiance.get_total_irradiance(
        surface_tilt=site.tilt_deg,
        surface_azimuth=site.azimuth_deg,
        solar_zenith=sun["apparent_zenith"],
        solar_azimuth=sun["azimuth"],
        dni=sky["dni"],
        ghi=sky["ghi"],
        dhi=sky["dhi"],
        dni_extra=irradiance.get_extra_radiation(times),
        albedo=assumptions.albedo,
        model="haydavies",
    )["poa_global"].fillna(0.0)
    if weather is not None:
        factors = np.clip(np.asarray(weather(list(times.to_pydatetime())), dtype=float), 0, 1)
        poa = poa * factors
    cell = temperature.faiman(poa, assumptions.ambient_c, assumptions.wind_m_s)
    dc = pvsystem.pvwatts_dc(poa, cell, 1.0, site.temp_coefficient_pct_per_k / 100.0)
    up = (sun["apparent_elevation"] > 0).to_numpy()
    return np.where(up, np.clip(np.asarray(dc, dtype=float), 0.0, None), 0.0)


def _ac(
    dc_per_wp: NDArray[np.float64], generator: Generator, assumptions: ForecastAssumptions
) -> NDArray[np.float64]:
    import numpy as np  # noqa: PLC0415 - lazy: pvlib, pandas
    from pvlib import inverter  # noqa: PLC0415 - lazy: pvlib, pandas

    dc = dc_per_wp * generator.dc_power_w
    eta = assumptions.inverter_efficiency
    rating = generator.ac_limit_w / eta if generator.ac_limit_w else generator.dc_power_w
    if rating <= 0:
        return np.zeros_like(dc)
    ac: NDArray[np.float64] = np.asarray(inverter.pvwatts(dc, rating, eta_inv_nom=eta), dtype=float)
    return np.clip(np.nan_to_num(ac), 0.0, None)


def _points(times: pd.DatetimeIndex, power: NDArray[np.float64]) -> tuple[ForecastPoint, ...]:
    return tuple(
        ForecastPoint(at=at.to_pydatetime(), power_w=float(p))
        for at, p in zip(times, power, strict=True)
    )


def expected_power(
    site: Site,
    generator: Generator,
    instants: Sequence[datetime],
    *,
    assumptions: ForecastAssumptions = DEFAULT_ASSUMPTIONS,
    weather: WeatherFactor | None = None,
) -> tuple[ForecastPoint, ...]:
    """Expected AC power at each of ``instants`` (aware); zero while the sun is down."""
    if not instants:
        return ()
    times = _index(instants)
    return _points(
        times, _ac(_dc_per_watt_peak(site, times, assumptions, weather), generator, assumptions)
    )


def _day_index(day: date, tz: ZoneInfo, step: timedelta) -> pd.DatetimeIndex:
    import pandas as pd  # noqa: PLC0415 - lazy: pvlib, pandas

    start = pd.Timestamp(datetime(day.year, day.month, day.day, tzinfo=tz))
    end = pd.Timestamp(datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz))
    return pd.date_range(start, end, freq=step).tz_convert("UTC")


def _day(day: date, times: pd.DatetimeIndex, power: NDArray[np.float64]) -> DayForecast:
    import numpy as np  # noqa: PLC0415 - lazy: pvlib, pandas

    seconds = np.diff((times - times[0]).total_seconds().to_numpy())
    energy_wh = float(np.sum((power[1:] + power[:-1]) / 2.0 * seconds) / 3600.0)
    return DayForecast(day=day, points=_points(times, power), energy_wh=energy_wh)


def expected_day(
    site: Site,
    generator: Generator,
    day: date,
    *,
    tz: ZoneInfo = BERLIN,
    assumptions: ForecastAssumptions = DEFAULT_ASSUMPTIONS,
    weather: WeatherFactor | None = None,
) -> DayForecast:
    """The expected AC curve from local midnight to the next, and its energy in Wh."""
    times = _day_index(day, tz, assumptions.step)
    dc = _dc_per_watt_peak(site, times, assumptions, weather)
    return _day(day, times, _ac(dc, generator, assumptions))


def plant_day(
    generators: PlantGenerators,
    day: date,
    *,
    tz: ZoneInfo = BERLIN,
    assumptions: ForecastAssumptions = DEFAULT_ASSUMPTIONS,
    weather: WeatherFactor | None = None,
) -> PlantDayForecast:
    """One local day for the plant and each inverter; the irradiance chain runs once."""
    import numpy as np  # noqa: PLC0415 - lazy: pvlib, pandas

    times = _day_index(day, tz, assumptions.step)
    dc = _dc_per_watt_peak(generators.site, times, assumptions, weather)
    curves = {inv: _ac(dc, gen, assumptions) for inv, gen in generators.inverters.items()}
    total = sum(curves.values()) if curves else _ac(dc, generators.plant, assumptions)
    return PlantDayForecast(
        plant=_day(day, times, np.asarray(total, dtype=float)),
        inverters={inv: _day(day, times, curve) for inv, curve in curves.items()},
    )


def daylight(site: Site, first: date, last: date, *, tz: ZoneInfo = BERLIN) -> Daylight:
    """Sun-up intervals for the local days ``first``..``last`` (SPA, standard refraction).

    A polar day counts as up from local midnight to midnight, a polar night not at all.
    """
    import pandas as pd  # noqa: PLC0415 - lazy: pvlib, pandas
    from pvlib import location  # noqa: PLC0415 - lazy: pvlib, pandas

    days = pd.date_range(pd.Timestamp(first), pd.Timestamp(last), freq="D").tz_localize(tz)
    where = location.Location(site.latitude, site.longitude, tz="UTC")
    table = where.get_sun_rise_set_transit(days, method="spa")
    noon_elevation = where.get_solarposition(pd.DatetimeIndex(table["transit"]))["elevation"]
    intervals: list[SunUp] = []
    for (midnight, row), elevation in zip(table.iterrows(), noon_elevation, strict=True):
        if pd.isna(row["sunrise"]) or pd.isna(row["sunset"]):
            if elevation > 0:
                start = midnight.to_pydatetime().astimezone(UTC)
                end = (midnight + pd.Timedelta(days=1)).to_pydatetime().astimezone(UTC)
                intervals.append(SunUp(start=start, end=end))
            continue
        intervals.append(
            SunUp(
                start=row["sunrise"].round("s").to_pydatetime().astimezone(UTC),
                end=row["sunset"].round("s").to_pydatetime().astimezone(UTC),
            )
        )
    _LOGGER.debug("daylight %s..%s at %.3f,%.3f", first, last, site.latitude, site.longitude)
    return Daylight(intervals=tuple(intervals))
