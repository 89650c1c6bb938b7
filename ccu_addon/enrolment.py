"""Enrolment, device side: ask for a pairing code, show it, wait for the certificate.

Speaks the gateway's enrolment API (``POST /api/v1/enrol``, ``GET /api/v1/enrol/{token}``):
the CSR goes up, the pairing code comes back and is shown on the dashboard (and carried by
"Jetzt registrieren" to the portal); once the owner has entered it, the poll returns the
certificate, which is stored beside the key. Failures are retried forever with a pause.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

from ccu_addon.errors import EnrolmentError
from ccu_addon.identity import DeviceIdentity
from ccu_addon.status import AddonState

__all__ = ["enrol"]

_LOGGER = logging.getLogger(__name__)
_TIMEOUT = aiohttp.ClientTimeout(total=15)


async def _request(http: aiohttp.ClientSession, base: str, identity: DeviceIdentity) -> Any:
    body = {"csr": identity.csr_pem("CCU"), "kind": "ccu", "name": "CCU"}
    async with http.post(f"{base}/api/v1/enrol", json=body, timeout=_TIMEOUT) as resp:
        resp.raise_for_status()
        return await resp.json()


async def enrol(
    http: aiohttp.ClientSession,
    gateway_url: str,
    identity: DeviceIdentity,
    state: AddonState,
    *,
    retry_delay: float = 30.0,
) -> DeviceIdentity:
    """Run enrolment until a certificate is stored; returns the enrolled identity."""
    base = gateway_url.rstrip("/")
    while True:
        try:
            started = await _request(http, base, identity)
            state.pairing_code = str(started["pairing_code"])
            interval = float(started.get("poll_interval", 5.0))
            while True:
                async with http.get(f"{base}{started['poll_url']}", timeout=_TIMEOUT) as resp:
                    if resp.status == 200:
                        issued = await resp.json()
                        break
                    if resp.status != 202:
                        raise aiohttp.ClientResponseError(
                            resp.request_info, (), status=resp.status, message="enrolment ended"
                        )
                await asyncio.sleep(interval)
            enrolled = await asyncio.to_thread(
                identity.store_certificate, issued["certificate"], issued["ca_certificate"]
            )
        except (aiohttp.ClientError, TimeoutError, KeyError, ValueError, EnrolmentError) as exc:
            _LOGGER.warning("enrolment: %r; trying again in %.0f s", exc, retry_delay)
            state.pairing_code = None
            await asyncio.sleep(retry_delay)
        else:
            state.pairing_code = None
            _LOGGER.info("enrolled as %s", enrolled.slug)
            return enrolled
