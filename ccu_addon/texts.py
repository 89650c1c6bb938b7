"""Texts of the dashboard: German first, English switchable (``?lang=en``)."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Lang", "text"]


class Lang(StrEnum):
    """Languages of the dashboard."""

    DE = "de"
    EN = "en"


_T: dict[str, tuple[str, str]] = {
    "title": ("CloudConnector", "CloudConnector"),
    "switch_lang": ("English", "Deutsch"),
    "account": ("Verknüpftes Konto", "Linked account"),
    "hub": ("Zentrale", "Hub"),
    "no_account": ("Noch keine Daten vom Gateway.", "No data from the gateway yet."),
    "packages": ("Pakete", "Packages"),
    "package": ("Paket", "Package"),
    "state": ("Status", "State"),
    "runtime": ("Laufzeit", "Runtime"),
    "days_left": ("Resttage", "Days left"),
    "ends": ("Endet", "Ends"),
    "days": ("Tage", "days"),
    "open_ended": ("unbefristet", "open-ended"),
    "book": ("Zugang buchen", "Book access"),
    "book_hint": (
        "Die Buchung wird dem oben genannten Konto gutgeschrieben.",
        "The booking is credited to the account named above.",
    ),
    "state.trial": ("Testzeitraum", "Trial"),
    "state.active": ("Aktiv", "Active"),
    "state.grace": ("Kulanzzeit", "Grace period"),
    "state.expired": ("Abgelaufen", "Expired"),
    "tunnel": ("Verbindung zum Gateway", "Connection to the gateway"),
    "tunnel.not_enrolled": ("Nicht registriert", "Not registered"),
    "tunnel.connecting": ("Verbinde …", "Connecting …"),
    "tunnel.connected": ("Verbunden", "Connected"),
    "tunnel.waiting": ("Getrennt, neuer Versuch folgt", "Disconnected, retrying"),
    "tunnel.stopped_expired": (
        "Angehalten: Paket abgelaufen",
        "Stopped: package expired",
    ),
    "connected_since": ("Verbunden seit", "Connected since"),
    "last_handshake": ("Letzter Verbindungsaufbau", "Last handshake"),
    "rtt": ("Antwortzeit", "Round-trip time"),
    "bytes": ("Übertragen (gesendet / empfangen)", "Transferred (sent / received)"),
    "last_refusal": ("Letzte Ablehnung", "Last refusal"),
    "reactivate": ("Reaktivieren", "Reactivate"),
    "reactivate_hint": (
        (
            "Der Zugang ist nach Ablauf des Pakets angehalten und kann nur hier vor Ort wieder "
            "aufgenommen werden. Buchen Sie zuerst ein Paket, dann „Reaktivieren“."
        ),
        (
            "Access stopped when the package expired and can only be resumed here, on site. "
            "Book a package first, then “Reactivate”."
        ),
    ),
    "enrol": ("Registrierung", "Registration"),
    "pairing_code": ("Kopplungscode", "Pairing code"),
    "enrol_hint": (
        (
            "Geben Sie diesen Code im Kundenbereich ein, um die Zentrale mit Ihrem Konto zu "
            "verknüpfen."
        ),
        "Enter this code in the customer portal to link the hub to your account.",
    ),
    "register_now": ("Jetzt registrieren", "Register now"),
    "enrol_waiting": ("Kopplungscode wird angefordert …", "Requesting a pairing code …"),
    "selftest": ("Selbsttest", "Self-test"),
    "run_selftest": ("Selbsttest starten", "Run self-test"),
    "ok": ("in Ordnung", "OK"),
    "failed": ("Fehler", "Failed"),
    "refusal.expired": (
        "Kein aktives Paket: der Zugang ist abgelaufen.",
        "No active package: access has expired.",
    ),
    "refusal.not_enrolled": (
        "Die Zentrale ist beim Gateway nicht registriert.",
        "The hub is not registered with the gateway.",
    ),
    "refusal.revoked": (
        "Das Zertifikat der Zentrale wurde gesperrt. Bitte neu registrieren.",
        "The hub's certificate was revoked. Please register again.",
    ),
    "refusal.forbidden": (
        "Die Zentrale wurde vom Betreiber gesperrt.",
        "The hub was blocked by the operator.",
    ),
    "refusal.outdated": (
        "Die Add-on-Version ist zu alt. Bitte aktualisieren.",
        "The add-on version is too old. Please update.",
    ),
    "refusal.overloaded": (
        "Das Gateway ist ausgelastet; neuer Versuch später.",
        "The gateway is busy; it will be retried later.",
    ),
    "refusal.maintenance": (
        "Das Gateway wird gewartet; neuer Versuch später.",
        "The gateway is under maintenance; it will be retried later.",
    ),
    "session_required": (
        (
            "Bitte öffnen Sie diese Seite über die WebUI der Zentrale "
            "(Einstellungen > Systemsteuerung > CloudConnector) und melden Sie sich an."
        ),
        (
            "Please open this page from the hub's WebUI "
            "(Settings > Control panel > CloudConnector) and log in."
        ),
    ),
    "ccu_down": ("Die Zentrale antwortet nicht.", "The hub does not answer."),
    "not_possible": ("Derzeit nicht möglich.", "Not possible right now."),
}


def text(lang: Lang, key: str) -> str:
    """The text ``key`` in ``lang``; the key itself if unknown (visible in tests)."""
    pair = _T.get(key)
    if pair is None:
        return key
    return pair[0] if lang is Lang.DE else pair[1]
