"""UI texts of support access on the device page, German first; merged into ``i18n.TEXTS``."""

from __future__ import annotations

from cloud_gateway.i18n import TEXTS, Language

__all__ = ["SUPPORT_TEXTS", "register"]


def _t(de: str, en: str) -> dict[Language, str]:
    return {Language.DE: de, Language.EN: en}


SUPPORT_TEXTS: dict[str, dict[Language, str]] = {
    "support.title": _t("Support-Zugang", "Support access"),
    "support.lead": _t(
        "Unser Support kann Ihre Zentrale nur öffnen, solange Sie es hier erlauben. Jede "
        "Sitzung erscheint unten im Protokoll.",
        "Our support can open your hub only while you allow it here. Every session is "
        "listed in the log below.",
    ),
    "support.granted_until": _t("Support-Zugang erlaubt bis", "Support access allowed until"),
    "support.none": _t("Derzeit kein Support-Zugang erlaubt.", "No support access allowed now."),
    "support.hours": _t("Dauer in Stunden (1 bis 168)", "Duration in hours (1 to 168)"),
    "support.grant": _t("Support-Zugang erlauben", "Allow support access"),
    "support.revoke": _t("Support-Zugang beenden", "End support access"),
    "support.bad_hours": _t(
        "Bitte eine ganze Zahl von 1 bis 168 Stunden angeben.",
        "Please enter a whole number of hours from 1 to 168.",
    ),
    "support.audit": _t("Protokoll des Fernzugriffs", "Remote access log"),
    "support.who": _t("Wer", "Who"),
    "support.started": _t("Beginn", "Started"),
    "support.ended": _t("Ende", "Ended"),
    "support.requests": _t("Anfragen", "Requests"),
    "support.from": _t("Von Adresse", "From address"),
    "support.by_support": _t("Support", "support"),
    "support.no_sessions": _t("Noch keine Sitzungen.", "No sessions yet."),
    "support.history": _t("Erteilte Support-Zugänge", "Support access granted"),
    "support.revoked": _t("vorzeitig beendet", "ended early"),
}


def register() -> None:
    """Merge the texts into the shared table (refuses to override other areas)."""
    clash = {k for k in SUPPORT_TEXTS if k in TEXTS and TEXTS[k] != SUPPORT_TEXTS[k]}
    if clash:
        raise RuntimeError(f"text ids used by another area: {sorted(clash)}")
    TEXTS.update(SUPPORT_TEXTS)
