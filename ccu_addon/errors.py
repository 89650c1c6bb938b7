"""Errors of the CCU add-on.

::

    AddonError
    ├── CcuError                                   the local CCU did not answer as expected
    │   └── CcuSessionError (PermissionError)      a WebUI session id (sid) is not valid
    ├── IdentityError (ValueError)                 the hub's key or certificate is unusable
    └── HttpAbortError                             a page handler ends its request with a response
    ConfigError (tunnel.errors)                    invalid configuration (file, key, problem)
    HttpClientError (tunnel.errors)                an HTTP request (to the CCU, the gateway) failed
    ├── HttpConnectionError (OSError)              no connection, TLS failed, connection lost
    │   └── HttpTimeoutError (TimeoutError)        no complete answer in time
    ├── HttpProtocolError                          the answer is not valid HTTP/1.1
    └── HttpStatusError                            the answer's status is an error (4xx, 5xx)
    EnrolmentError (tunnel.enrolment)              pairing with the gateway failed

``ConfigError``, the HTTP client's errors and ``EnrolmentError`` are the tunnel package's own,
re-exported: the HTTP client (:mod:`tunnel.httpclient`) and enrolment (identity files, pairing
client, :mod:`tunnel.enrolment`) are shared with the inverter agent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tunnel.errors import (
    ConfigError,
    HttpClientError,
    HttpConnectionError,
    HttpProtocolError,
    HttpStatusError,
    HttpTimeoutError,
)

if TYPE_CHECKING:
    from tunnel.enrolment import EnrolmentError

__all__ = [
    "AddonError",
    "CcuError",
    "CcuSessionError",
    "ConfigError",
    "EnrolmentError",
    "HttpClientError",
    "HttpConnectionError",
    "HttpProtocolError",
    "HttpStatusError",
    "HttpTimeoutError",
]


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
