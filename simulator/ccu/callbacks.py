"""Callback registrations of one XML-RPC interface and the event delivery to them.

A client calls ``init(url, interface_id)``; like a real CCU, the interface then asks the
client's ``listDevices(interface_id)`` which devices it knows, sends the others with
``newDevices(interface_id, descriptions)``, and from then on delivers every value change as
``event(interface_id, address, key, value)``. Events are batched into ``system.multicall``
calls as the real CCU does; a receiver that answers ``system.multicall`` with a fault gets
plain ``event`` calls from then on. After ``callback_failure_limit`` failed deliveries in a
row the registration is dropped (the client has to call ``init`` again).
"""

from __future__ import annotations

import asyncio
import logging
import xmlrpc.client
from collections.abc import Callable, Iterable
from typing import Any

import aiohttp

from simulator.ccu.catalog import InterfaceName
from simulator.ccu.devices import ValueChange

__all__ = ["CallbackHub", "xmlrpc_call"]

_LOGGER = logging.getLogger(__name__)
_BATCH_LIMIT = 100
_TIMEOUT = aiohttp.ClientTimeout(total=10)
_Call = tuple[str, tuple[Any, ...]]


async def xmlrpc_call(http: aiohttp.ClientSession, url: str, method: str, *params: Any) -> Any:
    """One XML-RPC call over ``http``; a fault is raised as :class:`xmlrpc.client.Fault`."""
    body = xmlrpc.client.dumps(params, methodname=method, allow_none=True).encode()
    headers = {"Content-Type": "text/xml"}
    async with http.post(url, data=body, headers=headers, timeout=_TIMEOUT) as response:
        response.raise_for_status()
        payload = await response.read()
    result, _ = xmlrpc.client.loads(payload, use_builtin_types=True)
    return result[0] if result else None


class _Receiver:
    """One registered callback: a queue of calls and the task that delivers them."""

    def __init__(self, hub: CallbackHub, url: str, interface_id: str) -> None:
        self.hub = hub
        self.url = url
        self.interface_id = interface_id
        self.queue: asyncio.Queue[_Call] = asyncio.Queue()
        self.plain_events = False
        self.failures = 0
        self.task = asyncio.create_task(self._run(), name=f"ccu-callback-{interface_id}")

    async def _run(self) -> None:
        await self._announce_devices()
        while self.failures < self.hub.failure_limit:
            batch = [await self.queue.get()]
            while len(batch) < _BATCH_LIMIT and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            await self._deliver(batch)
        _LOGGER.warning("dropping callback %s (%s): unreachable", self.interface_id, self.url)
        self.hub.forget(self)

    async def _announce_devices(self) -> None:
        known: set[str] = set()
        try:
            listed = await self._call("listDevices", self.interface_id)
            known = {str(entry.get("ADDRESS")) for entry in listed or () if isinstance(entry, dict)}
        except xmlrpc.client.Fault:
            _LOGGER.debug("callback %s has no listDevices; sending all", self.interface_id)
        except (aiohttp.ClientError, OSError, TimeoutError, xmlrpc.client.Error) as exc:
            self._failed(exc)
        new = [entry for entry in self.hub.describe() if entry["ADDRESS"] not in known]
        if new:
            await self._deliver([("newDevices", (self.interface_id, new))])

    async def _deliver(self, batch: list[_Call]) -> None:
        try:
            events = [call for call in batch if call[0] == "event"]
            if events and not self.plain_events:
                try:
                    await self._call("system.multicall", [_multicall_entry(c) for c in events])
                    batch = [call for call in batch if call[0] != "event"]
                except xmlrpc.client.Fault:
                    _LOGGER.info("callback %s takes plain events", self.interface_id)
                    self.plain_events = True
            for method, params in batch:
                try:
                    await self._call(method, *params)
                except xmlrpc.client.Fault as fault:
                    _LOGGER.warning("callback %s: %s failed: %s", self.interface_id, method, fault)
        except (aiohttp.ClientError, OSError, TimeoutError, xmlrpc.client.Error) as exc:
            self._failed(exc)
            return
        self.failures = 0

    async def _call(self, method: str, *params: Any) -> Any:
        return await xmlrpc_call(self.hub.http, self.url, method, *params)

    def _failed(self, exc: BaseException) -> None:
        self.failures += 1
        _LOGGER.warning(
            "callback %s (%s) failed (%d in a row): %r",
            self.interface_id,
            self.url,
            self.failures,
            exc,
        )


def _multicall_entry(call: _Call) -> dict[str, Any]:
    return {"methodName": call[0], "params": list(call[1])}


class CallbackHub:
    """The registrations of one interface, keyed by the client's interface id."""

    def __init__(
        self,
        interface: InterfaceName,
        http: aiohttp.ClientSession,
        describe: Callable[[], list[dict[str, Any]]],
        *,
        failure_limit: int,
    ) -> None:
        self.interface = interface
        self.http = http
        self.describe = describe
        self.failure_limit = failure_limit
        self._receivers: dict[str, _Receiver] = {}

    @property
    def registrations(self) -> dict[str, str]:
        """Interface id → callback URL of every live registration."""
        return {key: receiver.url for key, receiver in self._receivers.items()}

    def register(self, url: str, interface_id: str) -> None:
        """``init(url, interface_id)``: a new or replaced registration."""
        old = self._receivers.pop(interface_id, None)
        if old is not None:
            old.task.cancel()
        self._receivers[interface_id] = _Receiver(self, url, interface_id)
        _LOGGER.info("%s: callback %s registered at %s", self.interface, interface_id, url)

    def unregister(self, url: str) -> None:
        """``init(url)`` without an interface id: drop every registration of ``url``."""
        for key, receiver in list(self._receivers.items()):
            if receiver.url == url:
                del self._receivers[key]
                receiver.task.cancel()
                _LOGGER.info("%s: callback %s unregistered", self.interface, key)

    def forget(self, receiver: _Receiver) -> None:
        if self._receivers.get(receiver.interface_id) is receiver:
            del self._receivers[receiver.interface_id]

    def publish(self, changes: Iterable[ValueChange]) -> None:
        """Queue an ``event`` for every registration and every change of this interface."""
        for change in changes:
            if change.interface is not self.interface:
                continue
            for key, receiver in self._receivers.items():
                receiver.queue.put_nowait(
                    ("event", (key, change.address, change.key, change.value))
                )

    def announce(self, descriptions: list[dict[str, Any]]) -> None:
        """Queue ``newDevices`` for every registration (a device was paired)."""
        for key, receiver in self._receivers.items():
            receiver.queue.put_nowait(("newDevices", (key, descriptions)))

    def pong(self, caller_id: str) -> None:
        """Answer ``ping(caller_id)``: a ``PONG`` event of the ``CENTRAL`` pseudo device."""
        for key, receiver in self._receivers.items():
            receiver.queue.put_nowait(("event", (key, "CENTRAL", "PONG", caller_id)))

    async def close(self) -> None:
        """Stop every delivery; registrations are lost, as on a real restart."""
        receivers = list(self._receivers.values())
        self._receivers.clear()
        for receiver in receivers:
            receiver.task.cancel()
        await asyncio.gather(*(r.task for r in receivers), return_exceptions=True)
