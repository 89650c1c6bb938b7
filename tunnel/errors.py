"""Errors of the tunnel package.

::

    TunnelError
    ├── ConfigError (ValueError)       a configuration file is missing or invalid
    ├── ProtocolError (ValueError)     bytes on the wire do not form a valid frame
    ├── FlowControlError               a peer sent beyond its credit window
    ├── SessionClosedError (ConnectionError)  the tunnel session has ended
    ├── ClosedBeforeTlsError (ConnectionResetError)  the gateway closed the connection before
    │                                  the TLS handshake completed: busy (ADR 0032)
    ├── UpgradeRefusedError (ConnectionError)  the gateway answered the WebSocket upgrade
    │                                  with an HTTP status instead of 101 (status, body)
    ├── StreamError (ConnectionError)  a stream cannot be used (written after EOF, ...)
    │   ├── StreamResetError (ConnectionResetError)  either end reset the stream
    │   └── OpenFailedError            the device could not open the stream (reason, detail)
    └── RefusedError                   the gateway refused the session (reason, retry_after)

Lower-layer errors (``OSError``, aiohttp's ``ClientError``, wsproto's errors) are mapped to the most
specific of these at the boundary, with ``raise ... from exc``.
"""

from __future__ import annotations

__all__ = [
    "ClosedBeforeTlsError",
    "ConfigError",
    "FlowControlError",
    "OpenFailedError",
    "ProtocolError",
    "RefusedError",
    "SessionClosedError",
    "StreamError",
    "StreamResetError",
    "TunnelError",
    "UpgradeRefusedError",
]


class TunnelError(Exception):
    """Root of every error the tunnel package raises."""


class ConfigError(TunnelError, ValueError):
    """A configuration file is missing, unreadable or invalid.

    ``str(err)`` is one line that names the file and the key.
    """

    def __init__(self, path: str, key: str | None, problem: str) -> None:
        self.path = path
        self.key = key
        self.problem = problem
        where = f"{path}: {key}" if key else path
        super().__init__(f"{where}: {problem}")


class ProtocolError(TunnelError, ValueError):
    """Bytes received do not form a valid frame of the protocol."""


class FlowControlError(TunnelError):
    """A peer sent more data on a stream than its credit allowed."""


class SessionClosedError(TunnelError, ConnectionError):
    """The tunnel session has ended; no more frames can be sent or received.

    ``clean`` tells an orderly close (WebSocket close frame, local ``close()``) from a
    lost connection.
    """

    def __init__(self, message: str = "session closed", *, clean: bool = False) -> None:
        super().__init__(message)
        self.clean = clean


class StreamError(TunnelError, ConnectionError):
    """A stream cannot be used for this operation (for example a write after EOF)."""


class StreamResetError(StreamError, ConnectionResetError):
    """The stream was reset by this end or by the peer; buffered data is gone."""


class OpenFailedError(StreamError):
    """The device answered OPEN_FAIL: it could not reach the stream's local target."""

    def __init__(self, target: str, reason: str, detail: str = "") -> None:
        self.target = target
        self.reason = reason
        self.detail = detail
        suffix = f": {detail}" if detail else ""
        super().__init__(f"cannot open stream to {target}: {reason}{suffix}")


class RefusedError(TunnelError):
    """The gateway refused the session, with a reason and a retry-after in seconds."""

    def __init__(self, reason: str, retry_after: float, detail: str = "") -> None:
        self.reason = reason
        self.retry_after = retry_after
        self.detail = detail
        suffix = f": {detail}" if detail else ""
        super().__init__(f"refused: {reason} (retry after {retry_after:g} s){suffix}")


class ClosedBeforeTlsError(TunnelError, ConnectionResetError):
    """The gateway accepted TCP and closed (or reset) it before the TLS handshake completed.

    What a gateway over its TLS handshake budget does (ADR 0032): it is busy, not down, and
    the device backs off with the shorter ``busy_cap`` (:mod:`tunnel.backoff`). A refused TCP
    connect (nothing listening) stays a plain ``ConnectionRefusedError``.
    """


class UpgradeRefusedError(TunnelError, ConnectionError):
    """The gateway answered the WebSocket upgrade with ``status`` instead of 101.

    For example 404 (no tunnel endpoint at that path: a wrong gateway URL) or 403/503 from
    a proxy in between. ``body`` holds the start of the response body, if any.
    """

    def __init__(self, url: str, status: int, body: bytes = b"") -> None:
        self.url = url
        self.status = status
        self.body = body
        text = body.decode("utf-8", "replace").strip()
        suffix = f": {text[:200]}" if text else ""
        super().__init__(f"{url}: the WebSocket upgrade was refused with HTTP {status}{suffix}")


class HttpClientError(TunnelError):
    """An HTTP request of a device (to the gateway, to a local CCU) failed."""


class HttpConnectionError(HttpClientError, OSError):
    """No connection, a failed TLS handshake, or the connection was lost."""


class HttpTimeoutError(HttpConnectionError, TimeoutError):
    """No complete answer within the request's time limit."""


class HttpProtocolError(HttpClientError):
    """The peer's answer is not valid HTTP/1.1 (or larger than allowed)."""


class HttpStatusError(HttpClientError):
    """The answer's status is an error (4xx or 5xx)."""

    def __init__(self, status: int, url: str) -> None:
        super().__init__(f"HTTP {status} from {url}")
        self.status = status
