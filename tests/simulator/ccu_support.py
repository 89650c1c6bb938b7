"""Test helpers for the simulated CCU: a real XML-RPC callback server and small clients."""

from __future__ import annotations

import asyncio
import xmlrpc.client
from typing import Any

import aiohttp
from aiohttp import web

from simulator.ccu.callbacks import xmlrpc_call

__all__ = ["CallbackServer", "call", "jsonrpc"]

WAIT = 5.0


async def call(http: aiohttp.ClientSession, url: str, method: str, *params: Any) -> Any:
    """One XML-RPC call to the simulated CCU."""
    return await xmlrpc_call(http, url, method, *params)


async def jsonrpc(
    http: aiohttp.ClientSession, base_url: str, method: str, request_id: Any = 1, **params: Any
) -> dict[str, Any]:
    """One JSON-RPC call to ``/api/homematic.cgi``; returns the whole answer object."""
    body: dict[str, Any] = {"method": method, "params": params}
    if request_id is not None:
        body["id"] = request_id
    async with http.post(f"{base_url}/api/homematic.cgi", json=body) as response:
        assert response.status == 200
        assert response.content_type == "application/json"
        answer: dict[str, Any] = await response.json()
        return answer


class CallbackServer:
    """What a CCU client (the add-on, Home Assistant) runs to receive events.

    ``multicall=False`` answers ``system.multicall`` with a fault, like a receiver that only
    implements ``event``; ``known`` are the addresses its ``listDevices`` reports.
    """

    def __init__(self, *, multicall: bool = True, known: tuple[str, ...] = ()) -> None:
        self.multicall = multicall
        self.known = known
        self.calls: asyncio.Queue[tuple[str, list[Any]]] = asyncio.Queue()
        self.methods_seen: list[str] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/RPC2"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        loaded, method = xmlrpc.client.loads(await request.read(), use_builtin_types=True)
        params: tuple[Any, ...] = loaded
        self.methods_seen.append(method or "")
        result: Any = ""
        if method == "system.multicall":
            if not self.multicall:
                return _xml(xmlrpc.client.dumps(xmlrpc.client.Fault(-32601, "no multicall")))
            for entry in params[0]:
                self.calls.put_nowait((entry["methodName"], list(entry["params"])))
            result = [[""] for _ in params[0]]
        elif method == "listDevices":
            result = [{"ADDRESS": address, "VERSION": 1} for address in self.known]
        else:
            self.calls.put_nowait((method or "", list(params)))
        return _xml(xmlrpc.client.dumps((result,), methodresponse=True))

    async def next_call(self, method: str) -> list[Any]:
        """Parameters of the next call of ``method`` (others are skipped)."""
        async with asyncio.timeout(WAIT):
            while True:
                name, params = await self.calls.get()
                if name == method:
                    return params

    async def next_event(self, address: str, key: str) -> list[Any]:
        """Parameters of the next ``event`` for ``address``/``key``."""
        async with asyncio.timeout(WAIT):
            while True:
                params = await self.next_call("event")
                if params[1:3] == [address, key]:
                    return params


def _xml(payload: str) -> web.Response:
    return web.Response(body=payload.encode(), headers={"Content-Type": "text/xml"})
