"""Checks of a SEPA credit-transfer file (pain.001.001.03) as the bank would read it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from importlib import resources

import xmlschema

__all__ = ["SELLER_IBAN", "check_pain001", "creditor_name"]

SELLER_IBAN = "DE02120300000000202051"
"""The seller's account in the default billing configuration (the debtor of refunds)."""

_NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}


def check_pain001(xml: bytes, amount: str, iban: str) -> ET.Element:
    """Validate ``xml`` against the XSD ``sepaxml`` ships and check that it is one transfer
    of ``amount`` (euros, ``"670.70"``) from the seller to ``iban``; the parsed root."""
    schema = resources.files("sepaxml") / "schemas" / "pain.001.001.03.xsd"
    xmlschema.XMLSchema(str(schema)).validate(xml.decode())
    root = ET.fromstring(xml)
    assert root.findtext(".//p:GrpHdr/p:NbOfTxs", namespaces=_NS) == "1"
    assert root.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=_NS) == amount
    assert root.findtext(".//p:CdtrAcct/p:Id/p:IBAN", namespaces=_NS) == iban
    assert root.findtext(".//p:DbtrAcct/p:Id/p:IBAN", namespaces=_NS) == SELLER_IBAN
    return root


def creditor_name(root: ET.Element) -> str | None:
    """The payee's name in a checked file."""
    return root.findtext(".//p:Cdtr/p:Nm", namespaces=_NS)
