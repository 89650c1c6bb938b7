"""Security review item 5: malformed input gets a clear 4xx, never an HTTP 500.

Non-ASCII CSRF tokens (form field and ``X-CSRF-Token``), a non-ASCII session cookie, raw
``\\xff`` in form bodies and ids of 2^63 and more in paths used to raise ``TypeError``,
``UnicodeEncodeError``/``UnicodeDecodeError`` and ``OverflowError`` inside the handlers.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp

from tests.support.gateway import gateway_harness
from tunnel.clock import ManualClock

HUGE = str(2**63)


async def _status(http: aiohttp.ClientSession, method: str, path: str, **kwargs: object) -> int:
    async with http.request(method, path, allow_redirects=False, **kwargs) as resp:  # type: ignore[arg-type]
        await resp.read()
        return resp.status


async def test_anonymous_malformed_requests_get_4xx(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        await gw.create_account("anna")
        async with gw.client() as http:
            token = await gw.form_token(http, "/login")
            answers = {
                "csrf form non-ascii": await _status(
                    http,
                    "POST",
                    "/login",
                    data={"csrf_token": "ä" * 8, "login": "x", "password": "y"},
                ),
                "raw xff form": await _status(
                    http,
                    "POST",
                    "/login",
                    data=b"csrf_token=" + token.encode() + b"&login=\xff&password=\xff",
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                ),
            }
            for name, content_type in [
                ("unknown charset", "application/x-www-form-urlencoded; charset=x-unknown"),
                ("multipart without boundary", "multipart/form-data"),
            ]:
                answers[name] = await _status(
                    http,
                    "POST",
                    "/login",
                    data=b"csrf_token=" + token.encode() + b"&login=a&password=b",
                    headers={"Content-Type": content_type},
                )
            answers["enrol integer of 5000 digits"] = await _status(
                http,
                "POST",
                "/api/v1/enrol",
                data='{"csr": ' + "9" * 5000 + "}",
                headers={"Content-Type": "application/json"},
            )
        cookie_jar = aiohttp.DummyCookieJar()
        async with aiohttp.ClientSession(
            base_url=gw.url,
            connector=aiohttp.TCPConnector(ssl=gw.ssl_context),
            cookie_jar=cookie_jar,
        ) as raw:
            for path in ("/portal", "/api/v1/me"):
                answers[f"session cookie {path}"] = await _status(
                    raw, "GET", path, headers={"Cookie": "__Host-session=\xe4\xff"}
                )
    assert {name: status for name, status in answers.items() if status >= 500} == {}


async def test_logged_in_malformed_requests_get_4xx(
    tmp_path: Path, db_url: str, clock: ManualClock
) -> None:
    async with gateway_harness(tmp_path, db_url, clock) as gw:
        await gw.create_account("anna")
        http = gw.client()
        try:
            await gw.login(http, "anna")
            token = await gw.form_token(http, "/plants/new")  # the session's CSRF token
            answers = {
                "api csrf header non-ascii": await _status(
                    http,
                    "POST",
                    "/api/v1/plants",
                    json={"name": "x"},
                    headers={"X-CSRF-Token": "ä"},
                ),
                "api huge plant id": await _status(http, "GET", f"/api/v1/plants/{HUGE}"),
                "page huge plant id": await _status(http, "GET", f"/plants/{HUGE}"),
                "api huge window id": await _status(http, "GET", f"/api/v1/windows/{HUGE}"),
                "api id past int32": await _status(http, "GET", f"/api/v1/plants/{2**31}"),
                "api json nested 100k deep": await _status(
                    http,
                    "POST",
                    "/api/v1/plants",
                    data="[" * 100_000 + "]" * 100_000,
                    headers={"X-CSRF-Token": token, "Content-Type": "application/json"},
                ),
            }
        finally:
            await http.close()
    assert {name: status for name, status in answers.items() if status >= 500} == {}
    assert all(400 <= status < 500 for status in answers.values()), answers
    assert answers["api huge plant id"] == 404
    assert answers["api json nested 100k deep"] == 400
