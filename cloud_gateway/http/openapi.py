"""The OpenAPI document of ``/api/v1``, served at ``/api/v1/openapi.json``.

Areas describe their operations with :meth:`OpenApi.add` (usually in their ``setup``). The
document is built from the running app's routes: every ``/api/v1`` route appears, and a route
nobody described yet is listed with ``x-undocumented: true`` and its handler's docstring, so
the document never claims less or more than the app serves (a test checks both).
"""

from __future__ import annotations

import inspect
from typing import Any

from aiohttp import web

from cloud_gateway.http.errors import error_responses

__all__ = ["OpenApi", "answers", "json_body", "no_content", "ok", "path_param"]

_PREFIX = "/api/v1"


def path_param(name: str, schema_type: str = "integer") -> dict[str, Any]:
    """A path parameter description."""
    return {"name": name, "in": "path", "required": True, "schema": {"type": schema_type}}


def json_body(
    types: dict[str, str],
    required: list[str] | None = None,
    *,
    properties: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A JSON request body of flat properties (name → JSON type, or full schemas in
    ``properties``)."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {k: {"type": v} for k, v in types.items()} | (properties or {}),
    }
    if required:
        schema["required"] = required
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_MALFORMED = "malformed request: unreadable body, invalid JSON or parameters"


def ok(description: str, *extra: int) -> dict[str, Any]:
    """Responses: 200 plus the usual refusals and any ``extra`` status codes (a 2xx among them
    answers like 200, e.g. 201 for a created object; any other is a refusal)."""
    responses: dict[str, Any] = {
        "200": {"description": description},
        "400": _refusal(_MALFORMED),
        "401": _refusal("not logged in"),
        "403": _refusal("password expired, CSRF token missing, or not allowed"),
        "404": _refusal("no such object for this account"),
        "412": _refusal("new terms of use must be accepted in the portal first"),
    }
    for code in extra:
        success = 200 <= code < 300
        responses[str(code)] = (
            {"description": description} if success else _refusal("see the error field")
        )
    return responses


def no_content(description: str, *extra: int) -> dict[str, Any]:
    """Responses of an operation that answers 204 without a body: as :func:`ok`, 204 for 200."""
    responses = ok(description, *extra)
    del responses["200"]
    return {"204": {"description": description}} | responses


def answers(description: str, *codes: int) -> dict[str, Any]:
    """Responses of an operation without a session (webhooks): 200 and only ``codes``."""
    return {"200": {"description": description}} | {
        str(code): _refusal("see the error field") for code in codes
    }


def _refusal(description: str) -> dict[str, Any]:
    """A refusal in the one JSON error shape."""
    schema = {"$ref": "#/components/schemas/Error"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


class OpenApi:
    """Operation descriptions, keyed by path template and method."""

    def __init__(self, title: str, version: str) -> None:
        self._title = title
        self._version = version
        self._operations: dict[tuple[str, str], dict[str, Any]] = {}

    def add(self, method: str, path: str, operation: dict[str, Any]) -> None:
        """Describe ``method`` ``path`` (an OpenAPI operation object)."""
        self._operations[(method.lower(), path)] = operation

    def document(self, app: web.Application) -> dict[str, Any]:
        """The document for the routes ``app`` serves."""
        paths: dict[str, dict[str, Any]] = {}
        for route in app.router.routes():
            info = route.resource.get_info() if route.resource else {}
            path = str(info.get("path") or info.get("formatter") or "")
            method = route.method.lower()
            if not path.startswith(_PREFIX) or method in {"head", "*"}:
                continue
            operation = self._operations.get((method, path))
            if operation is None:
                doc = inspect.getdoc(route.handler) or ""
                operation = {
                    "summary": doc.splitlines()[0] if doc else path,
                    "x-undocumented": True,
                    "responses": {"200": {"description": "OK"}},
                }
            if "400" not in operation.get("responses", {}):
                # the malformed-input boundary answers 400 on every route
                responses = {"400": _refusal(_MALFORMED), **operation.get("responses", {})}
                operation = operation | {"responses": responses}
            paths.setdefault(path, {})[method] = operation
        return {
            "openapi": "3.1.0",
            "info": {"title": self._title, "version": self._version},
            "components": {
                "schemas": error_responses(),
                "securitySchemes": {
                    "session": {"type": "apiKey", "in": "cookie", "name": "__Host-session"},
                    "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"},
                },
            },
            "security": [{"session": []}],
            "paths": dict(sorted(paths.items())),
        }
