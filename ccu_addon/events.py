"""CCU events: an XML-RPC callback server on loopback, registered with each interface.

The add-on calls ``init(callback_url, interface_id)`` on every configured interface
(BidCos-RF, HmIP-RF). The CCU then calls back, as it does for any client: ``listDevices``,
``newDevices``, ``event`` (mostly batched in ``system.multicall``), ``deleteDevices``, …
Selected events (by parameter key) go to a sink that forwards them as telemetry.

Liveness: :meth:`CcuEventBridge.check` calls ``ping(interface_id)`` on every interface; a
live registration answers with an event ``CENTRAL``/``PONG``. A failed ping or a missing
PONG within ``pong_timeout`` means the CCU restarted (or dropped us): the bridge registers
again. :meth:`CcuEventBridge.run` does that every ``check_interval`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ccu_addon.errors import HttpClientError
from ccu_addon.httpserver import Request, Response, Router
from ccu_addon.xmlrpc_codec import Fault, dumps_call, dumps_fault, dumps_response, loads
from tunnel.clock import Clock
from tunnel.httpclient import fetch

__all__ = ["DEFAULT_KEYS", "MAX_CALLBACK_BODY", "CcuEvent", "CcuEventBridge"]

_LOGGER = logging.getLogger(__name__)
_TIMEOUT = 10.0
"""Seconds an XML-RPC call to the CCU may take."""
MAX_CALLBACK_BODY = 4 * 1024 * 1024
"""Largest callback the server takes (``newDevices`` of a big installation), bytes."""

DEFAULT_KEYS: frozenset[str] = frozenset(
    {"STATE", "LEVEL", "ACTUAL_TEMPERATURE", "SET_POINT_TEMPERATURE", "POWER",
     "ENERGY_COUNTER", "HUMIDITY", "LOWBAT", "LOW_BAT", "UNREACH", "PRESS_SHORT", "PRESS_LONG"}
)  # fmt: skip
"""Parameters forwarded by default."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CcuEvent:
    """One value change reported by the CCU."""

    interface: str
    """The interface's URL (which radio)."""
    address: str
    """Channel address, e.g. ``000A18A9A64DAD:1``."""
    key: str
    """Parameter, e.g. ``ACTUAL_TEMPERATURE``."""
    value: Any
    """The new value (bool, int, float or str)."""
    at: datetime
    """When the add-on received it."""


class CcuEventBridge:
    """Registration with the CCU's interfaces and the callback server they call."""

    def __init__(
        self,
        *,
        interfaces: Iterable[str],
        clock: Clock,
        sink: Callable[[list[CcuEvent]], None],
        keys: frozenset[str] = DEFAULT_KEYS,
        pong_timeout: float = 5.0,
    ) -> None:
        self._ids = {url: f"cloudconnector-{n}" for n, url in enumerate(interfaces)}
        self._urls = {ident: url for url, ident in self._ids.items()}
        self._clock = clock
        self._sink = sink
        self._keys = keys
        self._pong_timeout = pong_timeout
        self._pongs: dict[str, asyncio.Event] = {i: asyncio.Event() for i in self._urls}
        self._known: dict[str, set[str]] = {i: set() for i in self._urls}
        self.callback_url = ""
        """Where the CCU calls back; set by the daemon once the server listens."""
        self.registrations = 0
        """How many ``init`` calls succeeded (re-registrations included)."""
        self._methods: dict[str, Callable[..., Any]] = {
            "system.listMethods": lambda *_: list(self._methods),
            "system.multicall": self._multicall,
            "event": self._event,
            "listDevices": lambda ident="", *_: [
                {"ADDRESS": a, "VERSION": 1} for a in sorted(self._known.get(ident, ()))
            ],
            "newDevices": self._new_devices,
            "deleteDevices": self._delete_devices,
            "updateDevice": lambda *_: "",
            "replaceDevice": lambda *_: "",
            "readdedDevice": lambda *_: "",
        }

    # -- callback server -----------------------------------------------------------------

    def routes(self) -> Router:
        """The callback server's routes: ``POST`` on any path (serve them on loopback)."""
        router = Router()
        router.add("POST", "*", self.handle)
        return router

    async def handle(self, request: Request) -> Response:
        """One XML-RPC call from the CCU; a failed call is answered with a fault."""
        try:
            params, method = loads(request.body)
            body = dumps_response(self._dispatch(method or "", params))
        except Fault as fault:
            body = dumps_fault(fault.code, fault.string)
        except (ValueError, TypeError, OverflowError) as exc:
            body = dumps_fault(-1, f"bad call: {exc}")
        return Response(body=body, content_type="text/xml")

    def _dispatch(self, method: str, params: tuple[Any, ...]) -> Any:
        handler = self._methods.get(method)
        if handler is None:
            raise Fault(-1, f"{method}: unknown method")
        return handler(*params)

    def _multicall(self, calls: list[dict[str, Any]]) -> list[Any]:
        results: list[Any] = []
        for call in calls:
            handler = self._methods.get(str(call.get("methodName")))
            if handler is None or handler == self._multicall:
                results.append({"faultCode": -1, "faultString": "unknown method"})
                continue
            results.append([handler(*call.get("params", []))])
        return results

    def _event(self, ident: str, address: str, key: str, value: Any, *_: Any) -> str:
        if address == "CENTRAL" and key == "PONG":
            if (pong := self._pongs.get(str(value))) is not None:
                pong.set()
            return ""
        if key in self._keys and ident in self._urls:
            event = CcuEvent(
                interface=self._urls[ident], address=address, key=key, value=value,
                at=self._clock.now(),
            )  # fmt: skip
            self._sink([event])
        return ""

    def _new_devices(self, ident: str, descriptions: list[dict[str, Any]], *_: Any) -> str:
        self._known.setdefault(ident, set()).update(str(d.get("ADDRESS")) for d in descriptions)
        return ""

    def _delete_devices(self, ident: str, addresses: list[str], *_: Any) -> str:
        self._known.setdefault(ident, set()).difference_update(addresses)
        return ""

    # -- registration --------------------------------------------------------------------

    async def _call(self, url: str, method: str, *params: Any) -> Any:
        body = dumps_call(method, params)
        resp = await fetch("POST", url, body=body, content_type="text/xml", timeout=_TIMEOUT)
        resp.raise_for_status()
        result, _ = loads(resp.body)
        return result[0] if result else None

    async def register(self, url: str) -> bool:
        """``init(callback_url, interface_id)`` on one interface; False if it failed."""
        try:
            await self._call(url, "init", self.callback_url, self._ids[url])
        except (HttpClientError, Fault, ValueError) as exc:
            _LOGGER.warning("cannot register with %s: %r", url, exc)
            return False
        self.registrations += 1
        _LOGGER.info("registered for events with %s", url)
        return True

    async def _alive(self, url: str) -> bool:
        ident = self._ids[url]
        pong = self._pongs[ident]
        pong.clear()
        try:
            await self._call(url, "ping", ident)
            async with asyncio.timeout(self._pong_timeout):
                await pong.wait()
        except (HttpClientError, TimeoutError, Fault, ValueError):
            return False
        return True

    async def check(self) -> None:
        """Ping every interface; register again where no PONG comes back."""
        for url in self._ids:
            if not await self._alive(url):
                await self.register(url)

    async def run(self, check_interval: float = 60.0) -> None:
        """Register, then check every ``check_interval`` seconds, until cancelled."""
        for url in self._ids:
            await self.register(url)
        while True:
            await asyncio.sleep(check_interval)
            await self.check()

    async def unregister(self) -> None:
        """``init(callback_url)`` without an id: the CCU forgets us (at shutdown)."""
        for url in self._ids:
            try:
                await self._call(url, "init", self.callback_url)
            except (HttpClientError, Fault, ValueError):
                _LOGGER.debug("could not unregister from %s", url)
