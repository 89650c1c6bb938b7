"""Errors of the cloud gateway.

::

    GatewayError
    ├── ConfigError (tunnel.errors.ConfigError)   invalid configuration (file, key, problem)
    ├── StoreError                                 the database failed or refused a change
    │   ├── NotFoundError (LookupError)            no such row for this tenant
    │   └── ConflictError                          a unique key or state rule was violated
    ├── CertificateError                           the device CA could not be created or used
    ├── AccountError                               an account rule refused a request
    │   ├── PasswordPolicyError (ValueError)       the new password breaks the policy (R-MON-2)
    │   ├── LinkError (ValueError)                 a validation or reset link is unknown,
    │   │                                          used or expired
    │   └── AccessDeniedError (PermissionError)    the actor may not do this to this object
    ├── VatUnavailableError (ConnectionError)      the VIES-style service did not answer;
    │                                              the check stays pending (never "invalid")
    └── NotificationError                          an e-mail could not be handed to SMTP

Database driver errors (SQLAlchemy's ``DBAPIError``) are mapped to ``StoreError``
subclasses at the repository boundary.
"""

from __future__ import annotations

from tunnel.errors import ConfigError

__all__ = [
    "AccessDeniedError",
    "AccountError",
    "CertificateError",
    "ConfigError",
    "ConflictError",
    "GatewayError",
    "LinkError",
    "NotFoundError",
    "NotificationError",
    "PasswordPolicyError",
    "StoreError",
    "VatUnavailableError",
]


class GatewayError(Exception):
    """Root of every error the gateway raises."""


class StoreError(GatewayError):
    """The database failed or refused a change."""


class NotFoundError(StoreError, LookupError):
    """No such row (or not visible to this tenant)."""


class ConflictError(StoreError):
    """A unique key or a state rule was violated."""


class CertificateError(GatewayError):
    """The gateway's own CA or server certificate could not be created or loaded."""


class AccountError(GatewayError):
    """An account rule refused a request."""


class PasswordPolicyError(AccountError, ValueError):
    """A new password breaks the password policy; ``violations`` names each broken rule."""

    def __init__(self, violations: tuple[str, ...]) -> None:
        super().__init__("password policy: " + ", ".join(violations))
        self.violations = violations


class LinkError(AccountError, ValueError):
    """A validation or reset link is unknown, already used or expired."""


class AccessDeniedError(AccountError, PermissionError):
    """The actor may not perform this action on this object."""


class VatUnavailableError(GatewayError, ConnectionError):
    """The VAT ID service did not answer; the check stays pending and is retried."""


class NotificationError(GatewayError):
    """An e-mail could not be handed to the SMTP server."""
