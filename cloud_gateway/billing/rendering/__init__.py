"""Documents as their customer sees them: EN 16931 CII XML, PDF/A-3 page, GiroCode.

The input is a :class:`~cloud_gateway.billing.rendering.view.DocumentView`, a frozen picture of a
finalised (or pro-forma) document; rendering is pure and never changes it.
:func:`render_document` gives the PDF/A-3 with the CII XML attached as ``factur-x.xml``
(Factur-X / ZUGFeRD profile EN16931); :func:`render_xml` the XML alone.
"""

from __future__ import annotations

from cloud_gateway.billing.rendering.cii import render_cii
from cloud_gateway.billing.rendering.errors import (
    EInvoiceError,
    IncompleteDocumentError,
    RenderingError,
)
from cloud_gateway.billing.rendering.pdfa import render_document
from cloud_gateway.billing.rendering.view import DocumentView

__all__ = [
    "EInvoiceError",
    "IncompleteDocumentError",
    "RenderingError",
    "render_document",
    "render_xml",
]


def render_xml(view: DocumentView) -> bytes:
    """The EN 16931 CII XML of ``view`` (UTF-8)."""
    return render_cii(view)
