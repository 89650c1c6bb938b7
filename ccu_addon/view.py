"""The dashboard page as HTML: pure, server-rendered, no JavaScript.

Every link and form action is relative, because the CCU's web server serves the page under
``/addons/cloudconnector/`` and strips that prefix on the way to the daemon.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Final
from urllib.parse import urlencode

from ccu_addon.packages import PackageSnapshot
from ccu_addon.selftest import CheckResult
from ccu_addon.status import TunnelState, TunnelStatus
from ccu_addon.texts import Lang, text

__all__ = ["DashboardView", "render_dashboard", "render_message"]

_NONE = "\u2013"  # en dash for "no value"
_ESCAPES: Final = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"}
)


def escape(value: str) -> str:
    """``html.escape`` (quotes included), without the ``html`` package: importing it loads
    its table of 2,000 named entities, about 0.5 MB of the daemon's memory."""
    return value.translate(_ESCAPES)


@dataclass(frozen=True, slots=True, kw_only=True)
class DashboardView:
    """Everything the page shows, gathered by the handler."""

    lang: Lang
    """Page language."""
    sid: str
    """The CCU session id, carried on every link and form."""
    csrf: str
    """Token for the forms."""
    now: datetime
    """For the days left."""
    hub: str | None
    """Device slug (None before enrolment)."""
    packages: PackageSnapshot | None
    """What the gateway last said."""
    tunnel: TunnelStatus
    """Tunnel snapshot."""
    pairing_code: str | None
    """Shown while enrolment is pending."""
    register_url: str | None
    """Portal page that takes the pairing code."""
    selftest: list[CheckResult] | None = None
    """Results, when the self-test just ran."""
    zone: tzinfo | None = None
    """Time zone of the times shown; None: the system's, i.e. the one set in the CCU's WebUI."""

    @property
    def can_reactivate(self) -> bool:
        """Stopped by expiry, or nothing usable left: offer the local re-enable."""
        stopped = self.tunnel.state is TunnelState.STOPPED_EXPIRED
        return stopped or (self.packages is not None and not self.packages.any_usable)


def _when(view: DashboardView, instant: datetime | None) -> str:
    """``25.01.2026 11:00 CET``: the hub's local time, its zone named."""
    return instant.astimezone(view.zone).strftime("%d.%m.%Y %H:%M %Z") if instant else _NONE


def _q(view: DashboardView, **extra: str) -> str:
    return "?" + urlencode({"sid": view.sid, "lang": view.lang.value, **extra})


def _form(view: DashboardView, action: str, button: str, *, blank: bool = False) -> str:
    target = ' target="_blank" rel="noopener"' if blank else ""
    return (
        f'<form method="post" action="{escape(action + _q(view))}"{target}>'
        f'<input type="hidden" name="csrf_token" value="{escape(view.csrf)}">'
        f'<button type="submit" id="{action}">{escape(button)}</button></form>'
    )


def _packages(view: DashboardView) -> str:
    t = view.lang
    snap = view.packages
    if snap is None:
        return f'<section id="account"><p>{escape(text(t, "no_account"))}</p></section>'
    rows = []
    for p in snap.packages:
        left = p.days_left(view.now)
        runtime = f"{p.runtime_days} {text(t, 'days')}" if p.runtime_days else _NONE
        rows.append(
            f'<tr data-package="{escape(p.code)}" data-state="{p.state.value}">'
            f"<td>{escape(p.name)}</td><td>{escape(text(t, 'state.' + p.state.value))}</td>"
            f"<td>{escape(runtime)}</td><td>{_when(view, p.ends_at)}</td>"
            f"<td>{text(t, 'open_ended') if left is None else left}</td></tr>"
        )
    head = "".join(
        f"<th>{escape(text(t, k))}</th>"
        for k in ("package", "state", "runtime", "ends", "days_left")
    )
    return (
        f'<section id="account"><dl><dt>{escape(text(t, "account"))}</dt>'
        f'<dd id="account-name">{escape(snap.account_name)}</dd>'
        f"<dt>{escape(text(t, 'hub'))}</dt>"
        f'<dd id="hub-id">{escape(snap.device)}</dd></dl></section>'
        f'<section id="packages"><h2>{escape(text(t, "packages"))}</h2>'
        f"<table><tr>{head}</tr>{''.join(rows)}</table>"
        f"<p>{escape(text(t, 'book_hint'))}</p>{_form(view, 'book', text(t, 'book'), blank=True)}"
        "</section>"
    )


def _tunnel(view: DashboardView) -> str:
    t, s = view.lang, view.tunnel
    rtt = f"{s.rtt * 1000:.0f} ms" if s.rtt is not None else _NONE
    items = [
        ("state", (f'<span id="tunnel-state" data-state="{s.state.value}">'
         f"{escape(text(t, 'tunnel.' + s.state.value))}</span>")),
        ("connected_since", _when(view, s.connected_since)),
        ("last_handshake", _when(view, s.last_handshake)),
        ("rtt", rtt),
        ("bytes", f"{s.bytes_sent:,} / {s.bytes_received:,}"),
    ]  # fmt: skip
    if s.last_refusal is not None:
        r = s.last_refusal
        explained = text(t, "refusal." + r.reason)
        items.append(
            ("last_refusal", (f'<span id="last-refusal" data-reason="{escape(r.reason)}">'
             f"{escape(explained)} ({_when(view, r.at)})</span>"))
        )  # fmt: skip
    body = "".join(f"<dt>{escape(text(t, k))}</dt><dd>{v}</dd>" for k, v in items)
    html = f'<section id="tunnel"><h2>{escape(text(t, "tunnel"))}</h2><dl>{body}</dl>'
    if view.can_reactivate:
        html += f'<p class="warn">{escape(text(t, "reactivate_hint"))}</p>'
        html += _form(view, "reactivate", text(t, "reactivate"))
    return html + "</section>"


def _enrol(view: DashboardView) -> str:
    t = view.lang
    if view.hub is not None:
        return ""
    html = f'<section id="enrol"><h2>{escape(text(t, "enrol"))}</h2>'
    if view.pairing_code is None:
        return html + f"<p>{escape(text(t, 'enrol_waiting'))}</p></section>"
    html += (
        f'<p>{escape(text(t, "pairing_code"))}: <strong id="pairing-code">'
        f"{escape(view.pairing_code)}</strong></p><p>{escape(text(t, 'enrol_hint'))}</p>"
    )
    if view.register_url:
        url = view.register_url + "?" + urlencode({"code": view.pairing_code})
        html += (
            f'<p><a id="register" href="{escape(url)}" target="_blank" rel="noopener">'
            f"{escape(text(t, 'register_now'))}</a></p>"
        )
    return html + "</section>"


def _selftest(view: DashboardView) -> str:
    t = view.lang
    html = f'<section id="selftest"><h2>{escape(text(t, "selftest"))}</h2>'
    if view.selftest is not None:
        rows = "".join(
            f'<li data-check="{r.check.value}" data-ok="{str(r.ok).lower()}">'
            f"<strong>{escape(text(t, 'ok' if r.ok else 'failed'))}</strong> "
            f"{escape(r.de if t is Lang.DE else r.en)}</li>"
            for r in view.selftest
        )
        html += f"<ul>{rows}</ul>"
    return html + _form(view, "selftest", text(t, "run_selftest")) + "</section>"


def _page(lang: Lang, switch: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="{lang.value}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{escape(text(lang, "title"))}</title><link rel="stylesheet" href="style.css">'
        f"</head><body><header><h1>{escape(text(lang, 'title'))}</h1>{switch}</header>"
        f"<main>{body}</main></body></html>"
    )


def render_dashboard(view: DashboardView) -> str:
    """The whole page."""
    other = Lang.EN if view.lang is Lang.DE else Lang.DE
    href = "?" + urlencode({"sid": view.sid, "lang": other.value})
    switch = (
        f'<a id="lang" hreflang="{other.value}" href="{escape(href)}">'
        f"{escape(text(view.lang, 'switch_lang'))}</a>"
    )
    body = _enrol(view) + _packages(view) + _tunnel(view) + _selftest(view)
    return _page(view.lang, switch, body)


def render_message(lang: Lang, key: str) -> str:
    """A page with one sentence (session required, CCU down, …)."""
    return _page(
        lang,
        "",
        f'<p class="warn" id="message" data-key="{escape(key)}">{escape(text(lang, key))}</p>',
    )
