"""UI texts of the accounts area, German first; merged into :data:`cloud_gateway.i18n.TEXTS`."""

from __future__ import annotations

from cloud_gateway.errors import PasswordPolicyError
from cloud_gateway.i18n import TEXTS, Language, translate

__all__ = ["ACCOUNT_TEXTS", "policy_messages", "register"]


def _t(de: str, en: str) -> dict[Language, str]:
    return {Language.DE: de, Language.EN: en}


ACCOUNT_TEXTS: dict[str, dict[Language, str]] = {
    "customer.title": _t("Kundendaten", "Customer data"),
    "customer.lead": _t(
        "Name und Anschrift für Rechnungen; Unternehmen mit Umsatzsteuer-ID.",
        "Name and address for invoices; businesses with their VAT ID.",
    ),
    "customer.kind": _t("Kundenart", "Customer type"),
    "customer.kind.private": _t("Privatperson", "Private person"),
    "customer.kind.business": _t("Unternehmen", "Business"),
    "customer.name": _t("Name bzw. Firma", "Name or company"),
    "customer.street": _t("Straße und Hausnummer", "Street and number"),
    "customer.postcode": _t("Postleitzahl", "Postcode"),
    "customer.city": _t("Ort", "Town"),
    "customer.country": _t("Land (ISO-Code, z. B. DE)", "Country (ISO code, e.g. DE)"),
    "customer.vat_id": _t("Umsatzsteuer-ID", "VAT ID"),
    "customer.vat_hint": _t("nur Unternehmen", "businesses only"),
    "customer.corrected": _t(
        "Schreibweise für die USt-ID-Prüfung", "Spelling for the VAT ID check"
    ),
    "customer.not_accepted": _t("nicht zulässig:", "not accepted:"),
    "customer.saved": _t("Kundendaten gespeichert.", "Customer data saved."),
    "customer.vat_checked": _t("geprüft am", "checked on"),
    "customer.vat.none": _t("keine Prüfung", "not checked"),
    "customer.vat.format_invalid": _t(
        "ungültiges Format für dieses Land", "invalid format for this country"
    ),
    "customer.vat.pending": _t(
        "Prüfung läuft (der Prüfdienst ist gerade nicht erreichbar; wir versuchen es weiter)",
        "check pending (the checking service is unavailable; we keep trying)",
    ),
    "customer.vat.valid": _t("gültig", "valid"),
    "customer.vat.invalid": _t("vom Prüfdienst als ungültig gemeldet", "reported invalid"),
    "customer.eligibility.refused": _t(
        "Das Monitoring können wir Privatkunden nur mit Wohnsitz in Deutschland anbieten.",
        "Monitoring is offered to private customers resident in Germany only.",
    ),
    "customer.eligibility.service_partner": _t(
        "Für Ihr Land betreut Sie unser Servicepartner; bitte wenden Sie sich an ihn.",
        "In your country our service partner looks after you; please contact them.",
    ),
    "customer.err.kind": _t("Bitte die Kundenart wählen.", "Choose the customer type."),
    "customer.err.missing": _t(
        "Bitte Name, Straße, Ort und Land (zweistellig) angeben.",
        "Enter name, street, town and the two-letter country.",
    ),
    "customer.err.corrections": _t(
        "Einige Angaben enthalten Zeichen, die die USt-ID-Prüfung nicht annimmt. Bitte "
        "geben Sie darunter eine Schreibweise ohne diese Zeichen an (z. B. ae statt ä).",
        "Some fields contain characters the VAT check does not accept. Please enter a "
        "spelling without them below (e.g. ae for ä).",
    ),
    "portal.customer": _t("Kundendaten", "Customer data"),
    "portal.password": _t("Passwort ändern", "Change password"),
    "portal.pair": _t("Gerät koppeln", "Pair a device"),
    "register.title": _t("Registrieren", "Register"),
    "register.username": _t("Benutzername (frei wählbar)", "User name (your choice)"),
    "register.email": _t("E-Mail-Adresse", "E-mail address"),
    "register.password": _t("Passwort", "Password"),
    "register.password2": _t("Passwort wiederholen", "Repeat password"),
    "register.accept_terms": _t(
        "Ich akzeptiere die Nutzungsbedingungen", "I accept the terms of use"
    ),
    "register.accept_privacy": _t(
        "Ich akzeptiere die Datenschutzerklärung", "I accept the privacy policy"
    ),
    "register.submit": _t("Registrieren", "Register"),
    "register.sent_title": _t("Fast geschafft", "Almost done"),
    "register.sent_lead": _t(
        "Wir haben Ihnen eine E-Mail mit einem Bestätigungslink geschickt. Erst nach der "
        "Bestätigung können Sie sich anmelden.",
        "We sent you an e-mail with a confirmation link. You can log in only after confirming.",
    ),
    "register.taken": _t("Dieser Benutzername ist vergeben.", "This user name is taken."),
    "register.too_many": _t(
        "Zu viele Registrierungen von dieser Adresse. Bitte in einer Stunde erneut versuchen.",
        "Too many registrations from this address. Please try again in an hour.",
    ),
    "register.bad_username": _t(
        "Benutzername: 3 bis 64 Zeichen, Buchstaben, Ziffern, Punkt, Bindestrich, Unterstrich.",
        "User name: 3 to 64 characters, letters, digits, dot, hyphen, underscore.",
    ),
    "register.bad_email": _t("Bitte eine gültige E-Mail-Adresse angeben.", "Enter a valid e-mail."),
    "register.mismatch": _t("Die Passwörter stimmen nicht überein.", "The passwords do not match."),
    "register.need_terms": _t(
        "Bitte akzeptieren Sie Nutzungsbedingungen und Datenschutzerklärung.",
        "Please accept the terms of use and the privacy policy.",
    ),
    "confirm.title": _t("E-Mail-Adresse bestätigen", "Confirm e-mail address"),
    "confirm.submit": _t("Bestätigen und anmelden", "Confirm and log in"),
    "link.invalid": _t(
        "Dieser Link ist ungültig, abgelaufen oder wurde schon benutzt.",
        "This link is invalid, expired or already used.",
    ),
    "forgot.title": _t("Passwort vergessen", "Forgot your password"),
    "forgot.lead": _t(
        "Geben Sie Benutzername oder E-Mail-Adresse ein. Wir senden Ihnen einen Link, der "
        "einmal gilt.",
        "Enter your user name or e-mail address. We will send you a link that works once.",
    ),
    "forgot.submit": _t("Link anfordern", "Send link"),
    "forgot.sent": _t(
        "Wenn ein Konto dazu existiert, ist eine E-Mail unterwegs.",
        "If an account exists for it, an e-mail is on its way.",
    ),
    "reset.title": _t("Neues Passwort festlegen", "Choose a new password"),
    "reset.submit": _t("Passwort speichern", "Save password"),
    "reset.done": _t(
        "Ihr Passwort wurde geändert. Bitte melden Sie sich an.",
        "Your password was changed. Please log in.",
    ),
    "change.title": _t("Passwort ändern", "Change password"),
    "change.expired": _t(
        "Ihr Passwort ist abgelaufen. Bitte legen Sie ein neues fest.",
        "Your password has expired. Please choose a new one.",
    ),
    "change.current": _t("Aktuelles Passwort", "Current password"),
    "change.new": _t("Neues Passwort", "New password"),
    "change.done": _t("Ihr Passwort wurde geändert.", "Your password was changed."),
    "password.rules": _t(
        "Mindestens 8 Zeichen mit Buchstabe, Ziffer und Sonderzeichen "
        "(!@#$%^&*_-+=;:|./?()[]{}<>). Die letzten 8 Passwörter sind gesperrt.",
        "At least 8 characters with a letter, a digit and a special character "
        "(!@#$%^&*_-+=;:|./?()[]{}<>). The last 8 passwords cannot be reused.",
    ),
    "password.too_short": _t("Das Passwort ist zu kurz.", "The password is too short."),
    "password.no_letter": _t("Es fehlt ein Buchstabe.", "A letter is missing."),
    "password.no_digit": _t("Es fehlt eine Ziffer.", "A digit is missing."),
    "password.no_special": _t("Es fehlt ein Sonderzeichen.", "A special character is missing."),
    "password.reused": _t(
        "Dieses Passwort wurde kürzlich schon verwendet.", "This password was used recently."
    ),
    "password.too_recent": _t(
        "Das Passwort wurde vor weniger als 2 Tagen geändert.",
        "The password was changed less than 2 days ago.",
    ),
    "password.wrong_password": _t(
        "Das aktuelle Passwort ist falsch.", "The current password is wrong."
    ),
    "login.locked": _t(
        "Zu viele Fehlversuche. Bitte versuchen Sie es in 15 Minuten erneut.",
        "Too many failed attempts. Please try again in 15 minutes.",
    ),
    "login.unverified": _t(
        "Bitte bestätigen Sie zuerst Ihre E-Mail-Adresse über den Link in unserer E-Mail.",
        "Please confirm your e-mail address first with the link in our e-mail.",
    ),
    "terms.title": _t("Neue Nutzungsbedingungen", "New terms of use"),
    "terms.lead": _t(
        "Unsere Nutzungsbedingungen oder die Datenschutzerklärung wurden geändert. Bitte "
        "akzeptieren Sie die neuen Fassungen, um den Dienst (auch die App) weiter zu nutzen.",
        "Our terms of use or privacy policy changed. Please accept the new versions to keep "
        "using the service (the app included).",
    ),
    "terms.terms": _t("Nutzungsbedingungen", "Terms of use"),
    "terms.privacy": _t("Datenschutzerklärung", "Privacy policy"),
    "terms.version": _t("Fassung", "Version"),
    "terms.accept": _t("Akzeptieren", "Accept"),
    "account.password_link": _t("Passwort ändern", "Change password"),
    "account.customer_link": _t("Kundendaten", "Customer data"),
}


def register() -> None:
    """Merge the texts into the shared table (idempotent; refuses to override other areas)."""
    clash = {k for k in ACCOUNT_TEXTS if k in TEXTS and TEXTS[k] != ACCOUNT_TEXTS[k]}
    if clash:
        raise RuntimeError(f"text ids used by another area: {sorted(clash)}")
    TEXTS.update(ACCOUNT_TEXTS)


def policy_messages(lang: Language, error: PasswordPolicyError) -> list[str]:
    """The broken password rules in the user's language."""
    return [translate(lang, f"password.{v}") for v in error.violations]
