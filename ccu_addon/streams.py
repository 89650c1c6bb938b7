"""Remote-access streams: the gateway opens a stream, the add-on splices it to a local target.

The stream carries raw HTTP/1.1 bytes from the gateway's proxy; the add-on does not parse
them. It connects to the target's host and port and copies both ways by callbacks
(:mod:`tunnel.tcp_splice`, the path `python -m bench tunnel` measures), passing each
direction's end on as a half-close (TCP ``write_eof`` / tunnel CLOSE).

OPEN target strings:

* ``webui`` — the CCU WebUI (``ccu.webui_url``, loopback by default);
* ``lan:<host>:<port>`` — a further LAN HTTP device ("Netzwerkgeräte", R-DEV-10), only when
  ``<host>:<port>`` is on the allow-list (``allowed_lan_targets``); IPv6 as ``[addr]:port``.
  The allow-list is the configured targets plus those the owner manages in the portal, which
  the gateway sends as CONTROL ``{"type": "lan_targets", "targets": ["host:port", ...]}``
  (:meth:`TargetPolicy.with_managed` of the configured policy); each message replaces the
  managed part.

Anything else is answered with OPEN_FAIL (``not_allowed`` or ``bad_target``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from ccu_addon.errors import AddonError
from tunnel.frames import OpenFailReason
from tunnel.streams import Stream
from tunnel.tcp_splice import connect_tcp

__all__ = [
    "LAN_TARGETS_CONTROL",
    "LocalTarget",
    "StreamSplicer",
    "TargetPolicy",
    "TargetRefusedError",
    "managed_targets",
]

LAN_TARGETS_CONTROL = "lan_targets"
"""CONTROL type with the LAN targets the owner manages in the portal."""

_LOGGER = logging.getLogger(__name__)


class TargetRefusedError(AddonError):
    """A stream's target is not allowed or not understood."""

    def __init__(self, reason: OpenFailReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class LocalTarget:
    """Where a stream goes."""

    host: str
    port: int


def _host_port(text: str) -> LocalTarget:
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
    else:
        host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise TargetRefusedError(OpenFailReason.BAD_TARGET, f"not host:port: {text!r}")
    return LocalTarget(host.lower(), int(port))


@dataclass(frozen=True, slots=True)
class TargetPolicy:
    """Which OPEN targets the hub serves (the per-device allow-list)."""

    webui: LocalTarget
    allowed: frozenset[LocalTarget]

    @classmethod
    def from_config(cls, webui_url: str, allowed: Iterable[str]) -> TargetPolicy:
        """From ``ccu.webui_url`` and ``allowed_lan_targets`` (``host:port``, ``lan:`` optional)."""
        parts = urlsplit(webui_url)
        default = 443 if parts.scheme == "https" else 80
        webui = LocalTarget(parts.hostname or "127.0.0.1", parts.port or default)
        return cls(webui, frozenset(_host_port(a.removeprefix("lan:")) for a in allowed))

    def with_managed(self, managed: Iterable[LocalTarget]) -> TargetPolicy:
        """This (configured) policy plus the portal-managed targets."""
        return TargetPolicy(self.webui, self.allowed | frozenset(managed))

    def resolve(self, target: str) -> LocalTarget:
        """The local address for an OPEN target; raises :class:`TargetRefusedError`."""
        if target == "webui":
            return self.webui
        if not target.startswith("lan:"):
            raise TargetRefusedError(OpenFailReason.BAD_TARGET, f"unknown target {target!r}")
        wanted = _host_port(target.removeprefix("lan:"))
        if wanted not in self.allowed:
            raise TargetRefusedError(OpenFailReason.NOT_ALLOWED, f"{target} is not allow-listed")
        return wanted


def managed_targets(body: object) -> frozenset[LocalTarget]:
    """The targets of a ``lan_targets`` CONTROL body; TargetRefusedError when malformed."""
    targets = body.get("targets") if isinstance(body, dict) else None
    if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
        raise TargetRefusedError(OpenFailReason.BAD_TARGET, "lan_targets without a target list")
    return frozenset(_host_port(t.removeprefix("lan:")) for t in targets)


class StreamSplicer:
    """The connector's ``on_open`` handler: one TCP connection per stream, copied both ways."""

    def __init__(self, policy: TargetPolicy, *, connect_timeout: float = 10.0) -> None:
        self.policy = policy
        self.connect_timeout = connect_timeout
        self.refused = 0
        """Streams refused by the allow-list (for the dashboard and tests)."""

    async def __call__(self, stream: Stream) -> None:
        try:
            target = self.policy.resolve(stream.target)
        except TargetRefusedError as exc:
            self.refused += 1
            _LOGGER.warning("refusing stream to %r: %s", stream.target, exc.detail)
            stream.fail_open(exc.reason, exc.detail)
            return
        try:
            async with asyncio.timeout(self.connect_timeout):
                splice = await connect_tcp(target.host, target.port)
        except TimeoutError:
            stream.fail_open(OpenFailReason.TIMEOUT, f"{target.host}:{target.port}")
            return
        except OSError as exc:
            stream.fail_open(OpenFailReason.UNREACHABLE, f"{target.host}:{target.port}: {exc}")
            return
        # Copied by callbacks both ways (no task per direction); a local connection that
        # fails resets the stream, a half-close passes through as CLOSE / TCP write_eof.
        await splice.run(stream)
