"""Alert texts, German first, English switchable: mails for opened and closed alerts, labels.

Pure: an :class:`~cloud_gateway.monitoring.alert_state.AlertEvent` plus the names the shell
looked up go in, subject and body come out. Keys of :data:`MONITORING_TEXTS` follow
``cloud_gateway.i18n.TEXTS`` (the language codes ``"de"``/``"en"`` equal ``Language`` members),
so the web layer can merge them as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from cloud_gateway.monitoring.alert_state import AlertEvent, AlertReason, AlertRule, EventType

__all__ = ["MONITORING_TEXTS", "AlertMail", "alert_mail"]

_BERLIN = ZoneInfo("Europe/Berlin")


def _t(de: str, en: str) -> dict[str, str]:
    return {"de": de, "en": en}


MONITORING_TEXTS: dict[str, dict[str, str]] = {
    "monitoring.rule.no_data": _t("Keine Daten", "No data"),
    "monitoring.rule.below_best": _t(
        "Weniger Ertrag als der beste Wechselrichter", "Less yield than the best inverter"
    ),
    "monitoring.rule.below_forecast": _t("Weniger Ertrag als erwartet", "Less yield than expected"),
    "monitoring.alerts": _t("Alarme", "Alerts"),
    "monitoring.alert_since": _t("seit", "since"),
    "monitoring.mute": _t("Alarme stummschalten", "Mute alerts"),
    "monitoring.muted": _t("Alarme stummgeschaltet", "Alerts muted"),
    "monitoring.forecast": _t("Erwartet (klarer Himmel)", "Expected (clear sky)"),
    "monitoring.forecast_missing": _t(
        "Für die Prognose fehlen Angaben zur Anlage: {fields}",
        "The forecast needs more plant data: {fields}",
    ),
}

_OPENED_SUBJECT = _t(
    "Alarm: {plant}, {inverter}: {rule}",
    "Alert: {plant}, {inverter}: {rule}",
)
_CLOSED_SUBJECT = _t(
    "Entwarnung: {plant}, {inverter}: {rule}",
    "Resolved: {plant}, {inverter}: {rule}",
)
_DETAIL: dict[AlertRule, dict[str, str]] = {
    AlertRule.NO_DATA: _t(
        "Der Wechselrichter hat seit {value} bei Tageslicht keine Messwerte gesendet "
        "(eingestellt: {threshold}).",
        "The inverter has sent no readings for {value} of daylight (set: {threshold}).",
    ),
    AlertRule.BELOW_BEST: _t(
        "Der Wechselrichter erzeugt je kWp {value} weniger als der beste Wechselrichter "
        "der Anlage (eingestellt: {threshold}).",
        "The inverter produces {value} less per kWp than the plant's best inverter "
        "(set: {threshold}).",
    ),
    AlertRule.BELOW_FORECAST: _t(
        "Der Wechselrichter hat heute {value} weniger Energie erzeugt als bei klarem Himmel "
        "erwartet (eingestellt: {threshold}).",
        "The inverter produced {value} less energy today than expected under a clear sky "
        "(set: {threshold}).",
    ),
}
_BODY_OPENED = _t(
    "Guten Tag,\n\nfür Ihre Anlage „{plant}“ wurde am {at} ein Alarm ausgelöst.\n\n"
    "Wechselrichter: {inverter}\n{detail}\n\n"
    "Sie erhalten eine weitere Nachricht, sobald der Alarm endet.\n",
    'Hello,\n\nan alert was raised for your plant "{plant}" on {at}.\n\n'
    "Inverter: {inverter}\n{detail}\n\n"
    "You will get another message when the alert ends.\n",
)
_BODY_CLOSED = _t(
    "Guten Tag,\n\nder Alarm „{rule}“ für den Wechselrichter {inverter} Ihrer Anlage "
    "„{plant}“ ist am {at} beendet ({why}). Er bestand seit {opened}.\n",
    'Hello,\n\nthe alert "{rule}" for inverter {inverter} of your plant "{plant}" ended '
    "on {at} ({why}). It had been open since {opened}.\n",
)
_WHY: dict[AlertReason, dict[str, str]] = {
    AlertReason.RECOVERED: _t("der Wechselrichter arbeitet wieder normal", "back to normal"),
    AlertReason.RULE_OFF: _t("Alarmart abgeschaltet", "alert kind switched off"),
    AlertReason.INVERTER_GONE: _t("Wechselrichter entfernt", "inverter removed"),
    AlertReason.UNLICENSED: _t("keine gültige Lizenz", "no valid licence"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertMail:
    """Subject and plain-text body of an alert mail."""

    subject: str
    body: str


def _instant(at: datetime, language: str, tz: ZoneInfo) -> str:
    local = at.astimezone(tz)
    if language == "de":
        return local.strftime("%d.%m.%Y um %H:%M Uhr")
    return local.strftime("%Y-%m-%d at %H:%M")


def _duration(seconds: float, language: str) -> str:
    minutes = round(seconds / 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = f"{minutes / 60:.1f}"
    return (hours.replace(".", ",") + " Stunden") if language == "de" else f"{hours} hours"


def _share(value: float, language: str) -> str:
    text = f"{value * 100:.0f} %"
    return text if language == "de" else text.replace(" %", "%")


def _figures(event: AlertEvent, language: str) -> tuple[str, str]:
    if event.key.rule is AlertRule.NO_DATA:
        return _duration(event.value, language), _duration(event.threshold, language)
    return _share(event.value, language), _share(event.threshold, language)


def alert_mail(
    event: AlertEvent,
    *,
    language: str,
    plant_name: str,
    inverter_name: str,
    tz: ZoneInfo = _BERLIN,
) -> AlertMail:
    """The mail for ``event`` in ``language`` (``"de"`` or ``"en"``; other codes get German)."""
    lang = language if language in {"de", "en"} else "de"
    rule = MONITORING_TEXTS[f"monitoring.rule.{event.key.rule.value}"][lang]
    names = {"plant": plant_name, "inverter": inverter_name, "rule": rule}
    if event.type is EventType.OPENED:
        value, threshold = _figures(event, lang)
        detail = _DETAIL[event.key.rule][lang].format(value=value, threshold=threshold)
        return AlertMail(
            subject=_OPENED_SUBJECT[lang].format(**names),
            body=_BODY_OPENED[lang].format(**names, at=_instant(event.at, lang, tz), detail=detail),
        )
    why = _WHY.get(event.reason, _WHY[AlertReason.RECOVERED])[lang]
    return AlertMail(
        subject=_CLOSED_SUBJECT[lang].format(**names),
        body=_BODY_CLOSED[lang].format(
            **names,
            at=_instant(event.at, lang, tz),
            opened=_instant(event.opened_at, lang, tz),
            why=why,
        ),
    )
