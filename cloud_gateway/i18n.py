"""User-facing texts: German first, English available.

Texts live in :data:`TEXTS` keyed by a stable id; templates call ``t("id")``. The
language comes from ``?lang=``, then the ``lang`` cookie, then ``Accept-Language``.
"""

from __future__ import annotations

from enum import StrEnum

from aiohttp import web

__all__ = ["TEXTS", "Language", "request_language", "translate"]


class Language(StrEnum):
    """Languages the UI speaks."""

    DE = "de"
    EN = "en"


TEXTS: dict[str, dict[Language, str]] = {
    "app.title": {Language.DE: "CloudConnector", Language.EN: "CloudConnector"},
    "start.heading": {
        Language.DE: "Fernzugriff und Anlagenüberwachung",
        Language.EN: "Remote access and plant monitoring",
    },
    "start.lead": {
        Language.DE: "Erreichen Sie Ihre HomeMatic-Zentrale von überall und behalten Sie "
        "Ihre PV-Anlage im Blick – sicher über einen verschlüsselten Tunnel.",
        Language.EN: "Reach your HomeMatic hub from anywhere and keep an eye on your PV "
        "plant, securely through an encrypted tunnel.",
    },
    "start.login": {Language.DE: "Anmelden", Language.EN: "Log in"},
    "start.register": {Language.DE: "Registrieren", Language.EN: "Register"},
    "start.status": {Language.DE: "Gateway-Status", Language.EN: "Gateway status"},
    "start.status_ok": {Language.DE: "Betriebsbereit", Language.EN: "Operational"},
    "lang.switch": {Language.DE: "English", Language.EN: "Deutsch"},
    "error.not_found": {Language.DE: "Seite nicht gefunden", Language.EN: "Page not found"},
    "login.title": {Language.DE: "Anmelden", Language.EN: "Log in"},
    "login.login": {
        Language.DE: "Benutzername oder E-Mail-Adresse",
        Language.EN: "User name or e-mail address",
    },
    "login.password": {Language.DE: "Passwort", Language.EN: "Password"},
    "login.forgot": {Language.DE: "Passwort vergessen?", Language.EN: "Forgot your password?"},
    "login.failed": {
        Language.DE: "Anmeldung fehlgeschlagen: Benutzername oder Passwort falsch.",
        Language.EN: "Login failed: wrong user name or password.",
    },
    "portal.title": {Language.DE: "Übersicht", Language.EN: "Overview"},
    "portal.hello": {Language.DE: "Willkommen,", Language.EN: "Welcome,"},
    "portal.logout": {Language.DE: "Abmelden", Language.EN: "Log out"},
    "portal.devices": {Language.DE: "Geräte", Language.EN: "Devices"},
    "portal.device": {Language.DE: "Gerät", Language.EN: "Device"},
    "portal.kind": {Language.DE: "Art", Language.EN: "Kind"},
    "portal.no_devices": {
        Language.DE: "Noch keine Geräte verbunden.",
        Language.EN: "No devices connected yet.",
    },
    "enrol.title": {Language.DE: "Gerät koppeln", Language.EN: "Pair a device"},
    "enrol.lead": {
        Language.DE: "Geben Sie den Kopplungscode ein, den Ihr Gerät anzeigt. Der Code gilt "
        "15 Minuten und nur einmal.",
        Language.EN: "Enter the pairing code your device shows. The code is valid for "
        "15 minutes and only once.",
    },
    "enrol.code": {Language.DE: "Kopplungscode", Language.EN: "Pairing code"},
    "enrol.submit": {Language.DE: "Gerät koppeln", Language.EN: "Pair device"},
    "enrol.bad_code": {
        Language.DE: "Dieser Kopplungscode ist unbekannt, abgelaufen oder schon benutzt.",
        Language.EN: "This pairing code is unknown, expired or already used.",
    },
    "enrol.too_many": {
        Language.DE: "Zu viele falsche Codes. Bitte versuchen Sie es später noch einmal.",
        Language.EN: "Too many wrong codes. Please try again later.",
    },
    "enrol.done_title": {Language.DE: "Gerät gekoppelt", Language.EN: "Device paired"},
    "enrol.done_lead": {
        Language.DE: "Ihr Gerät ist jetzt mit Ihrem Konto verbunden:",
        Language.EN: "Your device is now linked to your account:",
    },
    "remote.open_title": {Language.DE: "Fernzugriff", Language.EN: "Remote access"},
    "remote.open_lead": {
        Language.DE: "Öffnen Sie die Weboberfläche Ihres Geräts über den sicheren Tunnel:",
        Language.EN: "Open your device's web interface through the secure tunnel:",
    },
    "remote.open": {Language.DE: "Fernzugriff öffnen", Language.EN: "Open remote access"},
    "remote.refused_title": {
        Language.DE: "Fernzugriff nicht möglich",
        Language.EN: "Remote access not possible",
    },
    "remote.refused.not_logged_in": {
        Language.DE: "Sie sind für dieses Gerät nicht angemeldet. Bitte öffnen Sie den "
        "Fernzugriff im Kundenportal.",
        Language.EN: "You are not logged in for this device. Please open remote access "
        "from the customer portal.",
    },
    "remote.refused.not_yours": {
        Language.DE: "Dieses Gerät gehört nicht zu Ihrem Konto.",
        Language.EN: "This device does not belong to your account.",
    },
    "remote.refused.not_entitled": {
        Language.DE: "Für dieses Gerät ist kein Fernzugriff gebucht oder das Paket ist abgelaufen.",
        Language.EN: "Remote access is not booked for this device or the package has expired.",
    },
    "remote.refused.offline": {
        Language.DE: "Das Gerät ist gerade nicht mit der Cloud verbunden.",
        Language.EN: "The device is not connected to the cloud right now.",
    },
    "remote.refused.unreachable": {
        Language.DE: "Das Gerät ist verbunden, aber seine Weboberfläche antwortet nicht.",
        Language.EN: "The device is connected, but its web interface does not answer.",
    },
    "remote.to_portal": {Language.DE: "Zum Kundenportal", Language.EN: "To the customer portal"},
    # the common layout (templates/base.html, http/chrome.py)
    "nav.label": {Language.DE: "Hauptnavigation", Language.EN: "Main navigation"},
    "nav.overview": {Language.DE: "Übersicht", Language.EN: "Overview"},
    "nav.devices": {Language.DE: "Geräte", Language.EN: "Devices"},
    "nav.plants": {Language.DE: "Anlagen", Language.EN: "Plants"},
    "nav.products": {Language.DE: "Meine Produkte", Language.EN: "My products"},
    "nav.invoices": {Language.DE: "Rechnungen", Language.EN: "Invoices"},
    "nav.support": {Language.DE: "Support", Language.EN: "Support"},
    "nav.shop": {Language.DE: "Shop", Language.EN: "Shop"},
    "nav.account": {Language.DE: "Konto", Language.EN: "Account"},
    "nav.logged_in_as": {Language.DE: "Angemeldet als", Language.EN: "Logged in as"},
    "legal.impressum": {Language.DE: "Impressum", Language.EN: "Legal notice"},
    "legal.datenschutz": {Language.DE: "Datenschutz", Language.EN: "Privacy policy"},
    "legal.agb": {
        Language.DE: "AGB und Nutzungsbedingungen",
        Language.EN: "Terms and conditions",
    },
    "mailbox.title": {Language.DE: "Postfach (Demo)", Language.EN: "Mailbox (demo)"},
    "error.status": {Language.DE: "Fehler", Language.EN: "Error"},
    "error.home": {Language.DE: "Zur Startseite", Language.EN: "To the start page"},
    "error.bad_request.title": {
        Language.DE: "Anfrage nicht verständlich",
        Language.EN: "Request not understood",
    },
    "error.bad_request.lead": {
        Language.DE: "Die Anfrage war unvollständig oder fehlerhaft. Bitte versuchen Sie es "
        "noch einmal.",
        Language.EN: "The request was incomplete or malformed. Please try again.",
    },
    "error.forbidden.title": {Language.DE: "Zugriff verweigert", Language.EN: "Access denied"},
    "error.forbidden.lead": {
        Language.DE: "Das dürfen Sie hier nicht – oder das Formular war veraltet. Bitte laden "
        "Sie die Seite neu und versuchen Sie es noch einmal.",
        Language.EN: "You may not do this here, or the form was out of date. Please reload "
        "the page and try again.",
    },
    "error.not_found.title": {Language.DE: "Seite nicht gefunden", Language.EN: "Page not found"},
    "error.not_found.lead": {
        Language.DE: "Diese Seite gibt es nicht, oder sie gehört nicht zu Ihrem Konto.",
        Language.EN: "This page does not exist, or it does not belong to your account.",
    },
    "error.not_allowed.title": {
        Language.DE: "Aktion nicht möglich",
        Language.EN: "Action not possible",
    },
    "error.not_allowed.lead": {
        Language.DE: "Diese Seite kann so nicht aufgerufen werden.",
        Language.EN: "This page cannot be requested this way.",
    },
    "error.too_large.title": {Language.DE: "Datei zu groß", Language.EN: "File too large"},
    "error.too_large.lead": {
        Language.DE: "Die gesendete Datei ist zu groß.",
        Language.EN: "The file sent is too large.",
    },
    "error.server.title": {Language.DE: "Interner Fehler", Language.EN: "Internal error"},
    "error.server.lead": {
        Language.DE: "Etwas ist schiefgegangen. Wir kümmern uns darum; bitte versuchen Sie es "
        "später noch einmal.",
        Language.EN: "Something went wrong. We are on it; please try again later.",
    },
}


def translate(lang: Language, key: str) -> str:
    """The text ``key`` in ``lang``; falls back to German, then to the key itself."""
    entry = TEXTS.get(key)
    if entry is None:
        return key
    return entry.get(lang) or entry[Language.DE]


def request_language(request: web.Request) -> Language:
    """The language this request asks for."""
    for candidate in (request.query.get("lang"), request.cookies.get("lang")):
        if candidate in {lang.value for lang in Language}:
            return Language(candidate)
    accept = request.headers.get("Accept-Language", "")
    for part in accept.split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in {lang.value for lang in Language}:
            return Language(code)
    return Language.DE
