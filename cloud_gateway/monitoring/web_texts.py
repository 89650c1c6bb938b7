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
    "monitoring.day_back": _t("Einen Tag zurück", "One day back"),
    "monitoring.day_forward": _t("Einen Tag vor", "One day forward"),
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
    "monitoring.dc_voltage": _t("DC-Spannung", "DC voltage"),
    "monitoring.dc_current": _t("DC-Strom", "DC current"),
    "monitoring.temp_cabinet": _t("Temperatur Gehäuse", "Cabinet temperature"),
    "monitoring.temp_heat_sink": _t("Temperatur Kühlkörper", "Heat sink temperature"),
    "monitoring.mppt": _t("DC-Eingänge (MPP-Tracker)", "DC inputs (MPP trackers)"),
    "monitoring.mppt_input": _t("Eingang", "Input"),
    "monitoring.events": _t("Ereignisse (SunSpec)", "Events (SunSpec)"),
    "monitoring.events_none": _t("Keine Ereignisse.", "No events."),
    "monitoring.event_on": _t("aufgetreten", "raised"),
    "monitoring.event_off": _t("behoben", "cleared"),
    # SunSpec inverter models 101-103, Evt1 bits
    "monitoring.evt.0": _t("Erdschluss", "Ground fault"),
    "monitoring.evt.1": _t("DC-Überspannung", "DC over-voltage"),
    "monitoring.evt.2": _t("AC getrennt", "AC disconnect open"),
    "monitoring.evt.3": _t("DC getrennt", "DC disconnect open"),
    "monitoring.evt.4": _t("Netz getrennt", "Grid disconnect"),
    "monitoring.evt.5": _t("Gehäuse offen", "Cabinet open"),
    "monitoring.evt.6": _t("Manuell abgeschaltet", "Manual shutdown"),
    "monitoring.evt.7": _t("Übertemperatur", "Over-temperature"),
    "monitoring.evt.8": _t("Überfrequenz", "Frequency above limit"),
    "monitoring.evt.9": _t("Unterfrequenz", "Frequency under limit"),
    "monitoring.evt.10": _t("AC-Überspannung", "AC voltage above limit"),
    "monitoring.evt.11": _t("AC-Unterspannung", "AC voltage under limit"),
    "monitoring.evt.12": _t("Strangsicherung ausgelöst", "Blown string fuse"),
    "monitoring.evt.13": _t("Untertemperatur", "Under-temperature"),
    "monitoring.evt.14": _t("Speicherfehler", "Memory loss"),
    "monitoring.evt.15": _t("Hardwaretest fehlgeschlagen", "Hardware test failure"),
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
