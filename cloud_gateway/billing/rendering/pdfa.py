"""The complete document: the page made PDF/A-3 with the CII XML attached (``factur-x``)."""

from __future__ import annotations

import io
import logging
import re
from datetime import UTC, date, datetime, time
from typing import Final

import facturx

from cloud_gateway.billing.rendering.cii import render_cii
from cloud_gateway.billing.rendering.errors import EInvoiceError
from cloud_gateway.billing.rendering.girocode import girocode
from cloud_gateway.billing.rendering.labels import labels_for
from cloud_gateway.billing.rendering.pdf import render_page
from cloud_gateway.billing.rendering.view import DocumentView

__all__ = ["render_document"]

_LOGGER = logging.getLogger(__name__)
_LANG_TAGS: Final = {"de": "de-DE", "en": "en-GB"}


def render_document(view: DocumentView) -> bytes:
    """The PDF/A-3 of ``view`` with its EN 16931 CII XML attached as ``factur-x.xml``."""
    xml = render_cii(view)
    page = render_page(view, girocode(view))
    labels = labels_for(view.language, view.currency)
    title = f"{labels.title(view.kind)} {view.number}"
    metadata = {
        "author": view.seller.name,
        "keywords": "Factur-X, ZUGFeRD, EN 16931",
        "title": title,
        "subject": f"{title}, {labels.date(view.issue_date)}, {view.buyer.name}",
    }
    # factur-x's generate_from_binary goes through a named temporary file that pypdf then reads
    # byte by byte through tempfile's wrapper (a third of the time of a document);
    # generate_from_file does the same work on an in-memory file and writes the result back
    # into it from the start, so the new file is everything before the final position.
    buffer = io.BytesIO(page)
    try:
        facturx.generate_from_file(
            buffer,
            xml,
            flavor="factur-x",
            level="en16931",
            check_xsd=False,  # the XML was checked against the EN16931 XSD already
            pdf_metadata=metadata,
            lang=_LANG_TAGS[view.language],
            xmp_compression=False,  # plain XMP, so its timestamps can be pinned below
        )
    except Exception as exc:  # factur-x raises bare exceptions of pypdf and lxml
        raise EInvoiceError(f"document {view.number}: PDF/A-3 failed: {exc}") from exc
    pdf = buffer.getvalue()[: buffer.tell()]
    if not pdf.startswith(b"%PDF-") or not pdf.rstrip().endswith(b"%%EOF"):
        raise EInvoiceError(f"document {view.number}: factur-x wrote no complete PDF")
    pdf = _pin_timestamps(pdf, view.issue_date)
    _LOGGER.debug("rendered %s %s: %d bytes", view.kind, view.number, len(pdf))
    return pdf


_PDF_DATE = re.compile(rb"\(D\\072\d{14}")
"""A PDF date as factur-x writes it (``:`` escaped as ``\\072``)."""
_XMP_DATE = re.compile(rb">\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00<")
"""A UTC instant between XMP tags."""


def _pin_timestamps(pdf: bytes, issued: date) -> bytes:
    """Replace factur-x's "now" by the issue date (00:00 UTC): same view, same bytes.

    factur-x stamps the wall clock into the info dictionary, the attachment and the XMP packet
    and takes no date. Every date in those two spellings is pinned; both keep their length, so
    the cross-reference offsets stay right.
    """
    pinned = datetime.combine(issued, time(0), tzinfo=UTC)
    pdf_date = b"(D\\072" + pinned.strftime("%Y%m%d%H%M%S").encode()
    xmp_date = pinned.strftime(">%Y-%m-%dT%H:%M:%S+00:00<").encode()
    pdf = _PDF_DATE.sub(lambda _m: pdf_date, pdf)
    return _XMP_DATE.sub(lambda _m: xmp_date, pdf)
