"""The one JSON error shape of the gateway's web API and the one set of error codes.

Every JSON refusal is ``{"error": <ErrorCode>, ...extra}`` with the status of its code's
family. :func:`refuse` builds one to raise (:func:`error_response` one to return);
:func:`domain_errors` is the one middleware that maps the domain's errors (raised by
services and repositories) to HTTP under ``/api/``:

- ``NotFoundError`` -> 404 ``not_found``
- ``AccessDeniedError`` -> 404 ``not_found`` (another tenant's object is never revealed)
- ``ConflictError`` -> 409 ``conflict``
- ``InvalidPlantError`` -> 422 ``invalid`` with ``fields`` (field -> message key)

:func:`malformed_input` maps what unparseable input raises (``UnicodeError``,
``OverflowError``, ``RecursionError``) to 400 everywhere, pages included.

:func:`error_responses` describes the same codes for the OpenAPI document. Pages (everything
outside ``/api/``) get styled error pages in the reader's language from
:func:`cloud_gateway.http.chrome.page_chrome` instead.
"""

from __future__ import annotations

import codecs
import json
import logging
import sysconfig
import traceback
from collections.abc import Awaitable, Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import hdrs, web
from aiohttp.helpers import parse_mimetype

from cloud_gateway.errors import AccessDeniedError, ConflictError, NotFoundError
from cloud_gateway.plants.errors import InvalidPlantError

__all__ = [
    "MALFORMED_INPUT",
    "MAX_ID",
    "ErrorCode",
    "domain_errors",
    "error_response",
    "error_responses",
    "from_input",
    "malformed_input",
    "refuse",
]

_API_PREFIX = "/api/"

_LOGGER = logging.getLogger(__name__)

#: what malformed client input raises deep in parsing and the stores: undecodable bytes in
#: bodies, cookies and headers; integers beyond 64 bits as ids; JSON nested too deep
MALFORMED_INPUT: tuple[type[Exception], ...] = (UnicodeError, OverflowError, RecursionError)

#: where request input is parsed: aiohttp and the web layer (a text error raised there is the
#: client's input; raised anywhere else, e.g. reading a file of the server's, it is a 500)
_INPUT_PARSERS = (str(Path(aiohttp.__file__).parent), str(Path(__file__).parent))
_STDLIB = sysconfig.get_paths()["stdlib"]


def from_input(exc: BaseException) -> bool:
    """Whether ``exc`` came out of parsing the request: its innermost frame outside the
    standard library is aiohttp's or the web layer's. Overflows and runaway recursion are
    the input's in any case (ids and nesting only a client chooses)."""
    if not isinstance(exc, UnicodeError):
        return True
    frames = [f.f_code.co_filename for f, _ in traceback.walk_tb(exc.__traceback__)][1:]
    own = [name for name in frames if not name.startswith(_STDLIB)]
    return bool(own) and own[-1].startswith(_INPUT_PARSERS)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ErrorCode(StrEnum):
    """The machine-readable ``error`` of every JSON refusal."""

    INVALID_JSON = "invalid_json"
    """400: the body is not a JSON object."""
    NOT_LOGGED_IN = "not_logged_in"
    """401: no valid session."""
    PAYMENT_REQUIRED = "payment_required"
    """402: the plant has no valid trial or licence (``reason``, ``plant_id``)."""
    CSRF_TOKEN_INVALID = "csrf_token_invalid"  # noqa: S105 - an error code
    """403: a write without the session's ``X-CSRF-Token``."""
    PASSWORD_EXPIRED = "password_expired"  # noqa: S105 - an error code
    """403: the password must be changed in the portal first."""
    OPERATOR_ROLE_REQUIRED = "operator_role_required"
    """403: only operators may do this."""
    NOT_FOUND = "not_found"
    """404: no such object for this account (or not allowed; existence is not revealed)."""
    CONFLICT = "conflict"
    """409: the change conflicts with the current state (e.g. a serial already taken)."""
    TERMS_NOT_ACCEPTED = "terms_not_accepted"
    """412: new terms of use must be accepted in the portal first."""
    INVALID = "invalid"
    """422: fields failed validation (``fields``: field -> message key)."""
    INVALID_REQUEST = "invalid_request"
    """400: the request body is not what the operation expects (``detail``)."""
    INVALID_CSR = "invalid_csr"
    """400: a device's certificate signing request is unusable (``detail``)."""
    INVALID_DATE = "invalid_date"
    """400: a date parameter is not YYYY-MM-DD."""
    INVALID_DEVICE_ID = "invalid_device_id"
    """400: the device id is not a number."""
    INVALID_PLANT_ID = "invalid_plant_id"
    """400: the plant id is not a number."""
    INVALID_KIND = "invalid_kind"
    """400: unknown kind."""
    INVALID_SUBJECT = "invalid_subject"
    """400: unknown entitlement subject."""
    MISSING_FIELDS = "missing_fields"
    """400: required fields are missing."""
    END_BEFORE_START = "end_before_start"
    """400: a window ends before it starts."""
    NO_SUCH_INSTALLER = "no_such_installer"
    """400: the named installer does not exist."""
    SERIAL_TAKEN = "serial_taken"
    """409: the serial belongs to another plant."""
    WRONG_ACTIVATION_CODE = "wrong_activation_code"
    """422: the activation code does not fit the serial."""
    CORRECTION_NEEDED = "correction_needed"
    """422: spreadsheet rows need correcting (``rows``)."""
    INVALID_START = "invalid_start"
    """400: ``start`` is not an ISO 8601 instant."""
    NAIVE_START = "naive_start"
    """400: ``start`` lacks a UTC offset."""
    INVALID_END = "invalid_end"
    """400: ``end`` is not an ISO 8601 instant."""
    NAIVE_END = "naive_end"
    """400: ``end`` lacks a UTC offset."""
    INVALID_AT = "invalid_at"
    """400: ``at`` is not an ISO 8601 instant."""
    NAIVE_AT = "naive_at"
    """400: ``at`` lacks a UTC offset."""
    RATE_LIMITED = "rate_limited"
    """429: too many attempts (``retry_after`` seconds)."""
    PAYLOAD_TOO_LARGE = "payload_too_large"
    """413: the uploaded file is larger than the operation accepts (``message``)."""
    PRECHECK_REFUSED = "precheck_refused"
    """422: the service provider refused the site (``reason``, ``message``); nothing ordered."""
    PROVIDER_UNAVAILABLE = "provider_unavailable"
    """503: the service provider did not answer in time or failed (``message``); retry later."""
    SECOND_FACTOR_REQUIRED = "second_factor_required"
    """403: staff must pass the console's second factor (``/console/2fa``) first."""


_STATUS = {
    ErrorCode.INVALID_JSON: 400,
    ErrorCode.NOT_LOGGED_IN: 401,
    ErrorCode.PAYMENT_REQUIRED: 402,
    ErrorCode.CSRF_TOKEN_INVALID: 403,
    ErrorCode.PASSWORD_EXPIRED: 403,
    ErrorCode.OPERATOR_ROLE_REQUIRED: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.TERMS_NOT_ACCEPTED: 412,
    ErrorCode.INVALID: 422,
    ErrorCode.INVALID_REQUEST: 400,
    ErrorCode.INVALID_CSR: 400,
    ErrorCode.INVALID_DATE: 400,
    ErrorCode.INVALID_DEVICE_ID: 422,
    ErrorCode.INVALID_PLANT_ID: 422,
    ErrorCode.INVALID_KIND: 400,
    ErrorCode.INVALID_SUBJECT: 422,
    ErrorCode.MISSING_FIELDS: 400,
    ErrorCode.END_BEFORE_START: 400,
    ErrorCode.NO_SUCH_INSTALLER: 400,
    ErrorCode.SERIAL_TAKEN: 409,
    ErrorCode.WRONG_ACTIVATION_CODE: 422,
    ErrorCode.CORRECTION_NEEDED: 422,
    ErrorCode.INVALID_START: 400,
    ErrorCode.NAIVE_START: 400,
    ErrorCode.INVALID_END: 400,
    ErrorCode.NAIVE_END: 400,
    ErrorCode.INVALID_AT: 400,
    ErrorCode.NAIVE_AT: 400,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.PRECHECK_REFUSED: 422,
    ErrorCode.PROVIDER_UNAVAILABLE: 503,
    ErrorCode.SECOND_FACTOR_REQUIRED: 403,
}


def refuse(code: ErrorCode, **extra: object) -> web.HTTPException:
    """The JSON refusal ``{"error": code, ...extra}`` with its code's status, to raise."""
    exc = web.HTTPException(
        text=json.dumps({"error": code.value, **extra}), content_type="application/json"
    )
    exc.set_status(_STATUS[code])
    return exc


def error_response(
    code: ErrorCode, headers: dict[str, str] | None = None, **extra: object
) -> web.Response:
    """The JSON refusal of ``code`` as a response to return (a middleware, a device API)."""
    return web.json_response({"error": code.value, **extra}, status=_STATUS[code], headers=headers)


def error_responses() -> dict[str, Any]:
    """The OpenAPI ``ErrorCode`` and ``Error`` schemas (one shape, one set of codes)."""
    return {
        "ErrorCode": {
            "type": "string",
            "enum": [c.value for c in ErrorCode],
            "description": "; ".join(f"{c.value}: {_STATUS[c]}" for c in ErrorCode),
        },
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"$ref": "#/components/schemas/ErrorCode"}},
            "additionalProperties": True,
        },
    }


@web.middleware
async def domain_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Map the domain's errors to the one JSON error shape under ``/api/``."""
    if not request.path.startswith(_API_PREFIX):
        return await handler(request)
    try:
        return await handler(request)
    except (NotFoundError, AccessDeniedError):
        raise refuse(ErrorCode.NOT_FOUND) from None
    except ConflictError:
        raise refuse(ErrorCode.CONFLICT) from None
    except InvalidPlantError as exc:
        raise refuse(ErrorCode.INVALID, fields=dict(exc.problems)) from None


#: ids are 32-bit on PostgreSQL (``SERIAL``): larger ones in a path name no object
MAX_ID = 2**31 - 1


def _impossible_id(request: web.Request) -> bool:
    """A path id (``{id}``, ``{..._id}``) of digits beyond :data:`MAX_ID`."""
    return any(
        (key == "id" or key.endswith("_id"))
        and value.isascii()
        and value.isdigit()
        and (len(value) > 10 or int(value) > MAX_ID)
        for key, value in request.match_info.items()
    )


def _unreadable_body(request: web.Request) -> str:
    """Why the body cannot be parsed at all (an unknown charset, multipart without
    boundary), or ``""``."""
    if not request.body_exists:
        return ""
    mime = parse_mimetype(request.headers.get(hdrs.CONTENT_TYPE, ""))
    charset = mime.parameters.get("charset")
    if charset:
        try:
            codecs.lookup(charset)
        except LookupError:
            return "unknown charset"
    if mime.type == "multipart" and not mime.parameters.get("boundary"):
        return "multipart without boundary"
    return ""


def _bad_request(request: web.Request, problem: str) -> web.HTTPException:
    _LOGGER.info("malformed request %s %s: %s", request.method, request.path, problem)
    if request.path.startswith(_API_PREFIX):
        return refuse(ErrorCode.INVALID_REQUEST, detail=problem)
    return web.HTTPBadRequest(text="Ungültige Anfrage / Invalid request")


@web.middleware
async def malformed_input(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The one boundary for input the parsers cannot take: a 400 (``invalid_request`` under
    ``/api/``, a short page elsewhere) instead of a 500, logged in one line without a
    traceback. Bodies no parser can read are refused before the handler, and path ids
    beyond :data:`MAX_ID` are a 404."""
    if _impossible_id(request):  # no row has it: SQLite and PostgreSQL would overflow
        if request.path.startswith(_API_PREFIX):
            raise refuse(ErrorCode.NOT_FOUND)
        raise web.HTTPNotFound(text="Nicht gefunden / Not found")
    problem = _unreadable_body(request)
    if problem:
        raise _bad_request(request, problem)
    try:
        return await handler(request)
    except MALFORMED_INPUT as exc:
        if not from_input(exc):
            raise
        raise _bad_request(request, type(exc).__name__) from None
