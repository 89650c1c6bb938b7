"""Errors of the prepaid service contracts.

::

    GatewayError
    └── ContractError                                 a service contract rule refused a request
        ├── InvalidSiteError (ValueError)             the site coordinates are missing or no
        │                                             coordinates
        ├── PrecheckRefusedError (ValueError)         the provider cannot serve the site
        │                                             (``reason``, e.g. outside its coverage)
        └── ProviderUnavailableError (ConnectionError) the provider did not answer in time or
                                                      failed; nothing was ordered
"""

from __future__ import annotations

from cloud_gateway.errors import GatewayError

__all__ = [
    "ContractError",
    "InvalidSiteError",
    "PrecheckRefusedError",
    "ProviderUnavailableError",
]


class ContractError(GatewayError):
    """Root of the service contracts' own errors."""


class InvalidSiteError(ContractError, ValueError):
    """The site has no usable coordinates."""


class PrecheckRefusedError(ContractError, ValueError):
    """The provider refused the site; ``reason`` is its machine-readable reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the provider refused the site: {reason}")
        self.reason = reason


class ProviderUnavailableError(ContractError, ConnectionError):
    """The provider timed out or failed; ``timed_out`` tells which."""

    def __init__(self, detail: str, *, timed_out: bool = False) -> None:
        super().__init__(detail)
        self.timed_out = timed_out
