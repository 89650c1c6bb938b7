"""The OpenAPI document matches the running app's ``/api/v1`` routes."""

from __future__ import annotations

from pathlib import Path

from tests.support.gateway import gateway_harness
from tunnel.clock import ManualClock

MINE = {
    ("get", "/api/v1/openapi.json"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/accounts/{account_id}"),
    ("get", "/api/v1/accounts/{account_id}/customer-data"),
    ("put", "/api/v1/accounts/{account_id}/customer-data"),
    ("get", "/api/v1/delegations"),
    ("post", "/api/v1/delegations"),
    ("delete", "/api/v1/delegations/{delegation_id}"),
    ("get", "/api/v1/devices/{slug}"),
    ("get", "/api/v1/devices/{slug}/windows"),
    ("get", "/api/v1/windows/{window_id}"),
    ("post", "/api/v1/windows"),
    ("post", "/api/v1/windows/{window_id}/end"),
}


async def test_document_lists_exactly_the_served_api_routes(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        async with gw.client() as http, http.get("/api/v1/openapi.json") as resp:
            assert resp.status == 200
            doc = await resp.json()
        assert doc["openapi"].startswith("3.")
        documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
        served = set()
        for route in gw.gateway.runner.app.router.routes():
            info = route.resource.get_info() if route.resource else {}
            path = str(info.get("path") or info.get("formatter") or "")
            if path.startswith("/api/v1") and route.method not in {"HEAD", "*"}:
                served.add((route.method.lower(), path))
        assert documented == served
        assert served >= MINE
        for method, path in sorted(served):  # every served route is described, not only MINE
            operation = doc["paths"][path][method]
            assert not operation.get("x-undocumented"), (method, path)
            assert operation["summary"]
            assert any(code.startswith("2") for code in operation["responses"])
            # a success is never described as the error shape (201 once was: schemathesis
            # found every created plant "violating" its own document)
            errors = [
                code
                for code, answer in operation["responses"].items()
                if code.startswith("2") and "components/schemas/Error" in str(answer)
            ]
            assert errors == [], (method, path)
            params = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert params == {seg.strip("{}") for seg in path.split("/") if seg.startswith("{")}
