"""One XML-RPC interface process of the simulated CCU (BidCos-RF or HmIP-RF).

Served with aiohttp, marshalled with :mod:`xmlrpc.client`. Methods, with the real names:
``system.listMethods``, ``system.methodHelp``, ``system.multicall``, ``init``, ``ping``,
``listDevices``, ``getDeviceDescription``, ``getParamsetDescription``, ``getParamset``,
``putParamset``, ``getValue``, ``setValue``. Faults carry the interface processes' codes:
-1 general error, -2 unknown instance, -3 unknown paramset, -5 unknown parameter or value.
"""

from __future__ import annotations

import logging
import xmlrpc.client
from collections.abc import Callable
from typing import Any
from xml.parsers.expat import ExpatError

from aiohttp import web

from simulator.ccu.callbacks import CallbackHub
from simulator.ccu.catalog import InterfaceName
from simulator.ccu.devices import DeviceStore, ValueChange
from simulator.ccu.errors import (
    InvalidParameterError,
    RpcFaultError,
    UnknownInstanceError,
    UnknownParamsetError,
)

__all__ = ["XmlRpcInterface"]

_LOGGER = logging.getLogger(__name__)


class XmlRpcInterface:
    """The methods of one interface and the aiohttp application that serves them."""

    def __init__(
        self,
        name: InterfaceName,
        store: DeviceStore,
        hub: CallbackHub,
        emit: Callable[[list[ValueChange]], None],
    ) -> None:
        self.name = name
        self.store = store
        self.hub = hub
        self.emit = emit
        self._methods: dict[str, Callable[..., Any]] = {
            "system.listMethods": self.list_methods,
            "system.methodHelp": self.method_help,
            "system.multicall": self.multicall,
            "init": self.init,
            "ping": self.ping,
            "listDevices": self.list_devices,
            "getDeviceDescription": self.get_device_description,
            "getParamsetDescription": self.get_paramset_description,
            "getParamset": self.get_paramset,
            "putParamset": self.put_paramset,
            "getValue": self.get_value,
            "setValue": self.set_value,
        }

    # -- transport -----------------------------------------------------------------------

    def application(self) -> web.Application:
        """An aiohttp app answering XML-RPC POSTs on any path (``/``, ``/RPC2``, ...)."""
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            params, method = xmlrpc.client.loads(body, use_builtin_types=True)
        except (ExpatError, ValueError, xmlrpc.client.Error) as exc:
            return _xml(xmlrpc.client.dumps(xmlrpc.client.Fault(-1, f"parse error: {exc}")))
        try:
            result = self.call(method or "", list(params))
            payload = xmlrpc.client.dumps((result,), methodresponse=True, allow_none=True)
        except RpcFaultError as fault:
            payload = xmlrpc.client.dumps(xmlrpc.client.Fault(fault.code, fault.message))
        return _xml(payload)

    def call(self, method: str, params: list[Any]) -> Any:
        """Dispatch one call; faults are raised as :class:`RpcFaultError`."""
        handler = self._methods.get(method)
        if handler is None:
            raise RpcFaultError(f"{method}: unknown method name")
        try:
            return handler(*params)
        except TypeError as exc:
            raise RpcFaultError(f"{method}: wrong arguments ({exc})") from exc

    # -- system --------------------------------------------------------------------------

    def list_methods(self) -> list[str]:
        return list(self._methods)

    def method_help(self, method: str) -> str:
        return f"{method} of the simulated {self.name} interface" if method in self._methods else ""

    def multicall(self, calls: list[dict[str, Any]]) -> list[Any]:
        results: list[Any] = []
        for entry in calls:
            try:
                results.append([self.call(str(entry["methodName"]), list(entry["params"]))])
            except RpcFaultError as fault:
                results.append({"faultCode": fault.code, "faultString": fault.message})
            except (KeyError, TypeError):
                results.append({"faultCode": -1, "faultString": "malformed multicall entry"})
        return results

    # -- registration --------------------------------------------------------------------

    def init(self, url: str, interface_id: str = "") -> str:
        if not url:
            raise RpcFaultError("init: url missing")
        if not url.startswith(("http://", "https://")):
            raise RpcFaultError(f"init: unsupported callback protocol in {url}")
        if interface_id:
            self.hub.register(url, interface_id)
        else:
            self.hub.unregister(url)
        return ""

    def ping(self, caller_id: str) -> bool:
        self.hub.pong(caller_id)
        return True

    # -- devices and values --------------------------------------------------------------

    def list_devices(self, _interface_id: str = "") -> list[dict[str, Any]]:
        return self.store.descriptions(self.name)

    def get_device_description(self, address: str) -> dict[str, Any]:
        self._own(address)
        return self.store.description(address)

    def get_paramset_description(self, address: str, key: str) -> dict[str, Any]:
        self._own(address)
        return self.store.paramset_description(address, key)

    def get_paramset(self, address: str, key: str) -> dict[str, Any]:
        self._own(address)
        return self.store.paramset(address, key)

    def put_paramset(self, address: str, key: str, values: dict[str, Any], *_: Any) -> str:
        self._own(address)
        if key == "MASTER":
            self.store.put_master(address, values)
        elif key == "VALUES":
            for name, value in values.items():
                self.emit(self.store.set_value(address, name, value))
        else:
            raise UnknownParamsetError(f"Unknown paramset {key} of {address}")
        return ""

    def get_value(self, address: str, key: str, *_: Any) -> Any:
        self._own(address)
        return self.store.get_value(address, key)

    def set_value(self, address: str, key: str, value: Any, *_: Any) -> str:
        self._own(address)
        self.emit(self.store.set_value(address, key, value))
        return ""

    def _own(self, address: str) -> None:
        if not isinstance(address, str):
            raise InvalidParameterError("address must be a string")
        if self.store.interface_of(address) is not self.name:
            raise UnknownInstanceError(f"Unknown instance {address}")


def _xml(payload: str) -> web.Response:
    return web.Response(body=payload.encode(), headers={"Content-Type": "text/xml; charset=utf-8"})
