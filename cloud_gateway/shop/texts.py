"""User-facing texts of the shop area: German first, English available."""

from __future__ import annotations

from cloud_gateway.i18n import Language, translate

__all__ = ["SHOP_TEXTS", "shop_text"]

_DE, _EN = Language.DE, Language.EN

SHOP_TEXTS: dict[str, dict[Language, str]] = {
    "hub.title": {_DE: "Zugang buchen", _EN: "Book access"},
    "hub.credit": {
        _DE: "Diese Buchung wird dem Konto gutgeschrieben, mit dem Ihre Zentrale verknüpft ist:",
        _EN: "This booking is credited to the account your hub is linked to:",
    },
    "hub.device": {_DE: "Zentrale", _EN: "Hub"},
    "hub.account": {_DE: "Konto", _EN: "Account"},
    "hub.package": {_DE: "Paket", _EN: "Package"},
    "hub.valid_until": {_DE: "Link gültig bis", _EN: "Link valid until"},
    "hub.login_needed": {
        _DE: "Bitte melden Sie sich mit genau diesem Konto an.",
        _EN: "Please log in with exactly this account.",
    },
    "hub.login": {_DE: "Als dieses Konto anmelden", _EN: "Log in as this account"},
    "hub.continue": {_DE: "Weiter zum Shop", _EN: "Continue to the shop"},
    "hub.wrong_account": {
        _DE: "Achtung: Sie sind als „{current}“ angemeldet, die Zentrale gehört aber zum Konto "
        "„{linked}“. Über diesen Link wird nichts für „{current}“ gebucht.",
        _EN: "Attention: you are logged in as “{current}”, but the hub belongs to the account "
        "“{linked}”. Nothing is booked for “{current}” through this link.",
    },
    "hub.switch": {
        _DE: "Konto wechseln (abmelden und als „{linked}“ anmelden)",
        _EN: "Switch account (log out and log in as “{linked}”)",
    },
    "hub.ready": {
        _DE: "Die Buchung ist für das Konto „{linked}“ vorbereitet. Der Shop folgt in Kürze.",
        _EN: "The booking is prepared for the account “{linked}”. The shop follows shortly.",
    },
    "hub.refused_title": {_DE: "Link ungültig", _EN: "Invalid link"},
    "hub.refused_lead": {
        _DE: "Dieser Buchungslink kann nicht verwendet werden. Öffnen Sie das CloudConnector-"
        "Dashboard Ihrer Zentrale und klicken Sie erneut auf „Zugang buchen“.",
        _EN: "This booking link cannot be used. Open the CloudConnector dashboard of your hub "
        "and click “Book access” again.",
    },
    "refusal.malformed": {_DE: "Der Link ist unvollständig.", _EN: "The link is incomplete."},
    "refusal.bad_signature": {
        _DE: "Die Signatur der Zentrale stimmt nicht (Link verändert).",
        _EN: "The hub's signature does not match (the link was altered).",
    },
    "refusal.expired": {_DE: "Der Link ist abgelaufen.", _EN: "The link has expired."},
    "refusal.too_long_lived": {
        _DE: "Der Link ist zu lange gültig (Uhr der Zentrale prüfen).",
        _EN: "The link claims too long a validity (check the hub's clock).",
    },
    "refusal.untrusted_certificate": {
        _DE: "Die Zentrale ist hier nicht (mehr) registriert.",
        _EN: "The hub is not (or no longer) registered here.",
    },
    "refusal.wrong_account": {
        _DE: "Die Zentrale ist inzwischen mit einem anderen Konto verknüpft.",
        _EN: "The hub is now linked to another account.",
    },
}


def shop_text(lang: Language, key: str) -> str:
    """The shop's text ``key`` in ``lang``; other keys come from the gateway's texts."""
    entry = SHOP_TEXTS.get(key)
    if entry is None:
        return translate(lang, key)
    return entry.get(lang) or entry[Language.DE]
