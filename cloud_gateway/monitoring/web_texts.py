"""The monitoring pages' texts (German first, English switchable), merged into ``i18n.TEXTS``."""

from __future__ import annotations

from cloud_gateway.i18n import TEXTS, Language
from cloud_gateway.monitoring.texts import MONITORING_TEXTS

__all__ = ["register"]


def _t(de: str, en: str) -> dict[str, str]:
    return {"de": de, "en": en}


PAGE_TEXTS: dict[str, dict[str, str]] = {
    "public.plants": _t("Öffentliche Anlagen", "Public plants"),
    "public.map": _t("Karte der öffentlichen Anlagen", "Map of public plants"),
    "public.to_map": _t("Zur Karte", "Show map"),
    "public.to_list": _t("Zur Liste", "Show list"),
    "public.none": _t("Noch keine öffentlichen Anlagen.", "No public plants yet."),
    "public.col.country": _t("Land", "Country"),
    "public.col.postcode": _t("PLZ", "Postcode"),
    "public.col.town": _t("Ort", "Town"),
    "public.col.generator_w": _t("Generatorleistung (kWp)", "Generator power (kWp)"),
    "public.col.ac_power_w": _t("AC-Leistung (kW)", "AC power (kW)"),
    "public.col.energy_today_wh": _t("Ertrag heute (kWh)", "Energy today (kWh)"),
    "public.col.energy_total_wh": _t("Gesamtertrag (kWh)", "Total energy (kWh)"),
    "public.page": _t("Seite", "Page"),
    "public.previous": _t("zurück", "previous"),
    "public.next": _t("weiter", "next"),
    "public.total": _t("Anlagen insgesamt", "plants in total"),
    "public.no_marker": _t("ohne Standort (kein Marker)", "without location (no marker)"),
    "start.public": _t("Öffentliche Anlagen ansehen", "See public plants"),
    "monitoring.settings": _t("Alarmeinstellungen", "Alert settings"),
    "monitoring.no_data_after": _t(
        "Keine Daten nach (Minuten bei Tageslicht, leer = aus)",
        "No data after (daylight minutes, empty = off)",
    ),
    "monitoring.below_best_share": _t(
        "Weniger als der beste Wechselrichter ab (%, leer = aus)",
        "Less than the best inverter from (%, empty = off)",
    ),
    "monitoring.below_best_window": _t(
        "Vergleichsfenster (Minuten)", "Comparison window (minutes)"
    ),
    "monitoring.min_irradiance": _t("Mindesteinstrahlung (W/m²)", "Minimum irradiance (W/m²)"),
    "monitoring.below_forecast_share": _t(
        "Weniger als die Prognose ab (%, leer = aus)",
        "Less than the forecast from (%, empty = off)",
    ),
    "monitoring.save": _t("Speichern", "Save"),
    "monitoring.saved": _t("Gespeichert.", "Saved."),
    "monitoring.invalid": _t("Bitte Eingaben prüfen.", "Please check the values."),
    "monitoring.open_alerts": _t("Offene Alarme", "Open alerts"),
    "monitoring.no_open_alerts": _t("Keine offenen Alarme.", "No open alerts."),
    "monitoring.closed_alerts": _t("Beendete Alarme", "Closed alerts"),
    "monitoring.inverter": _t("Wechselrichter", "Inverter"),
    "monitoring.opened_at": _t("Beginn", "Start"),
    "monitoring.closed_at": _t("Ende", "End"),
    "monitoring.back": _t("Zur Anlage", "Back to the plant"),
    "monitoring.alerts_link": _t("Alarme und Prognose", "Alerts and forecast"),
    "monitoring.live": _t("Live-Werte", "Live values"),
    "monitoring.power": _t("Leistung", "Power"),
    "monitoring.energy_today": _t("Ertrag heute", "Energy today"),
    "monitoring.energy_total": _t("Gesamtertrag", "Total energy"),
    "monitoring.dc_power": _t("DC-Leistung", "DC power"),
    "monitoring.state": _t("Status", "State"),
    "monitoring.last_reading": _t("Letzter Messwert", "Last reading"),
}


def register() -> None:
    """Merge the texts into the shared table (idempotent; refuses to override other areas)."""
    mine = {
        key: {Language(code): text for code, text in entry.items()}
        for key, entry in (MONITORING_TEXTS | PAGE_TEXTS).items()
    }
    clash = {k for k in mine if k in TEXTS and TEXTS[k] != mine[k]}
    if clash:
        raise RuntimeError(f"text ids used by another area: {sorted(clash)}")
    TEXTS.update(mine)
