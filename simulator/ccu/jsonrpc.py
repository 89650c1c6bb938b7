"""The CCU's JSON-RPC API at ``POST /api/homematic.cgi`` (JSON-RPC 1.1 as the CCU speaks it).

Request: ``{"method": "Interface.getValue", "params": {"_session_id_": "K09EriiE4t",
"interface": "HmIP-RF", "address": "000A18A9A64DAD:1", "valueKey": "LEVEL"}, "id": 1}``.

Answers, in the real CCU's shapes (``id`` only when the request had one)::

    {"id": 1, "version": "1.1", "result": 0.25, "error": null}
    {"id": 1, "version": "1.1", "result": null, "error": {"name": "JSONRPCError",
     "code": 400, "message": "access denied (\\"GUEST\\" needed 0)"}}

Error codes: 100 unparsable request, 102/103 no method/params (the CCU's own texts are the
wrong way round; kept), 400 access denied (missing, unknown or expired ``_session_id_``:
the message names the needed level and the caller's level), 401 unknown method (assumed;
not seen on a real CCU), 501 ``invalid credentials or too many sessions`` on a failed
``Session.login``, 501 with the interface's fault text when an ``Interface.*`` call fails.

``Session.renew`` answers ``true`` while the session lives and ``false`` otherwise; add-on
pages use it to check the ``sid`` of the WebUI URL (see :mod:`simulator.ccu.webui`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from simulator.ccu.catalog import InterfaceName
from simulator.ccu.config import CcuConfig
from simulator.ccu.devices import DeviceStore, ValueChange
from simulator.ccu.errors import RpcFaultError
from simulator.ccu.sessions import SessionStore, UserLevel

__all__ = ["SYSVARS", "JsonRpcApi", "JsonRpcError", "camel_case_keys"]

#: the system variables of the simulated CCU, as ``SysVar.getAll`` reports them
SYSVARS: tuple[Mapping[str, Any], ...] = (
    {"id": "950", "name": "Anwesenheit", "type": "LOGIC", "value": "true", "unit": "",
     "valueName0": "nicht anwesend", "valueName1": "anwesend", "valueList": "",
     "minValue": "", "maxValue": "", "isInternal": False, "description": "", "isLogic": True},
    {"id": "1236", "name": "Alarmzone 1", "type": "ALARM", "value": "false", "unit": "",
     "valueName0": "nicht ausgelöst", "valueName1": "ausgelöst", "valueList": "",
     "minValue": "", "maxValue": "", "isInternal": False, "description": "", "isLogic": True},
    {"id": "2001", "name": "Heizperiode", "type": "LIST", "value": "1", "unit": "",
     "valueName0": "", "valueName1": "", "valueList": "aus;an;automatisch",
     "minValue": "", "maxValue": "", "isInternal": False, "description": "", "isLogic": False},
    {"id": "2002", "name": "Stromzähler Offset", "type": "NUMBER", "value": "12.5",
     "unit": "kWh", "valueName0": "", "valueName1": "", "valueList": "",
     "minValue": "-100", "maxValue": "100", "isInternal": False, "description": "",
     "isLogic": False},
)  # fmt: skip

_Handler = Callable[[dict[str, Any]], Any]


class JsonRpcError(Exception):
    """An error answer: code and message as the CCU sends them."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _parse(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise JsonRpcError(100, f"invalid request ({exc})") from exc
    if not isinstance(payload, dict):
        raise JsonRpcError(100, "invalid request (not an object)")
    return payload


def camel_case_keys(description: Mapping[str, Any]) -> dict[str, Any]:
    """``{"PARENT_TYPE": …}`` → ``{"parentType": …}``: XML-RPC keys as the JSON API names them."""

    def convert(key: str) -> str:
        head, *rest = key.lower().split("_")
        return head + "".join(part.capitalize() for part in rest)

    return {convert(key): value for key, value in description.items()}


class JsonRpcApi:
    """Method table and aiohttp handler of ``/api/homematic.cgi``."""

    def __init__(
        self,
        config: CcuConfig,
        store: DeviceStore,
        sessions: SessionStore,
        ports: Callable[[], Mapping[InterfaceName, int]],
        emit: Callable[[list[ValueChange]], None],
    ) -> None:
        self.config = config
        self.store = store
        self.sessions = sessions
        self.ports = ports
        self.emit = emit
        guest, user = UserLevel.GUEST, UserLevel.USER
        self.methods: dict[str, tuple[UserLevel, _Handler]] = {
            "Session.login": (UserLevel.NONE, self._login),
            "Session.renew": (UserLevel.NONE, self._renew),
            "Session.logout": (UserLevel.NONE, self._logout),
            "system.listMethods": (UserLevel.NONE, self._list_methods),
            "CCU.getAuthEnabled": (UserLevel.NONE, lambda _: True),
            "CCU.getSerial": (guest, lambda _: config.serial),
            "CCU.getVersion": (guest, lambda _: config.version),
            "Interface.listInterfaces": (guest, self._list_interfaces),
            "Interface.listDevices": (guest, self._list_devices),
            "Interface.getValue": (guest, self._get_value),
            "Interface.setValue": (user, self._set_value),
            "Interface.getParamset": (guest, self._get_paramset),
            "SysVar.getAll": (guest, lambda _: [dict(sysvar) for sysvar in SYSVARS]),
        }

    async def handle(self, request: web.Request) -> web.Response:
        """Parse, check access, dispatch, answer (always HTTP 200, as the CCU does)."""
        answer: dict[str, Any] = {}
        try:
            payload = _parse(await request.read())
            if "id" in payload:
                answer["id"] = payload["id"]
            result = self.call(payload)
        except JsonRpcError as exc:
            answer |= {"version": "1.1", "result": None}
            answer["error"] = {"name": "JSONRPCError", "code": exc.code, "message": exc.message}
        else:
            answer |= {"version": "1.1", "result": result, "error": None}
        return web.Response(
            text=json.dumps(answer), content_type="application/json", charset="utf-8"
        )

    def call(self, payload: Mapping[str, Any]) -> Any:
        """One request object → result; errors raised as :class:`JsonRpcError`."""
        if "method" not in payload:
            raise JsonRpcError(102, "params not found in request")
        params = payload.get("params")
        if params is None:
            raise JsonRpcError(103, "method not found in request")
        if not isinstance(params, dict):
            raise JsonRpcError(100, "invalid request (params must be an object)")
        method = str(payload["method"])
        if method not in self.methods:
            raise JsonRpcError(401, f"method '{method}' not found")
        needed, handler = self.methods[method]
        if needed > UserLevel.NONE:
            session = self.sessions.get(str(params.get("_session_id_", "")))
            level = session.level if session else UserLevel.NONE
            if level < needed:
                raise JsonRpcError(400, f'access denied ("{needed.name}" needed {int(level)})')
        try:
            return handler(params)
        except RpcFaultError as fault:
            raise JsonRpcError(501, f"{fault.message} ({fault.code})") from fault
        except KeyError as exc:
            raise JsonRpcError(501, f"parameter {exc} missing") from exc

    # -- methods -------------------------------------------------------------------------

    def _login(self, params: dict[str, Any]) -> str:
        session = self.sessions.login(
            str(params.get("username", "")), str(params.get("password", ""))
        )
        if session is None:
            raise JsonRpcError(501, "invalid credentials or too many sessions")
        return session.sid

    def _renew(self, params: dict[str, Any]) -> bool:
        return self.sessions.get(str(params.get("_session_id_", ""))) is not None

    def _logout(self, params: dict[str, Any]) -> bool:
        self.sessions.logout(str(params.get("_session_id_", "")))
        return True

    def _list_methods(self, _: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"name": name, "level": level.name} for name, (level, _h) in self.methods.items()]

    def _list_interfaces(self, _: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {"name": str(name), "port": port, "info": f"{name} Interface"}
            for name, port in self.ports().items()
        ]

    def _interface(self, params: dict[str, Any]) -> InterfaceName:
        try:
            return InterfaceName(str(params["interface"]))
        except ValueError as exc:
            raise RpcFaultError(f"unknown interface {params['interface']!r}") from exc

    def _owned(self, params: dict[str, Any]) -> str:
        interface, address = self._interface(params), str(params["address"])
        if self.store.interface_of(address) is not interface:
            raise RpcFaultError(f"Unknown instance {address}")
        return address

    def _list_devices(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        interface = self._interface(params)
        return [camel_case_keys(entry) for entry in self.store.descriptions(interface)]

    def _get_value(self, params: dict[str, Any]) -> Any:
        return self.store.get_value(self._owned(params), str(params["valueKey"]))

    def _get_paramset(self, params: dict[str, Any]) -> Any:
        return self.store.paramset(self._owned(params), str(params.get("paramsetKey", "VALUES")))

    def _set_value(self, params: dict[str, Any]) -> bool:
        address, key = self._owned(params), str(params["valueKey"])
        value = params["value"]
        if params.get("type") in ("double", "int") and isinstance(value, str):
            value = value.strip()
        self.emit(self.store.set_value(address, key, value))
        return True
