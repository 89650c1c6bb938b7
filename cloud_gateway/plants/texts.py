"""The plants area's UI texts, German first; merged into :data:`cloud_gateway.i18n.TEXTS`."""

from __future__ import annotations

from cloud_gateway.i18n import TEXTS, Language

__all__ = ["PLANT_TEXTS", "register"]

_DE, _EN = Language.DE, Language.EN


def _t(de: str, en: str) -> dict[Language, str]:
    return {_DE: de, _EN: en}


PLANT_TEXTS: dict[str, dict[Language, str]] = {
    "plants.title": _t("Anlagen", "Plants"),
    "plants.window.trial": _t("Testphase", "Trial"),
    "plants.window.licence": _t("Lizenz", "Licence"),
    "plants.window.grant": _t(
        "Freischaltung durch den Betreiber", "Access granted by the operator"
    ),
    "plants.window_until": _t(
        "{kind} bis einschließlich {day} (noch {days} Tage)",
        "{kind} until {day} inclusive ({days} days left)",
    ),
    "plants.trial_ends_soon": _t(
        "Die Testphase endet am {day}. Mit einer Lizenz geht die Überwachung ohne Unterbrechung "
        "weiter.",
        "The trial ends on {day}. With a licence, monitoring continues without a break.",
    ),
    "plants.none": _t("Noch keine Anlage angelegt.", "No plant yet."),
    "plants.new": _t("Anlage hinzufügen", "Add plant"),
    "plants.edit": _t("Anlage bearbeiten", "Edit plant"),
    "plants.delete": _t("Anlage löschen", "Delete plant"),
    "plants.save": _t("Speichern", "Save"),
    "plants.add": _t("Hinzufügen", "Add"),
    "plants.name": _t("Anlagenname", "Plant name"),
    "plants.description": _t("Beschreibung", "Description"),
    "plants.module_name": _t("Modulbezeichnung", "Module name"),
    "plants.latitude": _t("Breitengrad", "Latitude"),
    "plants.longitude": _t("Längengrad", "Longitude"),
    "plants.postcode": _t("Postleitzahl", "Postcode"),
    "plants.town": _t("Ort", "Town"),
    "plants.country": _t("Land (ISO-Code)", "Country (ISO code)"),
    "plants.temp_coefficient": _t(
        "Leistungstemperaturkoeffizient (%/K)", "Power temperature coefficient (%/K)"
    ),
    "plants.azimuth_deg": _t(
        "Ausrichtung (Azimut, 180° = Süd)", "Orientation (azimuth, 180° = south)"
    ),
    "plants.tilt_deg": _t("Neigung (°)", "Tilt (°)"),
    "plants.module_area_m2": _t("Modulfläche (m²)", "Module area (m²)"),
    "plants.feed_in_tariff_ct": _t("Einspeisetarif (ct/kWh)", "Feed-in tariff (ct/kWh)"),
    "plants.plant_type": _t("Anlagentyp", "Plant type"),
    "plants.type.pv": _t("PV", "PV"),
    "plants.type.pv_thermal": _t("PV-Thermieanlage", "PV thermal (hot water)"),
    "plants.public": _t("Öffentliche Anlage", "Public plant"),
    "plants.power_now": _t("Aktuelle Leistung", "Power now"),
    "plants.energy_today": _t("Tagesenergie", "Energy today"),
    "plants.chart": _t("Leistung heute", "Power today"),
    "plants.no_data": _t("Heute noch keine Messwerte.", "No readings today yet."),
    "plants.unlicensed": _t(
        "Für diese Anlage besteht kein gültiger Testzeitraum und keine Lizenz. Die Daten "
        "werden weiter gespeichert, aber erst mit einer Lizenz angezeigt.",
        "This plant has no valid trial or licence. Its data is still stored but shown only "
        "with a licence.",
    ),
    "plants.inverters": _t("Wechselrichterliste", "Inverter list"),
    "plants.inverter": _t("Wechselrichter", "Inverter"),
    "plants.no_inverters": _t("Noch keine Wechselrichter.", "No inverters yet."),
    "plants.add_inverter": _t("Wechselrichter hinzufügen", "Add inverter"),
    "plants.add_list": _t("Wechselrichterliste hinzufügen", "Add inverter list"),
    "plants.serial": _t("Seriennummer", "Serial number"),
    "plants.code": _t("Aktivierungscode", "Activation code"),
    "plants.inverter_name": _t("Bezeichnung", "Name"),
    "plants.nominal_power": _t("Nennleistung", "Nominal power"),
    "plants.unknown_type": _t("Unbekannt (20.000 W angenommen)", "Unknown (20,000 W assumed)"),
    "plants.swap": _t("Wechselrichter tauschen", "Swap inverter"),
    "plants.swap_lead": _t(
        "Der neue Wechselrichter übernimmt Platz und Verlauf des alten.",
        "The new inverter takes over the old one's place and history.",
    ),
    "plants.delete_inverter": _t("Wechselrichter löschen", "Delete inverter"),
    "plants.rename": _t("Bezeichnung ändern", "Rename"),
    "plants.renamed": _t("Bezeichnung gespeichert.", "Name saved."),
    "plants.swapped": _t(
        "Wechselrichter getauscht: der neue übernimmt Platz und Verlauf.",
        "Inverter swapped: the new one takes over place and history.",
    ),
    "plants.new_serial": _t("Seriennummer des neuen Geräts", "Serial number of the new device"),
    "plants.manufacturer": _t("Hersteller und Modell", "Manufacturer and model"),
    "plants.activated": _t("Aktiviert am", "Activated on"),
    "plants.template": _t("Vorlage herunterladen", "Download template"),
    "plants.upload": _t("Liste hochladen (XLSX oder CSV)", "Upload list (XLSX or CSV)"),
    "plants.upload_added": _t("Hinzugefügt", "Added"),
    "plants.upload_refused": _t("Nicht übernommen", "Not taken"),
    "plants.line": _t("Zeile", "Line"),
    "plants.reason": _t("Grund", "Reason"),
    "plants.err.required": _t("Bitte ausfüllen.", "Required."),
    "plants.err.too_long": _t("Zu lang.", "Too long."),
    "plants.err.number": _t("Bitte eine Zahl eingeben.", "Enter a number."),
    "plants.err.range": _t("Wert außerhalb des erlaubten Bereichs.", "Value out of range."),
    "plants.err.precision": _t("Höchstens drei Nachkommastellen.", "At most three decimals."),
    "plants.err.country": _t("Zweistelliger Ländercode, z. B. DE.", "Two-letter code, e.g. DE."),
    "plants.err.choice": _t("Ungültige Auswahl.", "Invalid choice."),
    "plants.err.text": _t("Bitte einen Text eingeben.", "Enter a text."),
    "plants.err.flag": _t("Bitte ja oder nein angeben.", "Enter yes or no."),
    "plants.err.serial": _t("Ungültige Seriennummer.", "Invalid serial number."),
    "plants.err.wrong_code": _t(
        "Der Aktivierungscode passt nicht zu dieser Seriennummer. Er steht auf dem "
        "Typenschild des Wechselrichters.",
        "The activation code does not match this serial number. It is printed on the "
        "inverter's label.",
    ),
    "plants.err.rate_limited": _t(
        "Zu viele falsche Aktivierungscodes. Bitte versuchen Sie es später erneut.",
        "Too many wrong activation codes. Please try again later.",
    ),
    "plants.err.taken": _t(
        "Dieser Wechselrichter ist bereits registriert.", "This inverter is already registered."
    ),
    "plants.row.missing_serial": _t("Seriennummer fehlt", "Serial number missing"),
    "plants.row.bad_serial": _t("Ungültige Seriennummer", "Invalid serial number"),
    "plants.row.missing_code": _t("Aktivierungscode fehlt", "Activation code missing"),
    "plants.row.malformed_code": _t(
        "Aktivierungscode hat nicht die Form XXXXX-XXXXX", "Activation code is not XXXXX-XXXXX"
    ),
    "plants.row.wrong_code": _t("Aktivierungscode falsch", "Wrong activation code"),
    "plants.row.duplicate": _t("Doppelt in der Liste", "Twice in the list"),
    "plants.row.taken": _t("Bereits registriert", "Already registered"),
    "plants.row.rate_limited": _t(
        "Nicht geprüft: zu viele falsche Codes", "Not checked: too many wrong codes"
    ),
    "plants.sheet.empty": _t("Die Datei ist leer.", "The file is empty."),
    "plants.sheet.header": _t(
        "Kopfzeile mit Seriennummer und Aktivierungscode fehlt.",
        "Header row with serial number and activation code missing.",
    ),
    "plants.sheet.too_many": _t("Zu viele Zeilen (höchstens 1000).", "Too many rows (1000 max)."),
    "plants.sheet.too_large": _t(
        "Die Datei ist zu groß (1 MiB, entpackt 8 MiB).",
        "The file is too large (1 MiB, 8 MiB unpacked).",
    ),
    "plants.sheet.too_wide": _t(
        "Eine Zeile hat zu viele Zellen (höchstens 64). Bitte nur die Spalten Seriennummer, "
        "Aktivierungscode und Name verwenden.",
        "A row has too many cells (64 max). Please use only the columns serial number, "
        "activation code and name.",
    ),
    "plants.sheet.too_many_cells": _t(
        "Die Tabelle hat zu viele Zellen (höchstens 20.000). Bitte nur die Spalten "
        "Seriennummer, Aktivierungscode und Name verwenden.",
        "The sheet has too many cells (20,000 max). Please use only the columns serial "
        "number, activation code and name.",
    ),
    "plants.sheet.field_too_long": _t(
        "Ein Feld ist zu lang (höchstens 131.072 Zeichen).",
        "A field is too long (131,072 characters max).",
    ),
    "plants.sheet.unreadable": _t(
        "Die Datei ist keine lesbare XLSX- oder CSV-Datei.",
        "The file is not a readable XLSX or CSV.",
    ),
}


def register() -> None:
    """Merge the texts into the shared table (idempotent; refuses to override other areas)."""
    clash = {k for k in PLANT_TEXTS if k in TEXTS and TEXTS[k] != PLANT_TEXTS[k]}
    if clash:
        raise RuntimeError(f"text ids used by another area: {sorted(clash)}")
    TEXTS.update(PLANT_TEXTS)
