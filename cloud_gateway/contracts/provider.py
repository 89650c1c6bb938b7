"""The service provider's pre-check (R-BIL-2): a port and its HTTP client.

Before a prepaid service contract is accepted, the provider checks the variable service
settings; for the satellite uplink these are the site's coordinates (the plant's). The port
:class:`ServiceProvider` is what the contract service calls; :class:`HttpServiceProvider`
speaks the provider's JSON API (``POST {base}/v1/precheck``; ``simulator satellite`` is the
faithful stand-in). A refusal raises :class:`PrecheckRefusedError` with the provider's reason;
a timeout, a connection failure or an unexpected answer raise
:class:`ProviderUnavailableError`, and nothing is ordered.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Protocol

import aiohttp

from cloud_gateway.contracts.errors import (
    InvalidSiteError,
    PrecheckRefusedError,
    ProviderUnavailableError,
)

__all__ = ["HttpServiceProvider", "Precheck", "ServiceProvider", "Site"]

_PLACES = Decimal("0.000001")  # about 11 cm: more than any site needs


@dataclass(frozen=True, slots=True, kw_only=True)
class Site:
    """Where the service is delivered: WGS 84 decimal degrees, six places."""

    latitude: Decimal
    longitude: Decimal

    @classmethod
    def of(cls, latitude: object, longitude: object) -> Site:
        """Coordinates from user or plant input; :class:`InvalidSiteError` when unusable."""
        try:
            lat = Decimal(str(latitude)).quantize(_PLACES)
            lon = Decimal(str(longitude)).quantize(_PLACES)
        except (InvalidOperation, ValueError):
            raise InvalidSiteError(f"no coordinates: {latitude!r}, {longitude!r}") from None
        if latitude is None or longitude is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise InvalidSiteError(f"no coordinates: {latitude!r}, {longitude!r}")
        return cls(latitude=lat, longitude=lon)


@dataclass(frozen=True, slots=True, kw_only=True)
class Precheck:
    """An accepted pre-check."""

    reference: str
    """The provider's reference for the checked settings."""
    detail: str = ""
    """What the provider reported (e.g. the beam)."""


class ServiceProvider(Protocol):
    """Pre-checks a service's variable settings with its provider."""

    async def precheck(self, product: str, site: Site) -> Precheck:
        """Accept or refuse (:class:`PrecheckRefusedError`); :class:`ProviderUnavailableError`
        when the provider cannot be asked."""
        ...


class HttpServiceProvider:
    """The provider's JSON API over HTTP(S), with a total timeout per pre-check."""

    def __init__(self, base_url: str, timeout_s: float) -> None:
        self._url = base_url.rstrip("/") + "/v1/precheck"
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def precheck(self, product: str, site: Site) -> Precheck:
        body = {
            "service": product,
            "latitude": str(site.latitude),
            "longitude": str(site.longitude),
        }
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as http,
                http.post(self._url, json=body) as resp,
            ):
                status = resp.status
                answer = await resp.json(content_type=None) if status in (200, 400) else None
        except TimeoutError:
            raise ProviderUnavailableError(
                "the provider did not answer in time", timed_out=True
            ) from None
        except (aiohttp.ClientError, ValueError) as exc:
            raise ProviderUnavailableError(f"the provider failed: {exc}") from exc
        if status == 400 and isinstance(answer, dict):
            raise PrecheckRefusedError(str(answer.get("error", "invalid_request")))
        if status != 200 or not isinstance(answer, dict) or "available" not in answer:
            raise ProviderUnavailableError(f"the provider answered HTTP {status}")
        if answer["available"] is not True:
            raise PrecheckRefusedError(str(answer.get("reason", "refused")))
        return Precheck(
            reference=str(answer.get("reference", "")), detail=str(answer.get("beam", ""))
        )
