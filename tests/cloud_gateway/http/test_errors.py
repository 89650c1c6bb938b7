"""One JSON error shape and one set of codes across every area's ``/api/v1`` routes."""

from __future__ import annotations

from pathlib import Path

from cloud_gateway.http.errors import ErrorCode
from tests.support.gateway import gateway_harness
from tunnel.clock import ManualClock

#: one route of each area that answers JSON: accounts, plants, entitlements, operator
ANONYMOUS = [
    ("get", "/api/v1/me"),
    ("get", "/api/v1/plants"),
    ("get", "/api/v1/windows/1"),
    ("get", "/api/v1/operator/tunnels"),
]


async def test_every_area_refuses_an_anonymous_caller_with_the_same_code(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw, gw.client() as http:
        for method, path in ANONYMOUS:
            async with http.request(method, path) as resp:
                assert (path, resp.status) == (path, 401)
                assert resp.content_type == "application/json"
                assert await resp.json() == {"error": ErrorCode.NOT_LOGGED_IN.value}, path


async def test_the_openapi_document_names_the_error_shape_and_every_code(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        async with gw.client() as http, http.get("/api/v1/openapi.json") as resp:
            doc = await resp.json()
        schemas = doc["components"]["schemas"]
        assert schemas["ErrorCode"]["enum"] == [c.value for c in ErrorCode]
        assert schemas["Error"]["required"] == ["error"]
        refusal = doc["paths"]["/api/v1/plants"]["get"]["responses"]["401"]
        ref = refusal["content"]["application/json"]["schema"]["$ref"]
        assert ref == "#/components/schemas/Error"


async def test_the_middleware_maps_domain_errors_to_the_one_shape() -> None:
    from aiohttp import web  # noqa: PLC0415
    from aiohttp.test_utils import TestClient, TestServer  # noqa: PLC0415

    from cloud_gateway.errors import AccessDeniedError, ConflictError, NotFoundError  # noqa: PLC0415
    from cloud_gateway.http.errors import domain_errors  # noqa: PLC0415
    from cloud_gateway.plants.errors import InvalidPlantError  # noqa: PLC0415

    raised: dict[str, Exception] = {
        "missing": NotFoundError("plant 3"),
        "denied": AccessDeniedError("plant 3"),
        "conflict": ConflictError("serial"),
        "invalid": InvalidPlantError({"name": "plants.err.too_long"}),
    }

    async def handler(request: web.Request) -> web.Response:
        raise raised[request.match_info["case"]]

    app = web.Application(middlewares=[domain_errors])
    app.router.add_get("/api/v1/{case}", handler)
    expected = {
        "missing": (404, {"error": "not_found"}),
        "denied": (404, {"error": "not_found"}),
        "conflict": (409, {"error": "conflict"}),
        "invalid": (422, {"error": "invalid", "fields": {"name": "plants.err.too_long"}}),
    }
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
        for case, (status, body) in expected.items():
            resp = await client.get(f"/api/v1/{case}")
            assert (case, resp.status, await resp.json()) == (case, status, body)
