"""A simple clear-sky sun model: where the sun is, and how much reaches a tilted panel (pure).

Solar position follows the NOAA low-precision formulas (fractional year, equation of time,
declination, hour angle); the direct beam uses Meinel's air-mass attenuation
``1353 * 0.7 ** (AM ** 0.678)``; diffuse light is a tenth of the beam, spread isotropically.
Good to a degree or two and a few per cent: enough for plausible daily curves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["Site", "SunPosition", "plane_irradiance", "sun_position"]

_SOLAR_CONSTANT = 1353.0  # W/m2 outside the atmosphere, as Meinel uses it


@dataclass(frozen=True, slots=True, kw_only=True)
class Site:
    """Where the panels are and how they face."""

    #: latitude in degrees, north positive
    latitude: float = 52.52
    #: longitude in degrees, east positive
    longitude: float = 13.40
    #: panel tilt from horizontal in degrees
    tilt: float = 30.0
    #: panel azimuth in degrees clockwise from north (180 = south)
    azimuth: float = 180.0


@dataclass(frozen=True, slots=True)
class SunPosition:
    """Elevation above the horizon and azimuth clockwise from north, in degrees."""

    elevation: float
    azimuth: float


def sun_position(site: Site, instant: datetime) -> SunPosition:
    """The sun's position seen from ``site`` at ``instant`` (an aware datetime)."""
    utc = instant.astimezone(UTC)
    day = utc.timetuple().tm_yday
    hours = utc.hour + utc.minute / 60 + utc.second / 3600
    gamma = 2 * math.pi / 365 * (day - 1 + (hours - 12) / 24)
    eqtime = 229.18 * (
        0.000075
        + 0.001868 * math.cos(gamma)
        - 0.032077 * math.sin(gamma)
        - 0.014615 * math.cos(2 * gamma)
        - 0.040849 * math.sin(2 * gamma)
    )
    decl = (
        0.006918
        - 0.399912 * math.cos(gamma)
        + 0.070257 * math.sin(gamma)
        - 0.006758 * math.cos(2 * gamma)
        + 0.000907 * math.sin(2 * gamma)
        - 0.002697 * math.cos(3 * gamma)
        + 0.00148 * math.sin(3 * gamma)
    )
    solar_minutes = hours * 60 + eqtime + 4 * site.longitude
    hour_angle = math.radians(solar_minutes / 4 - 180)
    lat = math.radians(site.latitude)
    cos_zenith = math.sin(lat) * math.sin(decl) + math.cos(lat) * math.cos(decl) * math.cos(
        hour_angle
    )
    zenith = math.acos(max(-1.0, min(1.0, cos_zenith)))
    azimuth = math.atan2(
        math.sin(hour_angle),
        math.cos(hour_angle) * math.sin(lat) - math.tan(decl) * math.cos(lat),
    )
    return SunPosition(90 - math.degrees(zenith), (math.degrees(azimuth) + 180) % 360)


def plane_irradiance(site: Site, sun: SunPosition) -> float:
    """Clear-sky irradiance on the panel plane in W/m2 (0 with the sun below the horizon)."""
    if sun.elevation <= 0:
        return 0.0
    zenith = math.radians(90 - sun.elevation)
    air_mass = 1 / (math.cos(zenith) + 0.50572 * math.pow(96.07995 - math.degrees(zenith), -1.6364))
    beam = _SOLAR_CONSTANT * math.pow(0.7, math.pow(air_mass, 0.678))
    tilt = math.radians(site.tilt)
    cos_incidence = math.cos(zenith) * math.cos(tilt) + math.sin(zenith) * math.sin(
        tilt
    ) * math.cos(math.radians(sun.azimuth - site.azimuth))
    diffuse = 0.1 * beam * (1 + math.cos(tilt)) / 2
    return max(0.0, beam * max(0.0, cos_incidence) + diffuse)
