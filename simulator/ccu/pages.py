"""HTML and assets of the simulated WebUI (German, like a real CCU). Pure string building.

Every page refers to its assets by absolute paths (``/webui/…``, ``/pages/…``) and to other
pages with the ``sid`` in the query, as the real WebUI does, so a reverse proxy has to get
both right.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from html import escape
from typing import Any

__all__ = ["ASSETS", "big_file_chunks", "devices_page", "index_page", "login_page"]

_PATTERN_PERIOD = 251
_CHUNK = 64 * 1024
_PATTERN = bytes(i % _PATTERN_PERIOD for i in range(_CHUNK + _PATTERN_PERIOD))

_STYLE = """\
body { font-family: Arial, Helvetica, sans-serif; background: #e6e6e6; margin: 0; }
header { background: #2b5aa5; color: #fff; padding: 8px 16px; display: flex; gap: 16px; }
header img { height: 32px; }
main { padding: 16px; }
table { border-collapse: collapse; background: #fff; }
td, th { border: 1px solid #bbb; padding: 4px 8px; text-align: left; }
.error { color: #b00; }
"""

_SCRIPT = """\
// Simulated WebUI: keeps the session alive like the real WebUI does.
(function () {
  var sid = (location.search.match(/sid=(@[A-Za-z0-9]+@)/) || [])[1];
  window.ccuSid = sid;
  document.documentElement.dataset.webuiLoaded = "1";
})();
"""

_LOGO = """\
<svg xmlns="http://www.w3.org/2000/svg" width="96" height="32" viewBox="0 0 96 32">
<rect width="96" height="32" rx="4" fill="#fff"/>
<text x="48" y="22" font-family="Arial" font-size="16" text-anchor="middle"
 fill="#2b5aa5">CCU</text>
</svg>
"""

#: path → (content type, body) of the static assets
ASSETS: dict[str, tuple[str, bytes]] = {
    "/webui/style.css": ("text/css", _STYLE.encode()),
    "/webui/webui.js": ("application/javascript", _SCRIPT.encode()),
    "/pages/img/ccu-logo.svg": ("image/svg+xml", _LOGO.encode()),
}


def _page(title: str, body: str, sid: str = "") -> str:
    nav = ""
    if sid:
        q = f"?sid={escape(sid)}"
        nav = (
            f'<a href="/pages/index.htm{q}">Startseite</a>'
            f'<a href="/pages/devices.htm{q}">Geräte</a>'
            f'<a href="/logout.htm{q}">Abmelden</a>'
        )
    return (
        '<!DOCTYPE html>\n<html lang="de"><head><meta charset="utf-8">'
        f"<title>{escape(title)} - HomeMatic</title>"
        '<link rel="stylesheet" href="/webui/style.css">'
        '<script src="/webui/webui.js"></script></head><body>'
        f'<header><img src="/pages/img/ccu-logo.svg" alt="CCU">{nav}</header>'
        f"<main><h1>{escape(title)}</h1>{body}</main></body></html>\n"
    )


def login_page(*, error: str = "") -> str:
    """The login form; it posts to ``/login.htm``."""
    message = f'<p class="error">{escape(error)}</p>' if error else ""
    form = (
        f'{message}<form method="post" action="/login.htm">'
        '<label>Benutzername <input name="username" value="Admin"></label> '
        '<label>Passwort <input name="password" type="password"></label> '
        '<button type="submit">Anmelden</button></form>'
    )
    return _page("Anmeldung", form)


def index_page(sid: str, *, serial: str, version: str, addons: Iterable[str]) -> str:
    """The start page of a logged-in user."""
    q = f"?sid={escape(sid)}"
    links = "".join(
        f'<li><a href="/addons/{escape(a)}/{q}">{escape(a)}</a></li>' for a in sorted(addons)
    )
    body = (
        f'<p>Seriennummer: <span id="serial">{escape(serial)}</span></p>'
        f"<p>Firmware-Version: {escape(version)}</p>"
        f'<h2>Zusatzsoftware</h2><ul id="addons">{links or "<li>keine</li>"}</ul>'
    )
    return _page("Startseite", body, sid)


def devices_page(sid: str, rows: Iterable[tuple[str, str, str, Any]]) -> str:
    """The device list: (address, type, parameter, value) rows."""
    cells = "".join(
        f"<tr><td>{escape(a)}</td><td>{escape(t)}</td><td>{escape(k)}</td>"
        f"<td>{escape(str(v))}</td></tr>"
        for a, t, k, v in rows
    )
    table = (
        "<table><tr><th>Adresse</th><th>Typ</th><th>Parameter</th><th>Wert</th></tr>"
        f"{cells}</table>"
    )
    return _page("Geräte", table, sid)


def big_file_chunks(size: int) -> Iterator[bytes]:
    """The content of ``/webui/big.bin?size=size``: byte ``i`` is ``i % 251``, in 64 KiB chunks."""
    offset = 0
    while offset < size:
        length = min(_CHUNK, size - offset)
        start = offset % _PATTERN_PERIOD
        yield _PATTERN[start : start + length]
        offset += length
