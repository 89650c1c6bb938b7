"""Errors of the CCU add-on.

::

    AddonError
    ├── ConfigError (tunnel.errors.ConfigError)   invalid configuration (file, key, problem)
    ├── CcuError                                   the local CCU did not answer as expected
    │   └── CcuSessionError (PermissionError)      a WebUI session id (sid) is not valid
    └── EnrolmentError                             pairing with the gateway failed
"""

from __future__ import annotations

from tunnel.errors import ConfigError

__all__ = ["AddonError", "CcuError", "CcuSessionError", "ConfigError", "EnrolmentError"]


class AddonError(Exception):
    """Root of every error the add-on raises."""


class CcuError(AddonError):
    """The local CCU (JSON-RPC, XML-RPC or WebUI) did not answer as expected."""


class CcuSessionError(CcuError, PermissionError):
    """A CCU WebUI session id is missing or not valid."""


class EnrolmentError(AddonError):
    """Pairing with the gateway failed."""
