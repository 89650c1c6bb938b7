"""Errors of the payments area (named in :mod:`cloud_gateway.errors`' tree)."""

from __future__ import annotations

from cloud_gateway.errors import GatewayError

__all__ = ["PaymentError", "ProviderError", "WebhookSignatureError"]


class PaymentError(GatewayError):
    """A payment could not be started or booked."""


class ProviderError(PaymentError, ConnectionError):
    """The payment provider refused a call or did not answer."""


class WebhookSignatureError(PaymentError, ValueError):
    """A webhook or notification is not signed by the provider: never trusted."""
