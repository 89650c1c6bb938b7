"""The rendering layer's errors.

::

    RenderingError (GatewayError)  root: no document bytes could be made from the view
     +-- IncompleteDocumentError   the view lacks data the document type requires (ValueError)
     +-- EInvoiceError             the e-invoice library rejected the XML or the PDF/A-3
"""

from __future__ import annotations

from cloud_gateway.errors import GatewayError

__all__ = ["EInvoiceError", "IncompleteDocumentError", "RenderingError"]


class RenderingError(GatewayError):
    """Root error of :mod:`cloud_gateway.billing.rendering`."""


class IncompleteDocumentError(RenderingError, ValueError):
    """The view lacks data its document type requires (e.g. a reverse charge without VAT ID)."""


class EInvoiceError(RenderingError):
    """drafthorse or factur-x rejected the document (schema violation, broken PDF)."""
