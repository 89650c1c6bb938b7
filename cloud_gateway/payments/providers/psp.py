"""The payment service provider's hosted payment page (card, online transfer).

Its server-to-server notifications carry ``X-PSP-Timestamp`` and ``X-PSP-Signature`` (hex
HMAC-SHA256 over ``"{timestamp}.{body}"`` with the shared secret); a notification older than
``notification_tolerance_s`` (or from the future) is refused as a possible replay.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

import aiohttp

from cloud_gateway.config import PaymentsConfig
from cloud_gateway.payments.errors import PaymentError, ProviderError, WebhookSignatureError
from cloud_gateway.payments.providers import (
    CheckoutRequest,
    Notice,
    NoticeKind,
    Outcome,
    Started,
)
from tunnel.clock import Clock

__all__ = ["PspProvider"]

_TIMEOUT = aiohttp.ClientTimeout(total=15)
_KINDS = {"paid": NoticeKind.PAID, "declined": NoticeKind.DECLINED, "open": NoticeKind.PENDING}


def _outcome(checkout: dict[str, Any]) -> Outcome:
    kind = _KINDS.get(str(checkout.get("status")), NoticeKind.IGNORED)
    return Outcome(
        kind=kind,
        money_id=str(checkout["id"]),
        amount=int(checkout.get("amount", 0)),
        message="declined" if kind is NoticeKind.DECLINED else "",
    )


class PspProvider:
    """Checkouts on the hosted page; results by signed notification or by asking."""

    def __init__(self, config: PaymentsConfig, clock: Clock) -> None:
        self._config = config
        self._clock = clock
        self._base = config.psp_url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=_TIMEOUT,
                headers={"Authorization": f"Bearer {self._config.psp_api_key}"},
            )
        return self._session

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()

    async def _call(
        self, method: str, path: str, payload: Any = None, key: str | None = None
    ) -> dict[str, Any]:
        headers = {"Idempotency-Key": key} if key else {}
        try:
            async with self._http().request(
                method, f"{self._base}{path}", json=payload, headers=headers
            ) as response:
                body: dict[str, Any] = await response.json()
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise ProviderError(f"PSP {path}: {exc}") from exc
        if response.status not in (200, 201):
            raise ProviderError(f"PSP {path}: HTTP {response.status} {body.get('error')}")
        return body

    async def create(self, request: CheckoutRequest, *, idempotency_key: str) -> Started:
        """A checkout on the hosted page for the whole amount (every method the same)."""
        body = await self._call(
            "POST",
            "/api/v1/checkouts",
            {
                "amount": request.amount,
                "currency": request.currency,
                "reference": request.reference,
                "description": request.description,
                "return_url": request.return_url,
                "notify_url": request.notify_url,
            },
            key=idempotency_key,
        )
        return Started(provider_id=str(body["id"]), redirect_url=str(body["redirect_url"]))

    async def complete(self, provider_id: str, *, idempotency_key: str) -> Outcome:
        """Ask for the checkout's state (the notification may still be on its way)."""
        del idempotency_key  # reading the state changes nothing
        return _outcome(await self._call("GET", f"/api/v1/checkouts/{provider_id}"))

    async def cancel_subscription(self, provider_id: str, *, reason: str) -> None:
        """The PSP's hosted page takes single payments only."""
        raise PaymentError(f"the PSP has no subscriptions (asked to cancel {provider_id})")

    async def notice(self, headers: Mapping[str, str], body: bytes) -> Notice:
        """Verify the HMAC and the timestamp, then read the notification."""
        try:
            stamp = int(headers["X-PSP-Timestamp"])
            given = headers["X-PSP-Signature"]
        except (KeyError, ValueError) as exc:
            raise WebhookSignatureError(f"PSP signature headers missing: {exc}") from exc
        age = abs(self._clock.now().timestamp() - stamp)
        if age > self._config.notification_tolerance_s:
            raise WebhookSignatureError(f"PSP notification {age:.0f} s off: replay refused")
        expected = hmac.new(
            self._config.psp_secret.encode(), str(stamp).encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, given):
            raise WebhookSignatureError("PSP signature does not verify")
        try:
            event = json.loads(body)
            checkout = event["checkout"]
            return Notice(
                event_id=str(event["id"]),
                event_type=str(event.get("type", "")),
                provider_id=str(checkout["id"]),
                outcome=_outcome(checkout),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookSignatureError(f"unreadable PSP notification: {exc}") from exc
