"""Errors of the cloud gateway.

::

    GatewayError
    ├── ConfigError (tunnel.errors.ConfigError)   invalid configuration (file, key, problem)
    ├── StoreError                                 the database failed or refused a change
    │   ├── NotFoundError (LookupError)            no such row for this tenant
    │   └── ConflictError                          a unique key or state rule was violated
    └── CertificateError                           the device CA could not be created or used

Database driver errors (SQLAlchemy's ``DBAPIError``) are mapped to ``StoreError``
subclasses at the repository boundary.
"""

from __future__ import annotations

from tunnel.errors import ConfigError

__all__ = [
    "CertificateError",
    "ConfigError",
    "ConflictError",
    "GatewayError",
    "NotFoundError",
    "StoreError",
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
