"""The clear-sky forecast against pvlib's own ModelChain, night, seasons, sun-up intervals."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from numpy.typing import NDArray
from pvlib import clearsky, location, modelchain, pvsystem

from cloud_gateway.monitoring.daylight import sun_up_at, sun_up_seconds
from cloud_gateway.monitoring.errors import ForecastUnavailableError
from cloud_gateway.monitoring.forecast import (
    BERLIN,
    Generator,
    Site,
    daylight,
    expected_day,
    expected_power,
    generators_for,
    plant_day,
)
from cloud_gateway.plants.model import Inverter, PlantFields

_ACTIVATED = datetime(2026, 1, 1, tzinfo=UTC)
_BERLIN_ROOF = PlantFields(
    name="Dach Nord",
    latitude=52.52,
    longitude=13.405,
    tilt_deg=30,
    azimuth_deg=165,
    module_area_m2=40.0,
    temp_coefficient=-0.35,
)


def _inverter(inv_id: int, nominal_w: int | None) -> Inverter:
    return Inverter(
        id=inv_id,
        plant_id=1,
        serial=f"SN{inv_id}",
        name=f"WR {inv_id}",
        activated_at=_ACTIVATED,
        nominal_power_w=nominal_w,
    )


def _model_chain_ac(
    site: Site, generator: Generator, times: pd.DatetimeIndex
) -> NDArray[np.float64]:
    """pvlib's ModelChain with the documented choices, computed independently of the module."""
    where = location.Location(site.latitude, site.longitude, tz="UTC")
    sky = where.get_clearsky(
        times,
        model="ineichen",
        linke_turbidity=clearsky.lookup_linke_turbidity(times, site.latitude, site.longitude),
    )
    weather = sky.assign(temp_air=20.0, wind_speed=1.0)
    assert generator.ac_limit_w is not None
    system = pvsystem.PVSystem(
        surface_tilt=site.tilt_deg,
        surface_azimuth=site.azimuth_deg,
        albedo=0.25,
        module_parameters={"pdc0": generator.dc_power_w, "gamma_pdc": -0.0035},
        inverter_parameters={"pdc0": generator.ac_limit_w / 0.96, "eta_inv_nom": 0.96},
        temperature_model_parameters={"u0": 25.0, "u1": 6.84},
    )
    chain = modelchain.ModelChain(
        system,
        where,
        transposition_model="haydavies",
        aoi_model="no_loss",
        spectral_model="no_loss",
        temperature_model="faiman",
        losses_model="no_loss",
    )
    chain.run_model(weather)
    ac: NDArray[np.float64] = np.nan_to_num(np.asarray(chain.results.ac, dtype=float))
    return ac.clip(0.0)


def test_curve_matches_pvlib_model_chain_within_one_percent() -> None:
    generators = generators_for(_BERLIN_ROOF, [_inverter(7, 10_000)])
    generator = generators.inverters[7]
    assert generator.dc_power_w == pytest.approx(8000.0)  # 40 m² x 20 % x 1000 W/m²
    forecast = expected_day(generators.site, generator, date(2026, 5, 12))
    times = pd.DatetimeIndex([p.at for p in forecast.points])
    reference = _model_chain_ac(generators.site, generator, times)
    ours = np.array([p.power_w for p in forecast.points])
    peak = reference.max()
    assert 4000 < peak < 8000
    daytime = reference > 0.05 * peak
    assert daytime.sum() > 100  # 5-minute steps over a May day
    np.testing.assert_allclose(ours[daytime], reference[daytime], rtol=0.01)
    seconds = (times - times[0]).total_seconds().to_numpy()
    reference_wh = float(np.trapezoid(reference, seconds)) / 3600.0
    assert forecast.energy_wh == pytest.approx(reference_wh, rel=0.01)


def test_zero_at_night_and_positive_at_noon() -> None:
    generators = generators_for(_BERLIN_ROOF, [_inverter(7, 10_000)])
    night = datetime(2026, 6, 21, 23, 30, tzinfo=UTC)
    early = datetime(2026, 6, 21, 1, 0, tzinfo=UTC)
    noon = datetime(2026, 6, 21, 11, 0, tzinfo=UTC)
    points = expected_power(generators.site, generators.inverters[7], [night, early, noon])
    assert [p.at for p in points] == [night, early, noon]
    assert points[0].power_w == 0.0
    assert points[1].power_w == 0.0
    assert points[2].power_w > 4000.0
    day = expected_day(generators.site, generators.inverters[7], date(2026, 1, 10))
    by_hour = {p.at.astimezone(BERLIN).hour: p.power_w for p in day.points if p.at.minute == 0}
    assert by_hour[0] == by_hour[3] == by_hour[20] == by_hour[23] == 0.0


def test_summer_day_in_berlin_beats_a_winter_day() -> None:
    generators = generators_for(_BERLIN_ROOF, [_inverter(7, 10_000)])
    summer = expected_day(generators.site, generators.inverters[7], date(2026, 6, 21))
    winter = expected_day(generators.site, generators.inverters[7], date(2026, 12, 21))
    assert summer.energy_wh > 2.5 * winter.energy_wh > 0
    # clear sky, 8 kWp facing south-south-east at 30°: 6-8 kWh/kWp in June
    assert 48_000 < summer.energy_wh < 64_000


def test_plant_is_the_sum_of_its_inverters_and_clips_at_nominal_power() -> None:
    fields = PlantFields(
        name="Scheune",
        latitude=48.14,
        longitude=11.58,
        tilt_deg=35,
        azimuth_deg=180,
        module_area_m2=60.0,  # 12 kWp on two inverters of 6 and 3 kW: the 3 kW one clips
    )
    generators = generators_for(fields, [_inverter(1, 6000), _inverter(2, 3000)])
    assert generators.inverters[1].dc_power_w == pytest.approx(8000.0)
    assert generators.inverters[2].dc_power_w == pytest.approx(4000.0)
    assert generators.plant.kwp == pytest.approx(12.0)
    result = plant_day(generators, date(2026, 6, 1))
    one, two = result.inverters[1], result.inverters[2]
    assert result.plant.energy_wh == pytest.approx(one.energy_wh + two.energy_wh)
    assert max(p.power_w for p in two.points) == pytest.approx(3000.0)
    assert max(p.power_w for p in one.points) == pytest.approx(6000.0)
    assert len(result.plant.points) == 24 * 12 + 1


def test_unknown_inverter_power_takes_the_mean_share_and_area_falls_back() -> None:
    fields = PlantFields(name="Carport", latitude=50.0, longitude=8.0, tilt_deg=10, azimuth_deg=90)
    generators = generators_for(fields, [_inverter(1, 5000), _inverter(2, None)])
    assert generators.plant.dc_power_w == pytest.approx(10_000.0)
    assert generators.inverters[2].dc_power_w == pytest.approx(5000.0)
    assert generators.inverters[2].ac_limit_w is None
    assert generators.plant.ac_limit_w is None


def test_missing_fields_are_named() -> None:
    with pytest.raises(ForecastUnavailableError) as caught:
        generators_for(PlantFields(name="leer", latitude=50.0))
    assert caught.value.missing == ("longitude", "tilt_deg", "azimuth_deg", "module_area_m2")


def test_weather_factor_scales_the_irradiance() -> None:
    generators = generators_for(_BERLIN_ROOF, [_inverter(7, 10_000)])
    clear = expected_day(generators.site, generators.inverters[7], date(2026, 4, 2))
    cloudy = expected_day(
        generators.site,
        generators.inverters[7],
        date(2026, 4, 2),
        weather=lambda instants: [0.5] * len(instants),
    )
    assert 0.4 * clear.energy_wh < cloudy.energy_wh < 0.6 * clear.energy_wh


def test_daylight_in_berlin_across_the_spring_dst_change() -> None:
    site = generators_for(_BERLIN_ROOF, [_inverter(7, 10_000)]).site
    days = daylight(site, date(2026, 3, 28), date(2026, 3, 30))
    assert len(days.intervals) == 3
    first = days.intervals[0]
    # Berlin, 28 March 2026: sunrise about 05:50 CET, sunset about 18:33 CET
    assert abs(first.start - datetime(2026, 3, 28, 4, 50, tzinfo=UTC)) < timedelta(minutes=3)
    assert abs(first.end - datetime(2026, 3, 28, 17, 33, tzinfo=UTC)) < timedelta(minutes=3)
    assert sun_up_at(days, datetime(2026, 3, 29, 12, 0, tzinfo=UTC))
    assert not sun_up_at(days, datetime(2026, 3, 29, 22, 0, tzinfo=UTC))
    # a whole night and the next morning's first hour count one hour
    evening = first.end - timedelta(minutes=10)
    next_morning = days.intervals[1].start + timedelta(hours=1)
    assert sun_up_seconds(days, evening, next_morning) == pytest.approx(70 * 60, abs=1)


def test_polar_day_and_night() -> None:
    svalbard = Site(
        latitude=78.2, longitude=15.6, tilt_deg=30, azimuth_deg=180, temp_coefficient_pct_per_k=-0.4
    )
    summer = daylight(svalbard, date(2026, 6, 20), date(2026, 6, 21), tz=BERLIN)
    assert len(summer.intervals) == 2
    assert sun_up_seconds(summer, summer.intervals[0].start, summer.intervals[1].end) == 48 * 3600
    winter = daylight(svalbard, date(2026, 12, 20), date(2026, 12, 21), tz=BERLIN)
    assert winter.intervals == ()
    assert not sun_up_at(winter, datetime(2026, 12, 20, 11, 0, tzinfo=UTC))


def test_the_gateway_imports_pvlib_and_pandas_only_when_it_forecasts() -> None:
    """Every ``cloud-gateway`` command imports the gateway; pvlib with pandas and scipy took
    0.7 of its 2 s start-up before a forecast needed them."""
    probe = (
        "import sys, cloud_gateway.cli; "
        "print(sorted(m for m in ('pvlib', 'pandas', 'scipy') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
