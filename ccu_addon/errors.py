"""Errors of the CCU add-on.

::

    AddonError
    ├── CcuError                                   the local CCU did not answer as expected
    │   └── CcuSessionError (PermissionError)      a WebUI session id (sid) is not valid
    └── IdentityError (ValueError)                 the hub's key or certificate is unusable
    ConfigError (tunnel.errors)                    invalid configuration (file, key, problem)
    EnrolmentError (tunnel.enrolment)              pairing with the gateway failed

``ConfigError`` and ``EnrolmentError`` are the tunnel package's own, re-exported: enrolment
(identity files, pairing client) is shared with the inverter agent in :mod:`tunnel.enrolment`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tunnel.errors import ConfigError

if TYPE_CHECKING:
    from tunnel.enrolment import EnrolmentError

__all__ = ["AddonError", "CcuError", "CcuSessionError", "ConfigError", "EnrolmentError"]


class AddonError(Exception):
    """Root of every error the add-on raises."""


class CcuError(AddonError):
    """The local CCU (JSON-RPC, XML-RPC or WebUI) did not answer as expected."""


class CcuSessionError(CcuError, PermissionError):
    """A CCU WebUI session id is missing or not valid."""


def __getattr__(name: str) -> Any:
    # EnrolmentError is re-exported lazily: tunnel.enrolment imports ``cryptography``, which
    # the enrolled add-on never loads (see ccu_addon.identity).
    if name == "EnrolmentError":
        from tunnel import enrolment  # noqa: PLC0415

        return enrolment.EnrolmentError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
