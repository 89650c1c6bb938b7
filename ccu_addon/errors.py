"""Errors of the CCU add-on.

::

    AddonError
    └── CcuError                                   the local CCU did not answer as expected
        └── CcuSessionError (PermissionError)      a WebUI session id (sid) is not valid
    ConfigError (tunnel.errors)                    invalid configuration (file, key, problem)
    EnrolmentError (tunnel.enrolment)              pairing with the gateway failed

``ConfigError`` and ``EnrolmentError`` are the tunnel package's own, re-exported: enrolment
(identity files, pairing client) is shared with the inverter agent in :mod:`tunnel.enrolment`.
"""

from __future__ import annotations

from tunnel.enrolment import EnrolmentError
from tunnel.errors import ConfigError

__all__ = ["AddonError", "CcuError", "CcuSessionError", "ConfigError", "EnrolmentError"]


class AddonError(Exception):
    """Root of every error the add-on raises."""


class CcuError(AddonError):
    """The local CCU (JSON-RPC, XML-RPC or WebUI) did not answer as expected."""


class CcuSessionError(CcuError, PermissionError):
    """A CCU WebUI session id is missing or not valid."""
