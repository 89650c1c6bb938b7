"""The VAT ID service adapter (VIES REST ``check-vat-number``).

Every failure to get an answer (connection, timeout, HTTP 5xx, a member state reported
unavailable) becomes :class:`~cloud_gateway.errors.VatUnavailableError`: the check stays
pending and is retried, it never turns into "invalid".
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import aiohttp

from cloud_gateway.config import VatConfig
from cloud_gateway.errors import VatUnavailableError

__all__ = ["ViesAnswer", "ViesClient"]

_UNAVAILABLE = {
    "MS_UNAVAILABLE",
    "SERVICE_UNAVAILABLE",
    "TIMEOUT",
    "MS_MAX_CONCURRENT_REQ",
    "GLOBAL_MAX_CONCURRENT_REQ",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ViesAnswer:
    """The service's answer, kept as proof."""

    valid: bool
    name: str
    address: str
    request_date: str
    raw: str
    """The answer as received (JSON text)."""


class ViesClient:
    """Asks the VIES-style service about one VAT number."""

    def __init__(self, config: VatConfig) -> None:
        self._config = config

    async def check(self, vat_id: str) -> ViesAnswer:
        """Check a normalised VAT ID (country prefix plus number)."""
        payload = {"countryCode": vat_id[:2], "vatNumber": vat_id[2:]}
        url = self._config.vies_url.rstrip("/") + "/check-vat-number"
        timeout = aiohttp.ClientTimeout(total=self._config.timeout_s)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as http,
                http.post(url, json=payload) as resp,
            ):
                if resp.status >= 500:
                    raise VatUnavailableError(f"VAT service answered HTTP {resp.status}")
                resp.raise_for_status()
                raw = await resp.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise VatUnavailableError(f"VAT service unreachable: {exc}") from exc
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise VatUnavailableError("VAT service sent no JSON") from exc
        errors = {str(e.get("error", "")) for e in body.get("errorWrappers", []) or []}
        if body.get("userError") in _UNAVAILABLE or errors & _UNAVAILABLE or "valid" not in body:
            raise VatUnavailableError(f"VAT service unavailable: {sorted(errors) or body}")
        return ViesAnswer(
            valid=bool(body["valid"]),
            name=str(body.get("name", "")),
            address=str(body.get("address", "")),
            request_date=str(body.get("requestDate", "")),
            raw=raw,
        )
